"""Tests of tfgen.data.mnist_digits and `tfgen.data.mnist.load_mnist_with_labels`."""

import os
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.data import image_set_checks
from tfgen.data import image_sets
from tfgen.data import mnist
from tfgen.data import mnist_digits
from tfgen.data import registry

_TEST_DATA = test_case.test_data_dir()


def write_mnist(path, num_train=12, num_test=5, seed=0, **changes):
  rng = np.random.default_rng(seed)
  arrays = dict(x_train=rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
                y_train=rng.integers(0, 10, num_train).astype(np.uint8),
                x_test=rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
                y_test=rng.integers(0, 10, num_test).astype(np.uint8))
  arrays["x_train"][:, 0] = 0  # A blank top row: std 0, returned as 1.
  arrays["x_test"][3, 20, 6] = 77  # A known pixel.
  arrays.update(changes)
  arrays = {k: v for k, v in arrays.items() if v is not None}
  np.savez(path, **arrays)
  return arrays


class MNISTDigitsTest(image_set_checks.ImageSetChecks, test_case.TestCase):

  NAME = "mnist_digits"
  SHAPE = (28, 28, 1)

  def setUp(self):
    super().setUp()
    self.path = os.path.join(self.get_temp_dir(), "mnist.npz")
    self.arrays = write_mnist(self.path)
    mnist_digits._load.cache_clear()  # pylint: disable=protected-access
    image_sets._MEMORY_CACHE.clear()  # pylint: disable=protected-access
    self.enter_context(mock.patch.dict(os.environ))
    os.environ.pop(mnist.ENV_VAR, None)

  def options(self):
    return dict(data_dir=self.path)

  def test_splits(self):
    # Default validation: a sixth, round(12 / 6) = 2 digits (10,000 of 60,000).
    images, labels = image_set_checks.take(self.build("validation", drop_remainder=False))
    self.assertAllEqual(images[..., 0], self.arrays["x_train"][10:] / np.float32(255))
    self.assertAllEqual(labels, self.arrays["y_train"][10:])
    images, labels = image_set_checks.take(self.build("test", drop_remainder=False))
    self.assertAllEqual(labels, self.arrays["y_test"])
    self.assertEqual(images[3, 20, 6, 0], np.float32(77) / np.float32(255))
    images, labels = image_set_checks.take(self.build(batch_size=10), 1)
    self.assertAllEqual(np.sort(images.reshape(10, -1), axis=0),
                        np.sort(self.arrays["x_train"][:10].reshape(10, -1) / np.float32(255),
                                axis=0))
    self.assertAllEqual(np.sort(labels), np.sort(self.arrays["y_train"][:10]))

  def test_statistics_match_numpy(self):
    self.assert_statistics(self.arrays["x_train"][:10, ..., None] / 255.0)
    _, std = registry.statistics("mnist_digits", **self.options())
    self.assertAllEqual(std[0], np.ones((28, 1)))  # The blank row.

  def test_shipped_subset_holds_out_a_proportional_tail(self):
    images, _ = image_set_checks.take(
        self.build("validation", data_dir=mnist.SHIPPED_PATH, batch_size=100,
                   drop_remainder=False))
    self.assertLen(images, 333)  # round(2000 / 6).

  def test_real_mnist_holds_out_the_last_10000(self):
    if not _TEST_DATA:
      self.skipTest("TFGEN_TEST_DATA is not set.")
    path = os.path.join(_TEST_DATA, "mnist.npz")
    images, labels = image_set_checks.take(
        self.build("validation", data_dir=path, batch_size=2500))
    with np.load(path) as real:
      self.assertAllEqual(images[..., 0], real["x_train"][50000:] / np.float32(255))
      self.assertAllEqual(labels, real["y_train"][50000:])

  def test_load_mnist_with_labels(self):
    arrays = mnist.load_mnist_with_labels(self.path)
    self.assertEqual(arrays.source, self.path)
    self.assertAllEqual(arrays.y_train, self.arrays["y_train"])
    self.assertAllEqual(arrays.x_test, self.arrays["x_test"])
    # The old entry point is unchanged: three values, no labels needed.
    x_train, x_test, source = mnist.load_mnist(self.path)
    self.assertAllEqual(x_train, self.arrays["x_train"])
    self.assertEqual(source, self.path)

  def test_load_mnist_does_not_need_labels(self):
    write_mnist(self.path, y_train=None, y_test=None)
    self.assertLen(mnist.load_mnist(self.path)[0], 12)
    with self.assertRaisesRegex(ValueError, f"{self.path}.*missing.*y_train"):
      mnist.load_mnist_with_labels(self.path)

  def test_bad_labels(self):
    write_mnist(self.path, y_train=np.full(12, 10, np.uint8))
    with self.assertRaisesRegex(ValueError, f"{self.path}.*y_train.*digits 0-9"):
      self.build()
    write_mnist(self.path, y_test=np.zeros(4, np.uint8))
    with self.assertRaisesRegex(ValueError, r"y_test.*\(4,\) for 5 images"):
      mnist.load_mnist_with_labels(self.path)

  def test_missing_file(self):
    missing = os.path.join(self.get_temp_dir(), "nowhere", "mnist.npz")
    with self.assertRaisesRegex(FileNotFoundError, f"{missing}.*x_train"):
      self.build(data_dir=missing)

  def test_num_validation_too_large(self):
    with self.assertRaisesRegex(ValueError, "num_validation=12 leaves no training"):
      self.build(num_validation=12)


if __name__ == "__main__":
  tf.test.main()
