"""Checks every image set's tests run: the registry's image contract on a built set."""

import numpy as np
import tensorflow as tf

from tfgen.data import registry


def take(dataset, num_batches=None):
  """`(images, labels)` numpy arrays of the first `num_batches` batches (all if None)."""
  if num_batches is not None:
    dataset = dataset.take(num_batches)
  images, labels = [], []
  for batch in dataset:
    images.append(batch["image"].numpy())
    labels.append(batch["label"].numpy())
  return np.concatenate(images), np.concatenate(labels)


class ImageSetChecks:
  """Mixin for a `test_case.TestCase` with `NAME` and `self.options()` (builder kwargs)."""

  NAME = None
  SHAPE = None  # (height, width, channels) of the examples with `options()`.

  def options(self):
    raise NotImplementedError

  def build(self, split="train", **kwargs):
    kwargs = dict(dict(batch_size=3, seed=7), **dict(self.options(), **kwargs))
    return registry.build(self.NAME, split, **kwargs)

  def test_registered_as_image_set(self):
    self.assertIn(self.NAME, registry.names())
    self.assertEqual(registry.kind(self.NAME), "image")
    self.assertIn("validation", registry.splits(self.NAME))

  def test_train_spec_dtype_range(self):
    dataset = self.build()
    self.assertEqual(dataset.element_spec, {
        "image": tf.TensorSpec((3,) + self.SHAPE, tf.float32),
        "label": tf.TensorSpec((3,), tf.int32)})
    images, labels = take(dataset, 2)
    self.assertEqual(images.shape, (6,) + self.SHAPE)
    self.assertEqual(images.dtype, np.float32)
    self.assertEqual(labels.dtype, np.int32)
    self.assertGreaterEqual(images.min(), 0.0)
    self.assertLessEqual(images.max(), 1.0)
    self.assertGreater(images.max(), images.min())

  def test_train_is_deterministic_and_seed_matters(self):
    first = take(self.build(seed=1), 3)[0]
    self.assertAllEqual(first, take(self.build(seed=1), 3)[0])
    self.assertNotAllClose(first, take(self.build(seed=2), 3)[0])

  def test_start_index_resumes_exactly(self):
    full_images, full_labels = take(self.build(), 4)  # Examples 0..11.
    for start in (3, 5):
      images, labels = take(self.build(start_index=start, batch_size=2), 3)
      self.assertAllEqual(images, full_images[start:start + 6])
      self.assertAllEqual(labels, full_labels[start:start + 6])

  def test_validation_is_fixed(self):
    first = take(self.build("validation", drop_remainder=False))
    second = take(self.build("validation", drop_remainder=False, seed=99, batch_size=1))
    self.assertAllEqual(first[0], second[0])
    self.assertAllEqual(first[1], second[1])

  def test_num_frames_is_refused(self):
    with self.assertRaisesRegex(ValueError, f"{self.NAME}.*images, not clips.*num_frames"):
      self.build(num_frames=4)

  def assert_statistics(self, expected_images, **options):
    """`registry.statistics` equals numpy's moments of `expected_images` (N, h, w, C).

    `expected_images` lists every training example of the distribution once (each crop
    window, each flip), in [0, 1] units.
    """
    images = np.asarray(expected_images, np.float64)
    options = dict(self.options(), **options)
    mean, std = registry.statistics(self.NAME, per="pixel", **options)
    expected_std = images.std(axis=0)
    expected_std[expected_std < 1e-6] = 1.0
    tolerance = 1e-6  # float64 sums, float32 results of magnitude <= 1.
    self.assertEqual(mean.dtype, np.float32)
    self.assertEqual(mean.shape, images.shape[1:])
    self.assertAllClose(mean, images.mean(axis=0), atol=tolerance, rtol=0)
    self.assertAllClose(std, expected_std, atol=tolerance, rtol=0)
    mean, std = registry.statistics(self.NAME, per="channel", **options)
    self.assertEqual(mean.shape, images.shape[-1:])
    self.assertAllClose(mean, images.mean(axis=(0, 1, 2)), atol=tolerance, rtol=0)
    self.assertAllClose(std, images.std(axis=(0, 1, 2)), atol=tolerance, rtol=0)
