"""Tests of tfgen.data.stl10 on tiny STL-10 binary files written here.

Files are written in the distribution's layout independently of the loader: per image the
R, G and B planes, each column-major (`image[:, :, c].T` flattened, i.e. byte
`c * 9216 + column * 96 + row`), and one label byte in 1..10 per image.
"""

import os
import shutil

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.data import image_set_checks
from tfgen.data import image_sets
from tfgen.data import stl10

SIZES = {"train": 6, "test": 4, "unlabeled": 10}


def encode(images):
  """(N, 96, 96, 3) HWC -> bytes, each channel column-major."""
  return b"".join(image[:, :, c].T.tobytes() for image in images for c in range(3))


def write_stl(root, seed=0):
  directory = os.path.join(root, "stl10_binary")
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(seed)
  data = {}
  for part, size in SIZES.items():
    images = rng.integers(0, 256, (size, 96, 96, 3), dtype=np.uint8)
    labels = rng.integers(1, 11, size).astype(np.uint8)
    data[part] = (images, labels)
  # A known pixel: unlabelled image 2, row 10, column 70, blue = 201.
  data["unlabeled"][0][2, 10, 70] = (0, 1, 201)
  for part, (images, labels) in data.items():
    with open(os.path.join(directory, f"{part}_X.bin"), "wb") as f:
      f.write(encode(images))
    if part != "unlabeled":
      labels.tofile(os.path.join(directory, f"{part}_y.bin"))
  return data


class STL10Test(image_set_checks.ImageSetChecks, test_case.TestCase):

  NAME = "stl10"
  SHAPE = (32, 32, 3)

  def setUp(self):
    super().setUp()
    self.root = self.get_temp_dir()
    shutil.rmtree(os.path.join(self.root, "stl10_binary"), ignore_errors=True)
    self.data = write_stl(self.root)
    self.directory = os.path.join(self.root, "stl10_binary")
    image_sets._MEMORY_CACHE.clear()  # pylint: disable=protected-access
    stl10._load.cache_clear()  # pylint: disable=protected-access

  def options(self):
    return dict(data_dir=self.root, image_size=32, num_validation=3)

  def test_read_images_column_major_known_pixel(self):
    path = os.path.join(self.directory, "unlabeled_X.bin")
    images = stl10.read_images(path)
    self.assertEqual((images.shape, images.dtype), ((10, 96, 96, 3), np.uint8))
    self.assertAllEqual(images[2, 10, 70], [0, 1, 201])
    with open(path, "rb") as f:
      f.seek(2 * 27648 + 2 * 9216 + 70 * 96 + 10)  # Image 2, blue, column 70, row 10.
      self.assertEqual(f.read(1), bytes([201]))
    self.assertAllEqual(images, self.data["unlabeled"][0])

  def test_full_size_splits(self):
    unlabeled = self.data["unlabeled"][0] / np.float32(255)
    images, labels = image_set_checks.take(
        self.build("validation", image_size=96, drop_remainder=False))
    self.assertAllEqual(images, unlabeled[7:])  # The last 3 of 10.
    self.assertAllEqual(labels, [-1, -1, -1])
    images, labels = image_set_checks.take(
        self.build("test", image_size=96, drop_remainder=False))
    self.assertAllEqual(images, self.data["test"][0] / np.float32(255))
    self.assertAllEqual(labels, self.data["test"][1].astype(np.int32) - 1)
    images, labels = image_set_checks.take(self.build(image_size=96, batch_size=7), 1)
    self.assertAllEqual(np.sort(images.reshape(7, -1), axis=0),
                        np.sort(unlabeled[:7].reshape(7, -1), axis=0))
    self.assertAllEqual(labels, np.full(7, -1))

  def test_labeled_training_set(self):
    images, labels = image_set_checks.take(
        self.build("validation", training_set="labeled", num_validation=None,
                   image_size=96, drop_remainder=False))
    # round(6 / 10) = 1 held out: the last labelled image, label 1..10 -> 0..9.
    self.assertAllEqual(images, self.data["train"][0][5:] / np.float32(255))
    self.assertAllEqual(labels, self.data["train"][1][5:].astype(np.int32) - 1)

  def test_downscaling_is_a_box_average(self):
    images, _ = image_set_checks.take(self.build("validation", drop_remainder=False))
    source = self.data["unlabeled"][0][7:].astype(np.float64) / 255
    expected = source.reshape(3, 32, 3, 32, 3, 3).mean(axis=(2, 4))  # 3x3 block means.
    self.assertAllClose(images, expected, atol=1e-6, rtol=0)

  def test_statistics_match_numpy(self):
    source = self.data["unlabeled"][0][:7].astype(np.float64) / 255
    self.assert_statistics(source.reshape(7, 32, 3, 32, 3, 3).mean(axis=(2, 4)))
    self.assert_statistics(source, image_size=96)

  def test_training_does_not_need_the_test_files(self):
    os.remove(os.path.join(self.directory, "test_X.bin"))
    image_set_checks.take(self.build(), 1)
    with self.assertRaisesRegex(FileNotFoundError, "lacks test_X.bin.*stl10_binary.tar.gz"):
      self.build("test")

  # ---------------------------------------------------------------- bad input

  def test_missing_files_say_where_to_get_them(self):
    os.remove(os.path.join(self.directory, "unlabeled_X.bin"))
    with self.assertRaisesRegex(FileNotFoundError,
                                r"lacks unlabeled_X.bin.*stanford.*stl10_binary"):
      self.build()

  def test_size_not_a_multiple_of_an_image(self):
    path = os.path.join(self.directory, "unlabeled_X.bin")
    with open(path, "ab") as f:
      f.write(b"\x00" * 5)
    with self.assertRaisesRegex(ValueError, f"{path} has {10 * 27648 + 5} bytes.*27648"):
      self.build()

  def test_label_count_mismatch(self):
    path = os.path.join(self.directory, "train_y.bin")
    np.ones(5, np.uint8).tofile(path)
    with self.assertRaisesRegex(ValueError, f"{path} holds 5 labels.*holds 6 images"):
      self.build(training_set="labeled")

  def test_label_out_of_range(self):
    path = os.path.join(self.directory, "test_y.bin")
    np.array([1, 0, 3, 4], np.uint8).tofile(path)
    with self.assertRaisesRegex(ValueError, f"{path} has labels 0..4.*1..10"):
      self.build("test")

  def test_bad_options(self):
    with self.assertRaisesRegex(ValueError, "Unknown training_set 'train'"):
      self.build(training_set="train")
    with self.assertRaisesRegex(ValueError, "image_size must be an int in 1..96"):
      self.build(image_size=128)


if __name__ == "__main__":
  tf.test.main()
