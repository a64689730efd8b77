"""Tests of the learned-prior analysis (thesis Fig. 6.4) on tiny untrained work directories."""

import json
import math
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.evaluation import evaluate_test
from tfgen.data import smmnist
from tfgen.models.svg import prior_analysis
from tfgen.train import checkpointing
from tfgen.train import workdir as workdir_lib

NUM_SEQUENCES = 6
NUM_STEPS = 20
SEED = 0


def frame_sensitive_workdir(directory):
  """An untrained SVG-LP work directory whose prior's sigma depends visibly on the frames.

  The untrained encoder gives h of about 1e-5, so the initial prior sees almost nothing
  and its sigma is ~1 everywhere; scaling its input embedding and log-variance head makes
  sigma vary by ~1e-2 between steps and digit sets, so a step or a sequence out of place
  fails the comparisons below.
  """
  evaluate_test.untrained_workdir("svg_lp", directory)
  model, _, _ = workdir_lib.load_model(directory)
  prior = model.learned_prior
  prior.embed.kernel.assign(prior.embed.kernel * 1e5)
  prior.log_variance_head.kernel.assign(prior.log_variance_head.kernel * 100.0)
  checkpoint = tf.train.Checkpoint(model=checkpointing.model_trackable(model))
  tf.train.CheckpointManager(checkpoint, os.path.join(directory, workdir_lib.CHECKPOINT_DIR),
                             max_to_keep=1).save(checkpoint_number=1)
  return directory


def shared_source(config, num_digits=None):
  """The data source `analyze_prior` builds for a run (same arguments)."""
  options = config.data.options
  return smmnist.StochasticMovingMNIST(
      "test", num_digits=num_digits or options.num_digits, num_frames=NUM_STEPS,
      deterministic_bounce=options.deterministic_bounce,
      velocity_distribution=options.velocity_distribution, seed=SEED,
      data_dir=config.data.data_dir)


class CollisionStatisticsTest(test_case.TestCase):

  def test_marked_steps_shift_collisions_by_one_frame(self):
    collisions = np.zeros((6, 2), bool)  # Frames 1..6.
    collisions[2, 0] = True  # Digit 0 collides at frame 3: step 4 is marked.
    collisions[5, 1] = True  # At the last frame: no step left to mark.
    marks = prior_analysis.marked_steps(collisions)
    self.assertEqual(marks.shape, (5, 2))  # Steps 2..6.
    self.assertEqual(np.argwhere(marks).tolist(), [[2, 0]])  # Row 2 is step 4.

  def test_ratio_window_warmup_and_peaks(self):
    # Steps 2..13: warm-up 2, 3 (high, left out); digit 0 marked at step 6, digit 1 at 10.
    steps = np.arange(2, 14)
    sigma = np.ones(12)
    sigma[steps == 2], sigma[steps == 3] = 5.0, 5.0
    for step, value in ((6, 3.0), (7, 3.0), (10, 2.0), (11, 4.0)):
      sigma[steps == step] = value
    marks = np.zeros((12, 2), bool)
    marks[steps == 6, 0] = True
    marks[steps == 10, 1] = True
    stats = prior_analysis.collision_statistics(sigma, marks)
    self.assertEqual(stats["collision_steps"], [6, 7, 10, 11])
    self.assertEqual(stats["warmup_steps"], [2, 3])
    self.assertEqual(stats["baseline_steps"], [4, 5, 8, 9, 12, 13])
    self.assertAllClose(stats["collision_sigma_mean"], 3.0)
    self.assertAllClose(stats["baseline_sigma_mean"], 1.0)
    self.assertAllClose(stats["collision_ratio"], 3.0)
    self.assertEqual([(c["digit"], c["collision_frame"], c["step"], c["window_peak_step"])
                      for c in stats["collisions"]], [(0, 5, 6, 6), (1, 9, 10, 11)])
    self.assertAllClose([c["sigma_at_step"] for c in stats["collisions"]], [3.0, 2.0])
    self.assertAllClose([c["peak_to_baseline"] for c in stats["collisions"]], [3.0, 4.0])
    # Profile around the marked steps 6 and 10: offset -1 -> steps 5, 9; +1 -> 7, 11.
    self.assertAllClose(stats["profile"][-1], 1.0)
    self.assertAllClose(stats["profile"][0], 2.5)
    self.assertAllClose(stats["profile"][1], 3.5)

  def test_collision_in_the_warmup_counts_as_collision(self):
    sigma = np.array([4.0, 3.0, 2.0, 1.0, 1.0])  # Steps 2..6.
    marks = np.zeros((5, 1), bool)
    marks[1, 0] = True  # Step 3: window 3, 4.
    stats = prior_analysis.collision_statistics(sigma, marks)
    self.assertEqual(stats["collision_steps"], [3, 4])
    self.assertEqual(stats["warmup_steps"], [2])
    self.assertAllClose(stats["collision_ratio"], 2.5)

  def test_no_collision_gives_nan(self):
    stats = prior_analysis.collision_statistics(np.ones(5), np.zeros((5, 2), bool))
    self.assertTrue(math.isnan(stats["collision_ratio"]))
    self.assertEqual(stats["collisions"], [])

  def test_digit_sets(self):
    indices, replaced = prior_analysis.draw_digit_indices(100, 10, 2, seed=3)
    self.assertFalse(replaced)
    self.assertEqual(indices.shape, (10, 2))
    self.assertLen(np.unique(indices), 20)
    _, replaced = prior_analysis.draw_digit_indices(15, 10, 2, seed=3)
    self.assertTrue(replaced)


class AnalyzePriorTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.lp = frame_sensitive_workdir(os.path.join(cls.root, "lp"))
    cls.output_dir = os.path.join(cls.root, "analysis")
    cls.document = prior_analysis.analyze_prior(
        cls.lp, output_dir=cls.output_dir, num_sequences=NUM_SEQUENCES, num_steps=NUM_STEPS,
        seed=SEED, batch_size=4)  # A last, smaller batch of 2.

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_sigma_matches_stepping_the_prior_frame_by_frame(self):
    model, config, _ = workdir_lib.load_model(self.lp)
    source = shared_source(config)
    trajectory = source.sample_trajectory(np.random.default_rng([SEED, 0]))
    saved = np.load(os.path.join(self.output_dir, prior_analysis.NPZ_FILE))
    rows = [0, NUM_SEQUENCES - 1]  # First and last batch.
    video = np.stack([source.render(trajectory, source.digit_images(saved["digit_indices"][i]))
                      for i in rows])
    # Independent path: each frame encoded alone, the prior stepped by hand.
    state = model.learned_prior.initial_state(len(rows))
    expected = []
    for t in range(NUM_STEPS - 1):
      h, _ = model.encoder(video[:, t], training=False)
      prior, state = model.learned_prior.step(h, state)
      expected.append(prior.stddev().numpy())  # Prior of z_{t+2} (1-based frames).
    expected = np.stack(expected, axis=1)  # (2, T - 1, z)
    # Sensitive enough: neighbouring steps and the two digit sets differ beyond tolerance.
    self.assertGreater(np.abs(np.diff(expected, axis=1)).max(), 1e-3)
    self.assertGreater(np.abs(expected[0] - expected[1]).max(), 1e-3)
    self.assertAllClose(saved["sigma_per_dim"][rows], expected, atol=1e-5)
    self.assertAllClose(saved["sigma"][rows], expected.mean(-1), atol=1e-5)
    # Time convention: sigma at step t is the scale generate() draws z_t with after seeing
    # frames 1..t-1.
    for t in (2, 7):
      scale = model.generate(video[:, :t - 1], 1, 1, return_prior_scale=True)["prior_scale"]
      self.assertAllClose(saved["sigma_per_dim"][rows, t - 2], scale[:, 0, 0], atol=1e-5)
    # Statistics over sequences.
    sigma = saved["sigma"]
    self.assertEqual(sigma.shape, (NUM_SEQUENCES, NUM_STEPS - 1))
    self.assertAllClose(self.document["sigma_mean"], sigma.mean(0), atol=1e-6)
    self.assertAllClose(self.document["sigma_std"], sigma.std(0), atol=1e-6)
    self.assertAllClose(self.document["sigma_mean_per_dim"], saved["sigma_per_dim"].mean(0),
                        atol=1e-6)

  def test_outputs_and_collision_marks(self):
    self.assertEqual(sorted(os.listdir(self.output_dir)),
                     ["prior_sigma.csv", "prior_sigma.json", "prior_sigma.npz",
                      "prior_sigma.png"])
    self.assertEqual(self.document["output_dir"], self.output_dir)
    with open(os.path.join(self.output_dir, prior_analysis.JSON_FILE)) as f:
      saved = json.load(f)
    self.assertEqual(saved["num_sequences"], NUM_SEQUENCES)
    self.assertEqual(saved["num_digits"], 2)
    self.assertEqual(saved["steps"], list(range(2, NUM_STEPS + 1)))
    self.assertEqual(saved["collision_ratio"], self.document["collision_ratio"])
    self.assertFalse(saved["digits_with_replacement"])  # 12 of the shipped 500 test digits.
    digits = np.load(os.path.join(self.output_dir, prior_analysis.NPZ_FILE))["digit_indices"]
    self.assertLen(np.unique(digits), NUM_SEQUENCES * 2)

    config = workdir_lib.load_config(self.lp)
    trajectory = shared_source(config).sample_trajectory(np.random.default_rng([SEED, 0]))
    self.assertEqual(saved["trajectory"]["positions_yx"], trajectory.positions.tolist())
    self.assertTrue(trajectory.collisions[:-1].any())  # The test trajectory has collisions.
    with open(os.path.join(self.output_dir, prior_analysis.CSV_FILE)) as f:
      lines = f.read().splitlines()
    self.assertEqual(lines[0], "step,sigma_mean,sigma_std,collision_digit_0,collision_digit_1")
    self.assertLen(lines, 1 + NUM_STEPS - 1)
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    self.assertAllEqual(table[:, 0], np.arange(2, NUM_STEPS + 1))
    self.assertAllClose(table[:, 1], saved["sigma_mean"])
    # Step t is marked for digit d when d collided at frame t - 1 (row t - 2 of collisions).
    for d in range(2):
      self.assertAllEqual(table[:, 3 + d], trajectory.collisions[:NUM_STEPS - 1, d])
      frames = (np.nonzero(trajectory.collisions[:, d])[0] + 1).tolist()
      self.assertEqual(saved["collision_frames"][d], frames)
      self.assertEqual(saved["collision_steps"][d], [c + 1 for c in frames if c < NUM_STEPS])

  def test_errors_before_any_work(self):
    with mock.patch.object(smmnist, "StochasticMovingMNIST",
                           side_effect=AssertionError("data were touched")):
      for model in ("svg_det", "svg_fp"):
        workdir = evaluate_test.untrained_workdir(
            model, os.path.join(self.make_temp_dir(), model))
        with self.assertRaisesRegex(ValueError, f"{model} run.*needs an svg_lp run"):
          prior_analysis.analyze_prior(workdir)
        self.assertFalse(os.path.exists(os.path.join(workdir, "prior_analysis")))
      no_checkpoint = self.make_temp_dir()
      shutil.copy(os.path.join(self.lp, "config.json"), no_checkpoint)
      with self.assertRaisesRegex(workdir_lib.WorkdirError, "No checkpoint in"):
        prior_analysis.analyze_prior(no_checkpoint)
      with self.assertRaisesRegex(workdir_lib.WorkdirError, "not a training work directory"):
        prior_analysis.analyze_prior(self.make_temp_dir())
      # Argument checks come first, even before the work directory is read.
      missing = os.path.join(self.root, "missing")
      for kwargs, message in [
          (dict(num_sequences=0), "num_sequences must be an integer >= 1, got 0"),
          (dict(num_steps=1), "num_steps must be an integer >= 2, got 1"),
          (dict(batch_size=0), "batch_size must be an integer >= 1, got 0"),
          (dict(seed=-1), "seed must be an integer >= 0")]:
        with self.assertRaisesRegex(ValueError, message):
          prior_analysis.analyze_prior(missing, **kwargs)
      with self.assertRaisesRegex(ValueError, "is a training work directory"):
        prior_analysis.analyze_prior(self.lp, output_dir=self.lp)

  def test_a_failed_write_keeps_the_previous_outputs(self):
    with open(os.path.join(self.output_dir, prior_analysis.JSON_FILE)) as f:
      before = f.read()
    with mock.patch.object(prior_analysis, "plot", side_effect=RuntimeError("disk full")):
      with self.assertRaisesRegex(RuntimeError, "disk full"):
        prior_analysis.analyze_prior(self.lp, output_dir=self.output_dir, num_sequences=2,
                                     num_steps=5, seed=1)
    with open(os.path.join(self.output_dir, prior_analysis.JSON_FILE)) as f:
      self.assertEqual(f.read(), before)
    self.assertEqual(sorted(os.listdir(self.root)), ["analysis", "lp"])  # No leftovers.


if __name__ == "__main__":
  tf.test.main()
