"""Tests of tfgen.data.moving_mnist: two-colour deterministic Moving MNIST and its builder."""

import os

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.data import mnist
from tfgen.data import moving_mnist
from tfgen.data import registry
from tfgen.data import smmnist

_TEST_DATA = os.environ.get("TFGEN_TEST_DATA")
_SHIPPED = mnist.SHIPPED_PATH
_BOUND = 32  # Positions live in [0, _BOUND - 1] for a 64 canvas and 32 digits.


def _source(split="train", **kwargs):
  kwargs.setdefault("num_frames", 7)
  kwargs.setdefault("data_dir", _SHIPPED)
  return moving_mnist.MovingMNIST(split, **kwargs)


def _paste(positions, digit, image_size=64):
  """Slow reference: one digit `(s, s)` at (T, 2) positions -> (T, H, W)."""
  size = digit.shape[-1]
  frames = np.zeros((len(positions), image_size, image_size), np.float32)
  for t, (y, x) in enumerate(positions):
    frames[t, y:y + size, x:x + size] = digit
  return frames


class MovingMNISTTest(tf.test.TestCase, parameterized.TestCase):

  def test_digit_n_in_channel_n_front_digit_occludes(self):
    source = _source(num_frames=20, seed=3)
    overlaps = 0
    fronts = set()
    for index in range(30):
      seq = source.sequence(index)
      frames, front = seq["frames"], int(seq["front"])
      fronts.add(front)
      self.assertEqual(frames.shape, (20, 64, 64, 3))
      self.assertEqual(frames.dtype, np.float32)
      self.assertAllEqual(frames[..., 2], np.zeros_like(frames[..., 2]))  # Blue stays 0.
      digits = source.digit_images(seq["digit_indices"])
      alone = [_paste(seq["positions"][:, d], digits[d]) for d in range(2)]
      # drnet-py l.72-75: the front digit whole, the other zeroed where the front is > 0.
      behind = 1 - front
      self.assertAllEqual(frames[..., front], alone[front])
      self.assertAllEqual(frames[..., behind],
                          np.where(alone[front] > 0, 0.0, alone[behind]))
      overlaps += int(((alone[0] > 0) & (alone[1] > 0)).any())
    self.assertGreater(overlaps, 0)  # The occlusion was exercised.
    self.assertEqual(fronts, {0, 1})

  @parameterized.named_parameters(("one", 1), ("three", 3))
  def test_other_digit_counts(self, num_digits):
    seq = _source(num_digits=num_digits, num_frames=4).sequence(0)
    self.assertEqual(seq["frames"].shape, (4, 64, 64, 3))
    for channel in range(3):
      carries = bool(seq["frames"][..., channel].any())
      self.assertEqual(carries, channel < num_digits, channel)

  def test_deterministic_bounce(self):
    source = _source(num_frames=40)
    for index in range(50):
      seq = source.sequence(index)
      pos, vel = seq["positions"], seq["velocities"]
      self.assertBetween(pos.min(), 0, _BOUND - 1)
      self.assertBetween(pos.max(), 0, _BOUND - 1)
      moved = pos[:-1] + vel[:-1]
      hit = (moved < 0) | (moved >= _BOUND)
      self.assertAllEqual(pos[1:], np.clip(moved, 0, _BOUND - 1))
      # A wall negates the normal component; otherwise the velocity never changes.
      self.assertAllEqual(vel[1:], np.where(hit, -vel[:-1], vel[:-1]))

  @parameterized.named_parameters(("symmetric", "symmetric", range(-4, 5)),
                                  ("reference", "reference", range(-4, 4)))
  def test_velocities(self, velocities, expected):
    source = _source(velocities=velocities, num_frames=1)
    initial = np.concatenate([source.sequence(i)["velocities"][0].ravel()
                              for i in range(400)])
    self.assertEqual(set(initial.tolist()), set(expected))

  def test_same_seed_and_index_identical_and_batch_matches(self):
    source = _source(seed=5)
    batch = source.batch([3, 0, 17])
    self.assertEqual(batch.shape, (3, 7, 64, 64, 3))
    for row, index in zip(batch, (3, 0, 17)):
      self.assertAllEqual(row, _source(seed=5).sequence(index)["frames"])
    self.assertNotAllClose(batch[0], _source(seed=6).sequence(3)["frames"])
    self.assertEqual(source.batch([]).shape, (0, 7, 64, 64, 3))

  def test_motion_is_smmnist_deterministic(self):
    # The shared generator: same draws, same trajectories as SM-MNIST's deterministic
    # variant with the same seed (velocities "symmetric" = SM-MNIST's uniform -4..4).
    ours = _source(seed=2, num_frames=12).sequence(4)
    theirs = smmnist.StochasticMovingMNIST("train", num_frames=12, seed=2, data_dir=_SHIPPED,
                                           deterministic_bounce=True).sequence(4)
    for key in ("positions", "velocities", "digit_indices"):
      self.assertAllEqual(ours[key], theirs[key], msg=key)

  @parameterized.named_parameters(
      ("velocities", dict(velocities="fast"), "fast.*symmetric, reference"),
      ("num_digits", dict(num_digits=4), "num_digits.*1..3.*4"),
      ("split", dict(split="valid"), "valid.*train, test"),
  )
  def test_bad_options(self, kwargs, message):
    kwargs = dict(dict(split="train", data_dir=_SHIPPED), **kwargs)
    with self.assertRaisesRegex(ValueError, message):
      moving_mnist.MovingMNIST(kwargs.pop("split"), **kwargs)


class BuildTest(tf.test.TestCase, parameterized.TestCase):

  def _build(self, split="train", **kwargs):
    kwargs = dict(dict(batch_size=3, num_frames=5, seed=7, data_dir=_SHIPPED), **kwargs)
    return registry.build("mnist", split, **kwargs)

  def _take(self, dataset, count):
    return np.stack([b.numpy() for b in dataset.take(count)])

  def test_registered(self):
    self.assertIn("mnist", registry.names())
    self.assertIs(registry.get_builder("mnist"), moving_mnist.build)

  @parameterized.named_parameters(("train", "train"), ("test", "test"))
  def test_static_shape_dtype_range(self, split):
    dataset = self._build(split)
    self.assertEqual(dataset.element_spec, tf.TensorSpec((3, 5, 64, 64, 3), tf.float32))
    batch = next(iter(dataset)).numpy()
    self.assertBetween(batch.min(), 0.0, 1.0)
    self.assertBetween(batch.max(), 0.0, 1.0)

  def test_train_stream_is_sequence_k(self):
    batches = self._take(self._build(), 2).reshape(6, 5, 64, 64, 3)
    source = _source(seed=7, num_frames=5)
    for k, frames in enumerate(batches):
      self.assertAllEqual(frames, source.sequence(k)["frames"])

  @parameterized.named_parameters(("batch_multiple", 6), ("mid_batch", 4))
  def test_start_index_resumes_exactly(self, start_index):
    full = self._take(self._build(), 4).reshape(12, 5, 64, 64, 3)
    resumed = self._take(self._build(start_index=start_index), 2).reshape(6, 5, 64, 64, 3)
    self.assertAllEqual(resumed, full[start_index:start_index + 6])

  def test_test_set_fixed_and_independent_of_seed(self):
    first = self._build("test", num_test_sequences=7, drop_remainder=False, seed=1)
    self.assertEqual([len(b) for b in first], [3, 3, 1])
    first = np.concatenate([b.numpy() for b in first])
    again = self._build("test", num_test_sequences=7, drop_remainder=False, seed=2)
    self.assertAllEqual(first, np.concatenate([b.numpy() for b in again]))
    source = _source("test", seed=moving_mnist.TEST_SEED, num_frames=5)
    for k in range(7):
      self.assertAllEqual(first[k], source.sequence(k)["frames"])

  @parameterized.named_parameters(("shipped", False), ("real", True))
  def test_train_and_test_digits(self, real):
    if real and not _TEST_DATA:
      self.skipTest("TFGEN_TEST_DATA is not set.")
    data_dir = _TEST_DATA if real else _SHIPPED
    x_train, x_test, _ = mnist.load_mnist(data_dir)
    for split, images in (("train", x_train), ("test", x_test)):
      self.assertEqual(_source(split, data_dir=data_dir).num_source_digits, len(images))

  def test_bad_split(self):
    with self.assertRaisesRegex(ValueError, "validation.*train, test"):
      moving_mnist.build("validation", batch_size=2, num_frames=3, seed=0)


if __name__ == "__main__":
  tf.test.main()
