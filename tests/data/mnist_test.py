"""Tests of tfgen.data.mnist (source resolution, validation, logging)."""

import os
from unittest import mock

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.data import mnist

_TEST_DATA = os.environ.get("TFGEN_TEST_DATA")


def _write_npz(path, **arrays):
  np.savez(path, **arrays)
  return path


def _make_dir(*parts):
  path = os.path.join(*parts)
  os.makedirs(path, exist_ok=True)
  return path


def _good_arrays(num_train=3, num_test=2):
  return dict(x_train=np.zeros((num_train, 28, 28), np.uint8),
              y_train=np.zeros((num_train,), np.uint8),
              x_test=np.full((num_test, 28, 28), 7, np.uint8),
              y_test=np.zeros((num_test,), np.uint8))


class LoadMnistTest(tf.test.TestCase, parameterized.TestCase):

  def setUp(self):
    super().setUp()
    # No ambient configuration leaks into the tests: no $TFGEN_DATA_DIR, an empty
    # Keras home, no network.
    self.enter_context(mock.patch.dict(os.environ))
    os.environ.pop(mnist.ENV_VAR, None)
    self.enter_context(mock.patch.object(
        mnist, "_keras_cache_path",
        return_value=os.path.join(self.get_temp_dir(), "no_keras", "mnist.npz")))
    self.probe = self.enter_context(
        mock.patch.object(mnist, "_network_available", return_value=False))

  def test_explicit_file_and_directory(self):
    path = _write_npz(os.path.join(self.get_temp_dir(), "mnist.npz"), **_good_arrays())
    for given in (path, self.get_temp_dir()):
      with self.assertLogs(level="INFO") as logs:
        x_train, x_test, source = mnist.load_mnist(given)
      self.assertEqual(source, path)
      self.assertEqual(x_train.shape, (3, 28, 28))
      self.assertAllEqual(x_test, np.full((2, 28, 28), 7, np.uint8))
      self.assertIn(path, "\n".join(logs.output))
    self.probe.assert_not_called()

  def test_env_var(self):
    path = _write_npz(os.path.join(self.get_temp_dir(), "mnist.npz"), **_good_arrays())
    os.environ[mnist.ENV_VAR] = self.get_temp_dir()
    with self.assertLogs(level="INFO") as logs:
      _, _, source = mnist.load_mnist()
    self.assertEqual(source, path)
    self.assertIn(mnist.ENV_VAR, "\n".join(logs.output))

  def test_argument_wins_over_env_var(self):
    first = os.path.join(_make_dir(self.get_temp_dir(), "first"), "mnist.npz")
    second = os.path.join(_make_dir(self.get_temp_dir(), "second"), "mnist.npz")
    _write_npz(first, **_good_arrays(num_train=4))
    _write_npz(second, **_good_arrays(num_train=5))
    os.environ[mnist.ENV_VAR] = second
    x_train, _, source = mnist.load_mnist(first)
    self.assertEqual((source, len(x_train)), (first, 4))

  @parameterized.named_parameters(
      ("missing_key", dict(x_train=np.zeros((3, 28, 28), np.uint8))),
      ("wrong_dtype", dict(x_train=np.zeros((3, 28, 28), np.float32),
                           x_test=np.zeros((2, 28, 28), np.uint8))),
      ("wrong_shape", dict(x_train=np.zeros((3, 32, 32), np.uint8),
                           x_test=np.zeros((2, 28, 28), np.uint8))),
      ("flat", dict(x_train=np.zeros((3, 784), np.uint8),
                    x_test=np.zeros((2, 784), np.uint8))),
  )
  def test_malformed_npz_names_file_and_layout(self, arrays):
    path = _write_npz(os.path.join(self.get_temp_dir(), "bad.npz"), **arrays)
    with self.assertRaisesRegex(ValueError, f"{path}.*x_train.*uint8.*x_test"):
      mnist.load_mnist(path)
    self.probe.assert_not_called()

  @parameterized.named_parameters(("argument", False), ("env_var", True))
  def test_not_an_npz(self, through_env):
    path = os.path.join(self.get_temp_dir(), "mnist.npz")
    with open(path, "w") as f:
      f.write("this is not an npz file\n")
    if through_env:
      os.environ[mnist.ENV_VAR] = path
    with self.assertRaisesRegex(ValueError, f"{path}.*keras.datasets.mnist"):
      mnist.load_mnist(None if through_env else path)

  def test_single_npy_array(self):
    path = os.path.join(self.get_temp_dir(), "array.npy")
    np.save(path, np.zeros((3, 28, 28), np.uint8))
    with self.assertRaisesRegex(ValueError, f"{path}.*not an .npz"):
      mnist.load_mnist(path)

  @parameterized.named_parameters(("argument", False), ("env_var", True))
  def test_missing_path_raises(self, through_env):
    missing = os.path.join(self.get_temp_dir(), "nowhere", "mnist.npz")
    if through_env:
      os.environ[mnist.ENV_VAR] = missing
    with self.assertRaisesRegex(FileNotFoundError, f"{missing}.*x_train"):
      mnist.load_mnist(None if through_env else missing)
    self.probe.assert_not_called()

  def test_directory_without_file_raises(self):
    directory = _make_dir(self.get_temp_dir(), "empty")
    with self.assertRaisesRegex(FileNotFoundError, os.path.join(directory, "mnist.npz")):
      mnist.load_mnist(directory)

  def test_keras_cache_used_before_network(self):
    cache = os.path.join(self.get_temp_dir(), "keras", "datasets", "mnist.npz")
    os.makedirs(os.path.dirname(cache))
    _write_npz(cache, **_good_arrays(num_train=6))
    with mock.patch.object(mnist, "_keras_cache_path", return_value=cache):
      x_train, _, source = mnist.load_mnist()
    self.assertEqual((source, len(x_train)), (cache, 6))
    self.probe.assert_not_called()

  def test_network_path_downloads_with_keras(self):
    self.probe.return_value = True
    good = _good_arrays(num_train=8)
    load_data = self.enter_context(mock.patch(
        "keras.datasets.mnist.load_data",
        return_value=((good["x_train"], good["y_train"]),
                      (good["x_test"], good["y_test"]))))
    x_train, _, source = mnist.load_mnist()
    load_data.assert_called_once()
    self.assertLen(x_train, 8)
    self.assertStartsWith(source, "keras download")

  def test_no_path_no_network_uses_shipped_subset_with_warning(self):
    with self.assertLogs(level="WARNING") as logs:
      x_train, x_test, source = mnist.load_mnist()
    self.probe.assert_called_once()
    self.assertIn(mnist.SHIPPED_PATH, source)
    self.assertIn("NOT comparable to papers", "\n".join(logs.output))
    self.assertEqual((x_train.shape, x_train.dtype), ((2000, 28, 28), np.uint8))
    self.assertEqual((x_test.shape, x_test.dtype), ((500, 28, 28), np.uint8))
    self.assertLess(os.path.getsize(mnist.SHIPPED_PATH), 1 << 20)

  @parameterized.named_parameters(("file", "mnist.npz"), ("directory", ""))
  def test_real_file_is_used_and_logged(self, name):
    if not _TEST_DATA:
      self.skipTest("TFGEN_TEST_DATA is not set.")
    given = os.path.join(_TEST_DATA, name) if name else _TEST_DATA
    with self.assertLogs(level="INFO") as logs:
      x_train, x_test, source = mnist.load_mnist(given)
    self.assertEqual(source, os.path.join(_TEST_DATA, "mnist.npz"))
    self.assertIn(source, "\n".join(logs.output))
    self.assertEqual(x_train.shape, (60000, 28, 28))
    self.assertEqual(x_test.shape, (10000, 28, 28))
    # Pixel mean over x_train documented in the data README.
    self.assertAllClose(x_train.mean(), 33.318, atol=1e-3)

  def test_shipped_subset_is_the_head_of_real_mnist(self):
    if not _TEST_DATA:
      self.skipTest("TFGEN_TEST_DATA is not set.")
    x_train, x_test, _ = mnist.load_mnist(_TEST_DATA)
    with np.load(mnist.SHIPPED_PATH) as small:
      self.assertAllEqual(small["x_train"], x_train[:2000])
      self.assertAllEqual(small["x_test"], x_test[:500])
      self.assertEqual(small["y_train"].shape, (2000,))
      self.assertEqual(small["y_test"].shape, (500,))


if __name__ == "__main__":
  tf.test.main()
