"""Tests of tfgen.data.smmnist: the SM-MNIST process, its rendering and its tf.data builder."""

import os

from absl.testing import parameterized
import numpy as np
from PIL import Image
import tensorflow as tf

from tfgen.data import mnist
from tfgen.data import registry
from tfgen.data import smmnist

_TEST_DATA = os.environ.get("TFGEN_TEST_DATA")
# The subset shipped with tfgen: always available, 2000 train and 500 test digits.
_SHIPPED = mnist.SHIPPED_PATH
_BOUND = 32  # Positions live in [0, _BOUND - 1] for a 64 canvas and 32 digits.

_VARIANTS = (
    ("stochastic_uniform", False, "uniform"),
    ("stochastic_nonuniform", False, "nonuniform"),
    ("deterministic_uniform", True, "uniform"),
    ("deterministic_nonuniform", True, "nonuniform"),
)


def _source(split="train", **kwargs):
  kwargs.setdefault("num_frames", 7)
  kwargs.setdefault("data_dir", _SHIPPED)
  return smmnist.StochasticMovingMNIST(split, **kwargs)


def _trajectories(source, count, seed=0):
  """Stacks `count` sampled trajectories: arrays (count, time, digits, ...)."""
  samples = [source.sample_trajectory(np.random.default_rng([seed, i]))
             for i in range(count)]
  return smmnist.Trajectory(*(np.stack(a) for a in zip(*samples)))


def _paste(positions, digits, image_size=64):
  """Slow reference renderer: (T, D, 2) positions, (D, s, s) digits -> (T, H, W, 1)."""
  size = digits.shape[-1]
  frames = np.zeros((len(positions), image_size, image_size), np.float32)
  for t, frame_positions in enumerate(positions):
    for d, (y, x) in enumerate(frame_positions):
      frames[t, y:y + size, x:x + size] += digits[d]
  return np.minimum(frames, 1.0)[..., None]


class TrajectoryTest(tf.test.TestCase, parameterized.TestCase):
  """The bounce dynamics, checked on many sampled trajectories."""

  @parameterized.named_parameters(*_VARIANTS)
  def test_dynamics(self, deterministic, distribution):
    source = _source(num_digits=3, num_frames=40, deterministic_bounce=deterministic,
                     velocity_distribution=distribution)
    traj = _trajectories(source, 200)
    pos, vel, hits = traj.positions, traj.velocities, traj.bounces
    self.assertEqual(pos.shape, (200, 40, 3, 2))
    self.assertEqual(traj.collisions.shape, (200, 40, 3))
    # Velocities always in -4..4; drawn positions always in [0, 31].
    self.assertBetween(vel.min(), -4, 4)
    self.assertBetween(vel.max(), -4, 4)
    self.assertEqual(pos.min(), 0)
    self.assertEqual(pos.max(), _BOUND - 1)
    # Start: uniform in [0, 31], no collision.
    self.assertFalse(hits[:, 0].any())
    self.assertGreater(len(np.unique(pos[:, 0])), 25)
    # Collision flags match the clamping of the moved position, per axis.
    moved = pos[:, :-1] + vel[:, :-1]
    self.assertAllEqual(hits[:, 1:], (moved < 0) | (moved >= _BOUND))
    self.assertAllEqual(pos[:, 1:], np.clip(moved, 0, _BOUND - 1))
    self.assertAllEqual(traj.collisions, hits.any(-1))
    self.assertGreater(traj.collisions.mean(), 0.05)
    # Without a collision the velocity is unchanged.
    quiet = ~traj.collisions[:, 1:]
    self.assertAllEqual(vel[:, 1:][quiet], vel[:, :-1][quiet])

    previous = vel[:, :-1]
    current = vel[:, 1:]
    hit_y, hit_x = hits[:, 1:, :, 0], hits[:, 1:, :, 1]
    at_low = pos[:, 1:] == 0
    if deterministic:
      expected = np.where(hits[:, 1:], -previous, previous)
      self.assertAllEqual(current, expected)
      return
    # Stochastic: the normal component points away from the wall with magnitude 1..4.
    away = np.where(at_low, current, -current)  # > 0 when moving away from the wall.
    self.assertTrue(np.isin(away[..., 1][hit_x], [1, 2, 3, 4]).all())
    y_only = hit_y & ~hit_x
    self.assertTrue(np.isin(away[..., 0][y_only], [1, 2, 3, 4]).all())
    corner = hit_y & hit_x
    if distribution == "nonuniform":
      self.assertTrue(np.isin(away[..., 0][corner], [1, 2, 3, 4]).all())
    # Every magnitude 1..4 and every tangential value -4..4 occurs after bounces.
    self.assertSameElements(np.abs(current[..., 1][hit_x]), [1, 2, 3, 4])
    self.assertSameElements(current[..., 0][hit_x & ~hit_y], range(-4, 5))
    self.assertSameElements(current[..., 1][y_only], range(-4, 5))

  def test_reference_corner_quirk(self):
    # Uniform stochastic variant: at a corner the x re-draw overwrites dy in -4..4, as
    # the reference does, so it sometimes points back into the y wall.
    source = _source(num_digits=2, num_frames=60)
    traj = _trajectories(source, 300)
    corner = traj.bounces[:, 1:].all(-1)
    self.assertGreater(corner.sum(), 20)
    dy = traj.velocities[:, 1:, :, 0][corner]
    at_low = traj.positions[:, 1:, :, 0][corner] == 0
    self.assertTrue((np.where(at_low, dy, -dy) <= 0).any())

  def test_initial_velocity_distributions(self):
    speeds = {}
    for distribution in smmnist.VELOCITY_DISTRIBUTIONS:
      source = _source(num_digits=2, num_frames=1,
                       velocity_distribution=distribution)
      velocity = _trajectories(source, 2000).velocities[:, 0].reshape(-1)
      self.assertSameElements(velocity, range(-4, 5))
      probabilities = smmnist.velocity_probabilities(distribution)
      self.assertAlmostEqual(sum(probabilities.values()), 1.0)
      empirical = np.array([(velocity == v).mean() for v in range(-4, 5)])
      self.assertAllClose(empirical, [probabilities[v] for v in range(-4, 5)],
                          atol=0.02)
      speeds[distribution] = np.abs(velocity)
    # The non-uniform distribution favours high speeds.
    self.assertGreater(speeds["nonuniform"].mean(), speeds["uniform"].mean() + 0.3)
    self.assertGreater((speeds["nonuniform"] == 4).mean(),
                       (speeds["nonuniform"] == 1).mean() + 0.1)
    self.assertAllClose(speeds["uniform"].mean(), 20 / 9, atol=0.1)
    self.assertAllClose(speeds["nonuniform"].mean(), 80 / 29, atol=0.1)

  def test_nonuniform_redraw_favours_high_speeds(self):
    source = _source(num_digits=2, num_frames=50, velocity_distribution="nonuniform")
    traj = _trajectories(source, 300)
    hit_x = traj.bounces[:, 1:, :, 1]
    speed = np.abs(traj.velocities[:, 1:, :, 1][hit_x])
    counts = np.array([(speed == k).sum() for k in (1, 2, 3, 4)])
    # Renormalised over the valid directions: P(|dx| = k) = (k + 1) / 14.
    self.assertAllClose(counts / counts.sum(), np.array([2, 3, 4, 5]) / 14, atol=0.04)


class RenderTest(tf.test.TestCase, parameterized.TestCase):

  def test_frames_are_digits_pasted_at_positions(self):
    source = _source(num_digits=2, num_frames=9)
    for index in range(5):
      seq = source.sequence(index)
      digits = source.digit_images(seq["digit_indices"])
      self.assertAllEqual(seq["frames"], _paste(seq["positions"], digits))
      self.assertEqual(seq["frames"].dtype, np.float32)
      self.assertBetween(seq["frames"].min(), 0.0, 1.0)
      self.assertEqual(seq["frames"].max(), 1.0)

  def test_digits_fully_in_bounds(self):
    # One digit: nothing overlaps or clips, so every frame holds the whole digit.
    source = _source(num_digits=1, num_frames=30)
    for index in range(10):
      seq = source.sequence(index)
      digit_mass = source.digit_images(seq["digit_indices"]).sum()
      self.assertAllClose(seq["frames"].sum(axis=(1, 2, 3)), np.full(30, digit_mass),
                          rtol=1e-5)

  def test_overlap_is_summed_and_clipped(self):
    source = _source(num_digits=2, num_frames=3)
    positions = np.array([[[5, 7], [5, 7]], [[0, 0], [31, 31]], [[10, 20], [12, 20]]])
    trajectory = smmnist.Trajectory(positions, np.zeros_like(positions),
                                    np.zeros((3, 2), bool), np.zeros((3, 2, 2), bool))
    digits = np.full((2, 32, 32), 0.6, np.float32)
    frames = source.render(trajectory, digits)
    self.assertEqual(frames.shape, (3, 64, 64, 1))
    self.assertAllEqual(frames[0, 5:37, 7:39], np.ones((32, 32, 1)))  # 1.2 -> 1.
    self.assertEqual(frames[0].sum(), 32 * 32)
    self.assertAllClose(frames[1, 31, 31, 0], 1.0)  # The corner both digits cover.
    self.assertAllClose(frames[1, 0, 0, 0], 0.6)
    self.assertAllClose(frames[2, 12:42, 20:52], np.ones((30, 32, 1)))
    self.assertAllClose(frames[2, 10:12, 20:52], np.full((2, 32, 1), 0.6))
    self.assertAllEqual(frames, _paste(positions, digits))

  def test_one_trajectory_many_digits(self):
    # Thesis Fig. 6.4: one shared trajectory rendered with different digits.
    source = _source(num_digits=1, num_frames=12)
    trajectory = source.sample_trajectory(np.random.default_rng(3))
    frames = [source.render(trajectory, source.digit_images([i])) for i in range(4)]
    for i, video in enumerate(frames):
      self.assertAllEqual(video, _paste(trajectory.positions, source.digit_images([i])))
      if i:
        self.assertNotAllClose(video, frames[0])

  def test_resize_is_pil_bilinear(self):
    x_train, _, _ = mnist.load_mnist(_SHIPPED)
    expected = np.stack([np.asarray(Image.fromarray(d).resize((32, 32), Image.BILINEAR))
                         for d in x_train[:300]])
    self.assertAllEqual(smmnist.resize_digits(x_train[:300]), expected)
    self.assertAllEqual(_source().digits[:300], expected)


class SequenceTest(tf.test.TestCase, parameterized.TestCase):

  def test_same_seed_and_index_identical(self):
    first = _source(seed=5, num_frames=20).sequence(11)
    second = _source(seed=5, num_frames=20).sequence(11)
    for key in first:
      self.assertAllEqual(first[key], second[key], msg=key)

  def test_different_index_or_seed_differs(self):
    source = _source(seed=5, num_frames=20)
    frames = [source.sequence(i)["frames"] for i in range(4)]
    frames.append(_source(seed=6, num_frames=20).sequence(0)["frames"])
    for i in range(len(frames)):
      for j in range(i):
        self.assertNotAllClose(frames[i], frames[j])

  def test_batch_matches_sequence(self):
    source = _source(num_frames=6)
    batch = source.batch([3, 0, 17])
    self.assertEqual(batch.shape, (3, 6, 64, 64, 1))
    for row, index in zip(batch, (3, 0, 17)):
      self.assertAllEqual(row, source.sequence(index)["frames"])

  def test_digit_set_loaded_once(self):
    self.assertIs(_source().digits, _source(seed=9, num_digits=1).digits)
    self.assertIsNot(_source().digits, _source("test").digits)

  @parameterized.named_parameters(
      ("split", dict(split="valid"), "valid.*train, test"),
      ("distribution", dict(velocity_distribution="gaussian"),
       "gaussian.*uniform, nonuniform"),
      ("num_digits", dict(num_digits=0), "num_digits.*0"),
      ("num_frames", dict(num_frames=2.5), "num_frames.*2.5"),
      ("seed", dict(seed=-1), "seed.*-1"),
      ("deterministic_bounce", dict(deterministic_bounce="yes"), "yes"),
      ("image_size", dict(image_size=32), "image_size.*32"),
  )
  def test_bad_options(self, kwargs, message):
    kwargs = dict(dict(split="train", data_dir=_SHIPPED), **kwargs)
    with self.assertRaisesRegex(ValueError, message):
      smmnist.StochasticMovingMNIST(kwargs.pop("split"), **kwargs)

  @parameterized.named_parameters(("shipped", False), ("real", True))
  def test_train_uses_train_digits_and_test_uses_test_digits(self, real):
    if real and not _TEST_DATA:
      self.skipTest("TFGEN_TEST_DATA is not set.")
    data_dir = _TEST_DATA if real else _SHIPPED
    x_train, x_test, _ = mnist.load_mnist(data_dir)
    for split, images in (("train", x_train), ("test", x_test)):
      source = _source(split, data_dir=data_dir, num_frames=4)
      self.assertEqual(source.num_source_digits, len(images))
      indices = np.concatenate([source.sequence(i)["digit_indices"] for i in range(200)])
      self.assertBetween(indices.min(), 0, len(images) - 1)
      self.assertBetween(indices.max(), 0, len(images) - 1)
      # Indices spread over the whole split (train reaches beyond the test set size).
      self.assertGreater(indices.max(), 0.9 * len(images))
      seq = source.sequence(0)
      digits = smmnist.resize_digits(images[seq["digit_indices"]]) / np.float32(255)
      self.assertAllEqual(seq["frames"], _paste(seq["positions"], digits))


class BuildTest(tf.test.TestCase, parameterized.TestCase):

  def _build(self, split="train", **kwargs):
    kwargs = dict(dict(batch_size=3, num_frames=5, seed=7, data_dir=_SHIPPED), **kwargs)
    return registry.build("smmnist", split, **kwargs)

  def _take(self, dataset, count):
    return np.stack([b.numpy() for b in dataset.take(count)])

  def test_registered(self):
    self.assertIn("smmnist", registry.names())
    self.assertIs(registry.get_builder("smmnist"), smmnist.build)

  @parameterized.named_parameters(("train", "train"), ("test", "test"))
  def test_static_shape_dtype_range(self, split):
    dataset = self._build(split)
    self.assertEqual(dataset.element_spec,
                     tf.TensorSpec((3, 5, 64, 64, 1), tf.float32))
    batch = next(iter(dataset)).numpy()
    self.assertBetween(batch.min(), 0.0, 1.0)
    self.assertBetween(batch.max(), 0.0, 1.0)

  def test_train_stream_is_sequence_k(self):
    batches = self._take(self._build(deterministic_bounce=True, num_digits=1), 2)
    source = _source(seed=7, num_frames=5, deterministic_bounce=True, num_digits=1)
    for k, frames in enumerate(batches.reshape(6, 5, 64, 64, 1)):
      self.assertAllEqual(frames, source.sequence(k)["frames"])

  @parameterized.named_parameters(("batch_multiple", 6), ("mid_batch", 4))
  def test_start_index_resumes_exactly(self, start_index):
    full = self._take(self._build(), 4).reshape(12, 5, 64, 64, 1)
    resumed = self._take(self._build(start_index=start_index), 2).reshape(6, 5, 64, 64, 1)
    self.assertAllEqual(resumed, full[start_index:start_index + 6])

  def test_train_seed_matters(self):
    first = self._take(self._build(seed=1), 1)
    second = self._take(self._build(seed=2), 1)
    self.assertNotAllClose(first, second)

  def test_test_set_fixed_and_independent_of_seed(self):
    first = list(self._build("test", num_test_sequences=7, drop_remainder=False, seed=1))
    self.assertEqual([len(b) for b in first], [3, 3, 1])
    again = self._build("test", num_test_sequences=7, drop_remainder=False, seed=2)
    again = np.concatenate([b.numpy() for b in again])
    self.assertAllEqual(np.concatenate([b.numpy() for b in first]), again)
    source = _source("test", seed=smmnist.TEST_SEED, num_frames=5)
    for k in range(7):
      self.assertAllEqual(again[k], source.sequence(k)["frames"])
    dropped = list(self._build("test", num_test_sequences=7))
    self.assertLen(dropped, 2)

  def test_bad_split(self):
    with self.assertRaisesRegex(ValueError, "validation.*train, test"):
      smmnist.build("validation", batch_size=2, num_frames=3, seed=0)


if __name__ == "__main__":
  tf.test.main()
