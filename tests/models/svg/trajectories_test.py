"""Tests of the trajectory distributions (thesis Fig. 6.5 / 6.7): localiser, statistics, runs."""

import json
import os
import shutil
import tempfile
from unittest import mock

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tests import test_case
from tests.evaluation import evaluate_test
from tests.train import trainer_test
from tfgen.data import smmnist
from tfgen.models.svg import trajectories
from tfgen.train import workdir as workdir_lib


def tiny_workdir(directory, model="svg_lp", num_digits=1, dataset="smmnist", checkpoint=True):
  """A trainer-layout work directory of a tiny untrained model (context 2, future 2).

  Args:
    directory: created here.
    model: config name, e.g. "svg_lp" or "svg_det".
    num_digits: SM-MNIST digits of the run.
    dataset: the config's `data.name` (only written, never built).
    checkpoint: also save the initial weights under the trainer's checkpoint keys.

  Returns:
    `directory`.
  """
  config = trainer_test.tiny_config(model, steps=2, batch_size=2)
  config.data.options.num_digits = num_digits
  config.data.name = dataset
  return evaluate_test.untrained_workdir(model, directory, config=config,
                                         checkpoint=checkpoint)


def source(velocity_distribution="uniform", num_frames=12, seed=0, **kwargs):
  return smmnist.StochasticMovingMNIST(
      "test", num_digits=1, num_frames=num_frames, velocity_distribution=velocity_distribution,
      seed=seed, data_dir=test_case.test_data_dir(), **kwargs)


class LocalizerTest(test_case.TestCase):

  @parameterized.product(velocity_distribution=("uniform", "nonuniform"),
                                   method=trajectories.LOCALIZERS)
  def test_recovers_true_positions_of_ground_truth_frames(self, velocity_distribution, method):
    data = source(velocity_distribution, num_frames=15, seed=7)
    sequences = [data.sequence(i) for i in range(60)]
    frames = np.stack([s["frames"] for s in sequences])  # (60, 15, 64, 64, 1)
    templates = data.digit_images(np.stack([s["digit_indices"][0] for s in sequences]))
    found = trajectories.localize(frames, templates, method).numpy()
    self.assertEqual(found.shape, (60, 15, 2))
    self.assertAllEqual(found, np.stack([s["positions"][:, 0] for s in sequences]))

  @parameterized.parameters(*trajectories.LOCALIZERS)
  def test_scores_match_a_direct_correlation(self, method):
    rng = np.random.default_rng(0)
    frames = rng.random((2, 3, 9, 11)).astype(np.float32)  # Non-square, odd sizes.
    frames[0, 0] = 0.0  # A blank frame: NCC 0 everywhere.
    templates = rng.random((2, 4, 5)).astype(np.float32)
    scores = trajectories.correlation_scores(frames, templates, method).numpy()
    self.assertEqual(scores.shape, (2, 3, 6, 7))
    for b in range(2):
      template = templates[b] - (templates[b].mean() if method != "raw" else 0.0)
      for m in range(3):
        for y in range(6):
          for x in range(7):
            window = frames[b, m, y:y + 4, x:x + 5].astype(np.float64)
            expected = (window * template).sum()
            if method == "ncc":
              norm = np.linalg.norm(window - window.mean()) * np.linalg.norm(template)
              expected = expected / norm if norm > 0 else 0.0
            self.assertAllClose(scores[b, m, y, x], expected, atol=1e-4)

  def test_leading_axes_and_unknown_method(self):
    data = source(num_frames=4)
    sequence = data.sequence(3)
    frames = np.broadcast_to(sequence["frames"], (2, 3) + sequence["frames"].shape)
    template = data.digit_images(sequence["digit_indices"][:1])
    found = trajectories.localize(frames, np.repeat(template, 2, axis=0)).numpy()
    self.assertEqual(found.shape, (2, 3, 4, 2))
    self.assertAllEqual(found[1, 2], sequence["positions"][:, 0])
    with self.assertRaisesRegex(ValueError, "Unknown localiser 'fft'; valid: ncc"):
      trajectories.localize(frames, template, "fft")


class StatisticsTest(test_case.TestCase):

  def test_total_variation(self):
    self.assertAllClose(trajectories.total_variation([1, 0], [0, 1]), 1.0)
    self.assertAllClose(trajectories.total_variation([[2, 2]], [[5, 5]]), 0.0)
    # Counts are normalised: (0.75, 0.25) vs (0.5, 0.5).
    self.assertAllClose(trajectories.total_variation([3, 1], [1, 1]), 0.25)
    self.assertAllClose(trajectories.total_variation([1, 1, 2], [0, 2, 2]), 0.25)
    with self.assertRaisesRegex(ValueError, "different shapes"):
      trajectories.total_variation([1, 0], [1, 0, 0])
    with self.assertRaisesRegex(ValueError, "positive total"):
      trajectories.total_variation([0, 0], [1, 0])

  def test_wasserstein(self):
    self.assertAllClose(trajectories.wasserstein_1d([0], [3]), 3.0)
    self.assertAllClose(trajectories.wasserstein_1d([0, 1], [1, 0]), 0.0)
    # CDFs 0.5 vs 0.25 on [0, 1): 0.25.
    self.assertAllClose(trajectories.wasserstein_1d([0, 0, 1, 1], [0, 1, 1, 1]), 0.25)
    # Half the mass moves 1 left, half 1 right.
    self.assertAllClose(trajectories.wasserstein_1d([0, 2], [1]), 1.0)
    # A shift by c costs c.
    values = np.random.default_rng(1).integers(-4, 5, size=50)
    self.assertAllClose(trajectories.wasserstein_1d(values, values + 2), 2.0)
    with self.assertRaisesRegex(ValueError, "at least one value"):
      trajectories.wasserstein_1d([], [1])
    try:
      from scipy import stats  # pylint: disable=g-import-not-at-top
    except ImportError:
      return
    rng = np.random.default_rng(2)
    for _ in range(5):
      u, v = rng.integers(-6, 7, size=37), rng.integers(-3, 9, size=23)
      self.assertAllClose(trajectories.wasserstein_1d(u, v), stats.wasserstein_distance(u, v))

  def test_histograms_clip_into_edge_bins(self):
    moves = np.array([[[0, 0], [1, -2]],
                      [[0, 0], [-20, 9]],
                      [[3, 4], [1, -2]]])  # (3 samples, 2 steps, (dy, dx))
    counts = trajectories.displacement_histograms(moves, radius=8)
    self.assertEqual(counts.shape, (2, 17, 17))
    self.assertEqual(counts[0, 8, 8], 2)
    self.assertEqual(counts[0, 11, 12], 1)
    self.assertEqual(counts[1, 9, 6], 2)
    self.assertEqual(counts[1, 0, 16], 1)  # (-20, 9) clipped to (-8, 8).
    self.assertAllEqual(counts.sum(axis=(1, 2)), [3, 3])
    stats = trajectories.compare_steps(moves, moves[:2])
    self.assertEqual(stats["tv"].shape, (2,))
    self.assertAllClose(stats["tv"][0], 1 / 3)
    self.assertAllClose(stats["model_clipped_fraction"], [0.0, 1 / 3])
    self.assertAllClose(stats["emd_dx"][0], 4 / 3)  # A third of the mass moves 4.
    self.assertAllClose(stats["model_mean"][1], [-6.0, 5 / 3])


class GroundTruthTest(test_case.TestCase):

  def _conditional_moves(self, data, trajectory_and_noise, count, seed):
    _, start, velocity = trajectory_and_noise
    truth = trajectories.conditional_trajectories(data, start, velocity, count,
                                                  np.random.default_rng(seed))
    return trajectories.displacements(truth.positions[:, :, 0])  # (count, T - 1, 2)

  @parameterized.parameters("uniform", "nonuniform")
  def test_conditional_distribution(self, velocity_distribution):
    num_context, data = 3, source(velocity_distribution, num_frames=14)
    for k in range(4):
      drawn = trajectories.draw_trajectory(data, np.random.default_rng([5, k]), num_context)
      trajectory, start, velocity = drawn
      hits = np.flatnonzero(trajectory.collisions[:, 0])
      first = hits[0]
      self.assertBetween(first, num_context, 12)  # In the future, one more step after it.
      truth = trajectories.conditional_trajectories(data, start, velocity, 300,
                                                    np.random.default_rng(1))
      # Identical up to the first collision (so the context frames are identical) ...
      self.assertAllEqual(truth.positions[:, :first + 1, 0],
                          np.broadcast_to(trajectory.positions[:first + 1, 0],
                                          (300, first + 1, 2)))
      self.assertTrue(truth.collisions[:, first, 0].all())
      # ... so each move up to it is a spike: the velocity, then the clamped move.
      counts = trajectories.displacement_histograms(
          trajectories.displacements(truth.positions[:, :, 0]))
      for step in range(first):
        expected = velocity[0] if step < first - 1 else (
            trajectory.positions[first, 0] - trajectory.positions[first - 1, 0])
        self.assertEqual(counts[step][tuple(np.asarray(expected) + 8)], 300)
      # The move after the collision is random.
      self.assertGreater((counts[first] > 0).sum(), 5)

  def test_two_draws_agree_and_a_wrong_distribution_does_not(self):
    data = source("uniform", num_frames=14)
    drawn = trajectories.draw_trajectory(data, np.random.default_rng(3), 3)
    first = np.flatnonzero(drawn[0].collisions[:, 0])[0]
    after = slice(first, None)  # Moves arriving after the first collision.

    def mean_tv(a, b):
      stats = trajectories.compare_steps(a, b)
      return stats["tv"][after].mean(), stats["tv"][:first].max()

    small, before = mean_tv(self._conditional_moves(data, drawn, 200, 1),
                            self._conditional_moves(data, drawn, 200, 2))
    large_n, _ = mean_tv(self._conditional_moves(data, drawn, 4000, 1),
                         self._conditional_moves(data, drawn, 4000, 2))
    self.assertEqual(before, 0.0)
    self.assertLess(large_n, small)
    self.assertLess(large_n, 0.15)
    # Deterministic bounce from the same start and velocity: a spike after the wall.
    bounce = source("uniform", num_frames=14, deterministic_bounce=True)
    wrong, before = mean_tv(self._conditional_moves(bounce, drawn, 4000, 1),
                            self._conditional_moves(data, drawn, 4000, 2))
    self.assertEqual(before, 0.0)
    self.assertGreater(wrong, 0.6)

  def test_draw_gives_up(self):
    with self.assertRaisesRegex(RuntimeError, "No trajectory of 4 frames"):
      trajectories.draw_trajectory(source(num_frames=4), np.random.default_rng(0), 3,
                                   max_draws=2)
    with self.assertRaisesRegex(ValueError, "single-digit source"):
      trajectories.draw_trajectory(source(num_frames=3), np.random.default_rng(0), 3)


class AnalyzeTrajectoriesTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.lp = tiny_workdir(os.path.join(cls.root, "lp"))

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_end_to_end(self):
    output_dir = os.path.join(self.make_temp_dir(), "traj")
    document = trajectories.analyze_trajectories(
        self.lp, output_dir=output_dir, num_trajectories=2, num_digits_per_trajectory=3,
        num_samples=2, num_future_frames=3, batch_size=2, seed=4)
    self.assertEqual(document["output_dir"], output_dir)
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["trajectories.csv", "trajectories.json", "trajectory_0.png",
                      "trajectory_1.png", "tv_per_step.png"])
    with open(os.path.join(output_dir, "trajectories.json")) as f:
      saved = json.load(f)
    self.assertEqual(saved["velocity_distribution"], "uniform")
    self.assertEqual(saved["velocity_distribution_source"], "run")
    self.assertEqual(saved["num_context_frames"], 2)
    self.assertEqual(saved["num_samples"], 2)
    self.assertEqual(saved["num_gt_continuations"], 6)
    self.assertEqual(saved["gt_localization_accuracy"], 1.0)
    self.assertLen(saved["trajectories"], 2)
    for entry in saved["trajectories"]:
      self.assertLen(entry["positions"], 5)
      self.assertLen(entry["digit_indices"], 3)
      first = entry["first_collision_frame"]
      self.assertBetween(first, 3, 4)  # 1-based: after the context, before the last frame.
      self.assertLen(entry["steps"], 3)
      self.assertEqual([s["frame"] for s in entry["steps"]], [3, 4, 5])
      for step in entry["steps"]:
        self.assertEqual(np.sum(step["model_histogram"]), 6)
        self.assertEqual(np.sum(step["gt_histogram"]), 6)
        self.assertEqual(np.shape(step["gt_histogram"]), (17, 17))
        self.assertBetween(step["tv"], 0.0, 1.0)
        self.assertEqual(step["before_first_collision"], step["frame"] <= first)
        if step["before_first_collision"]:
          self.assertEqual(np.max(step["gt_histogram"]), 6)  # A spike.
          self.assertEqual(step["tv_floor"], 0.0)
      summary = entry["summary"]
      self.assertEqual(summary["before_first_collision"]["num_steps"] +
                       summary["after_first_collision"]["num_steps"], 3)
    self.assertEqual(saved["summary"]["all_steps"]["num_steps"], 6)
    with open(os.path.join(output_dir, "trajectories.csv")) as f:
      lines = f.read().splitlines()
    self.assertLen(lines, 1 + 2 * 3)
    self.assertEqual(lines[0].split(","), list(trajectories.CSV_COLUMNS))
    row = dict(zip(trajectories.CSV_COLUMNS, lines[4].split(",")))
    step = saved["trajectories"][1]["steps"][0]
    self.assertEqual(row["trajectory"], "1")
    self.assertEqual(row["step"], "1")
    self.assertAllClose(float(row["tv"]), step["tv"])
    self.assertAllClose(float(row["gt_mean_dx"]), step["gt_mean_dx"])

  def test_velocity_override_and_deterministic_model(self):
    output_dir = os.path.join(self.make_temp_dir(), "traj")
    document = trajectories.analyze_trajectories(
        self.lp, output_dir=output_dir, num_trajectories=1, num_digits_per_trajectory=2,
        num_samples=1, num_future_frames=2, velocity_distribution="nonuniform", seed=9)
    self.assertEqual(document["velocity_distribution"], "nonuniform")
    self.assertEqual(document["velocity_distribution_source"], "argument")
    # The trajectory is the nonuniform data's.
    expected = trajectories.draw_trajectory(source("nonuniform", num_frames=4, seed=9),
                                            np.random.default_rng([9, 0]), 2)
    self.assertEqual(document["trajectories"][0]["velocity"], expected[2][0].tolist())
    det = tiny_workdir(os.path.join(self.make_temp_dir(), "det"), model="svg_det")
    document = trajectories.analyze_trajectories(
        det, num_trajectories=1, num_digits_per_trajectory=2, num_samples=3,
        num_future_frames=2)
    self.assertFalse(document["stochastic"])
    self.assertEqual(document["num_samples"], 1)  # One future per digit.
    self.assertEqual(document["num_gt_continuations"], 6)
    self.assertEqual(document["output_dir"], os.path.join(det, "trajectories"))
    step = document["trajectories"][0]["steps"][0]
    self.assertEqual((np.sum(step["model_histogram"]), np.sum(step["gt_histogram"])), (2, 6))

  def test_errors_before_any_work(self):
    two_digits = tiny_workdir(os.path.join(self.make_temp_dir(), "two"), num_digits=2,
                              checkpoint=False)
    bair = tiny_workdir(os.path.join(self.make_temp_dir(), "bair"), dataset="bair",
                        checkpoint=False)
    no_checkpoint = tiny_workdir(os.path.join(self.make_temp_dir(), "none"), checkpoint=False)
    with mock.patch.object(workdir_lib, "load_model",
                           side_effect=AssertionError("model loaded")):
      with self.assertRaisesRegex(ValueError, r"single-digit SM-MNIST .*'smmnist'.*num_digits 1"
                                  r".*two.* has data 'smmnist' with num_digits 2"):
        trajectories.analyze_trajectories(two_digits)
      with self.assertRaisesRegex(ValueError, "has data 'bair'"):
        trajectories.analyze_trajectories(bair)
    with self.assertRaisesRegex(workdir_lib.WorkdirError, "No checkpoint in"):
      trajectories.analyze_trajectories(no_checkpoint)
    with self.assertRaisesRegex(workdir_lib.WorkdirError, "not a training work directory"):
      trajectories.analyze_trajectories(self.make_temp_dir())
    with mock.patch.object(workdir_lib, "load_config",
                           side_effect=AssertionError("config read")):
      for kwargs, message in [
          (dict(num_samples=0), "num_samples must be an integer >= 1, got 0"),
          (dict(num_trajectories=-1), "num_trajectories must be an integer >= 1"),
          (dict(num_digits_per_trajectory=2.5), "num_digits_per_trajectory must be an integer"),
          (dict(num_future_frames=0), "num_future_frames must be an integer >= 1"),
          (dict(batch_size=True), "batch_size must be an integer >= 1, got True"),
          (dict(seed=-1), "seed must be an integer >= 0"),
          (dict(velocity_distribution="gaussian"),
           "Unknown velocity_distribution 'gaussian'; valid: uniform, nonuniform")]:
        with self.assertRaisesRegex(ValueError, message):
          trajectories.analyze_trajectories(self.lp, **kwargs)
      other = self.make_temp_dir()
      with open(os.path.join(other, "notes.txt"), "w") as f:
        f.write("mine")
      with self.assertRaisesRegex(ValueError, "holds other files"):
        trajectories.analyze_trajectories(self.lp, output_dir=other)
    for workdir in (self.lp, two_digits, bair, no_checkpoint):
      self.assertFalse(os.path.exists(os.path.join(workdir, "trajectories")))

  def test_failed_write_keeps_previous_outputs(self):
    output_dir = os.path.join(self.make_temp_dir(), "traj")
    kwargs = dict(output_dir=output_dir, num_trajectories=1, num_digits_per_trajectory=2,
                  num_samples=2, num_future_frames=2)
    trajectories.analyze_trajectories(self.lp, **kwargs)
    with open(os.path.join(output_dir, "trajectories.json")) as f:
      before = f.read()
    with mock.patch.object(trajectories, "plot_tv", side_effect=RuntimeError("disk full")):
      with self.assertRaisesRegex(RuntimeError, "disk full"):
        trajectories.analyze_trajectories(self.lp, seed=1, **kwargs)
    with open(os.path.join(output_dir, "trajectories.json")) as f:
      self.assertEqual(f.read(), before)
    self.assertEqual(os.listdir(os.path.dirname(output_dir)), ["traj"])  # No leftovers.


if __name__ == "__main__":
  tf.test.main()
