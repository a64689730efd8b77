"""Tests of tfgen.data.cifar10 on tiny CIFAR-10 python-version pickles written here.

Each batch file is written in the distribution's layout independently of the loader: a
protocol-2 pickle of `{b"data": uint8 (N, 3072), b"labels": [...], b"batch_label": ...,
b"filenames": [...]}`, every row the R, G and B planes of an HWC image, each row-major.
"""

import hashlib
import os
import pickle
import shutil

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.data import image_set_checks
from tfgen.data import cifar10
from tfgen.data import image_sets
from tfgen.data import registry

IMAGES_PER_BATCH = 3  # 15 training images, 3 test images.


def encode_rows(images):
  """(N, 32, 32, 3) HWC -> (N, 3072) rows: 1024 R, 1024 G, 1024 B, each row-major."""
  return np.stack([np.concatenate([image[:, :, c].reshape(-1) for c in range(3)])
                   for image in images]).astype(np.uint8)


def write_batch(path, images, labels, changes=None):
  batch = {b"batch_label": b"training batch 1 of 5", b"data": encode_rows(images),
           b"labels": [int(label) for label in labels],
           b"filenames": [b"img_%d.png" % i for i in range(len(images))]}
  batch.update(changes or {})
  with open(path, "wb") as f:
    pickle.dump(batch, f, protocol=2)


def write_cifar(root, seed=0):
  """Writes a tiny `cifar-10-batches-py/` under `root`; returns (train, test) arrays."""
  directory = os.path.join(root, "cifar-10-batches-py")
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(seed)
  images = rng.integers(0, 256, (6 * IMAGES_PER_BATCH, 32, 32, 3), dtype=np.uint8)
  labels = rng.integers(0, 10, len(images))
  # A known pixel: image 4 (batch 2, row 1), row 5, column 7, green = 200.
  images[4, 5, 7] = (11, 200, 13)
  # And test image 1, row 9, column 3: red = 250.
  images[16, 9, 3] = (250, 1, 2)
  for i, name in enumerate([f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]):
    part = slice(i * IMAGES_PER_BATCH, (i + 1) * IMAGES_PER_BATCH)
    write_batch(os.path.join(directory, name), images[part], labels[part])
  with open(os.path.join(directory, "batches.meta"), "wb") as f:
    pickle.dump({b"label_names": [n.encode() for n in cifar10.LABEL_NAMES]}, f, protocol=2)
  train = 5 * IMAGES_PER_BATCH
  return (images[:train], labels[:train]), (images[train:], labels[train:])


def corners(images, size=28):
  """The four corner crops of each image, (4 N, size, size, C)."""
  room = images.shape[1] - size
  return np.concatenate([images[:, top:top + size, left:left + size]
                         for top in (0, room) for left in (0, room)])


class CIFAR10Test(image_set_checks.ImageSetChecks, test_case.TestCase):

  NAME = "cifar10"
  SHAPE = (28, 28, 3)

  def setUp(self):
    super().setUp()
    self.root = self.get_temp_dir()
    shutil.rmtree(os.path.join(self.root, "cifar-10-batches-py"), ignore_errors=True)
    (self.train, self.train_labels), (self.test, self.test_labels) = write_cifar(self.root)
    self.directory = os.path.join(self.root, "cifar-10-batches-py")
    image_sets._MEMORY_CACHE.clear()  # pylint: disable=protected-access

  def options(self):
    return dict(data_dir=self.root, num_validation=4)

  def test_read_batch_layout_and_known_pixel(self):
    images, labels = cifar10.read_batch(os.path.join(self.directory, "data_batch_2"))
    self.assertEqual((images.shape, images.dtype), ((3, 32, 32, 3), np.uint8))
    self.assertAllEqual(images[1, 5, 7], [11, 200, 13])
    # Byte 1024 + 5 * 32 + 7 of the row is that green value: channel-first, row-major.
    with open(os.path.join(self.directory, "data_batch_2"), "rb") as f:
      row = pickle.load(f, encoding="bytes")[b"data"][1]
    self.assertEqual(row[1024 + 5 * 32 + 7], 200)
    self.assertAllEqual(images, self.train[3:6])
    self.assertAllEqual(labels, self.train_labels[3:6])
    self.assertEqual(labels.dtype, np.int32)

  def test_python2_pickles_are_read(self):
    # Python 2's cPickle names numpy's old module path; the loader must accept it.
    path = os.path.join(self.directory, "data_batch_1")
    with open(path, "rb") as f:
      payload = f.read()
    old = payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    self.assertNotEqual(old, payload)
    with open(path, "wb") as f:
      f.write(old)
    images, _ = cifar10.read_batch(path)
    self.assertAllEqual(images, self.train[:3])

  def test_numpy_scalar_labels_are_read(self):
    path = os.path.join(self.directory, "data_batch_1")
    write_batch(path, self.train[:3], self.train_labels[:3],
                {b"labels": list(np.asarray(self.train_labels[:3], np.int64))})
    self.assertAllEqual(cifar10.read_batch(path)[1], self.train_labels[:3])

  def test_full_images_validation_and_test_splits(self):
    images, labels = image_set_checks.take(
        self.build("validation", crop=32, drop_remainder=False))
    self.assertAllEqual(images, self.train[11:] / np.float32(255))  # The last 4 of 15.
    self.assertAllEqual(labels, self.train_labels[11:])
    images, labels = image_set_checks.take(self.build("test", crop=32, drop_remainder=False))
    self.assertAllEqual(images, self.test / np.float32(255))
    self.assertAllEqual(labels, self.test_labels)
    self.assertAllClose(images[1, 9, 3], [250 / 255, 1 / 255, 2 / 255])

  def test_evaluation_takes_the_centre_crop(self):
    images, _ = image_set_checks.take(self.build("test", drop_remainder=False))
    self.assertAllEqual(images, self.test[:, 2:30, 2:30] / np.float32(255))

  def test_default_validation_is_a_tenth(self):
    images, _ = image_set_checks.take(
        self.build("validation", num_validation=None, drop_remainder=False))
    self.assertLen(images, 2)  # round(15 / 10); 5,000 of 50,000 for the real files.

  def test_corner_crops_each_once_per_epoch(self):
    epoch = 4 * 11  # 11 training images x 4 corners.
    images, labels = image_set_checks.take(self.build(batch_size=4), epoch // 4)
    expected = corners(self.train[:11] / np.float32(255))
    # Multisets of examples, as sorted digests (a short diff if they differ).
    digests = lambda x: sorted(hashlib.sha1(bytes(e)).hexdigest()[:8] for e in x)
    self.assertEqual(digests(images), digests(expected))
    self.assertAllEqual(np.sort(labels), np.sort(np.tile(self.train_labels[:11], 4)))

  def test_full_image_stream_visits_each_training_image_once_per_epoch(self):
    images, _ = image_set_checks.take(self.build(crop=32, batch_size=11), 2)
    for epoch in images.reshape(2, 11, -1):
      self.assertAllEqual(np.sort(epoch, axis=0),
                          np.sort(self.train[:11].reshape(11, -1) / np.float32(255), axis=0))

  def test_random_crops_cover_all_offsets(self):
    images, _ = image_set_checks.take(self.build(train_crops="random", batch_size=50), 4)
    windows = {(top, left): self.train[:11, top:top + 28, left:left + 28] / np.float32(255)
               for top in range(5) for left in range(5)}
    found = set()
    for image in images:
      for offset, crops in windows.items():
        if (crops == image).all(axis=(1, 2, 3)).any():
          found.add(offset)
          break
      else:
        self.fail("a training example is no crop of a training image")
    self.assertGreater(len(found), 15)

  def test_random_flip_mirrors_about_half(self):
    images, _ = image_set_checks.take(self.build(crop=32, random_flip=True, batch_size=11), 4)
    train = self.train[:11] / np.float32(255)
    mirrored = 0
    for image in images:
      plain = (train == image).all(axis=(1, 2, 3)).any()
      flipped = (train[:, :, ::-1] == image).all(axis=(1, 2, 3)).any()
      self.assertTrue(plain or flipped)
      mirrored += int(flipped)
    self.assertBetween(mirrored, 8, 36)  # Of 44, binomial(44, 1/2).

  def test_statistics_match_numpy(self):
    train = self.train[:11] / 255.0
    self.assert_statistics(corners(train))
    self.assert_statistics(train, crop=32)
    self.assert_statistics(
        np.concatenate([train[:, t:t + 28, l:l + 28] for t in range(5) for l in range(5)]),
        train_crops="random")
    self.assert_statistics(np.concatenate([train, train[:, :, ::-1]]), crop=32,
                           random_flip=True)

  def test_statistics_are_cached_on_disk(self):
    first = registry.statistics("cifar10", **self.options())
    cache = os.path.join(self.directory, image_sets.STATISTICS_DIR)
    self.assertLen(os.listdir(cache), 1)
    image_sets._MEMORY_CACHE.clear()  # pylint: disable=protected-access
    with tf.compat.v1.test.mock.patch.object(
        image_sets.ImageSet, "statistics", side_effect=AssertionError("recomputed")):
      second = registry.statistics("cifar10", **self.options())
    self.assertAllEqual(first[0], second[0])
    self.assertAllEqual(first[1], second[1])

  # ---------------------------------------------------------------- bad input

  def test_missing_files_say_where_to_get_them(self):
    os.remove(os.path.join(self.directory, "data_batch_3"))
    with self.assertRaisesRegex(FileNotFoundError,
                                r"lacks data_batch_3.*cifar-10-python.tar.gz.*toronto"):
      self.build()

  def assert_bad_batch(self, message, changes):
    path = os.path.join(self.directory, "data_batch_2")
    write_batch(path, self.train[3:6], self.train_labels[3:6], changes)
    with self.assertRaisesRegex(ValueError, f"{path}.*{message}.*expected a CIFAR-10"):
      cifar10.read_batch(path)

  def test_wrong_shape(self):
    self.assert_bad_batch(r"uint8 \(3, 3071\)", {b"data": np.zeros((3, 3071), np.uint8)})

  def test_wrong_dtype(self):
    self.assert_bad_batch(r"float32 \(3, 3072\)", {b"data": np.zeros((3, 3072), np.float32)})

  def test_wrong_label_count(self):
    self.assert_bad_batch("b'labels'.*for 3 images", {b"labels": [1, 2]})

  def test_label_out_of_range(self):
    self.assert_bad_batch("labels range over 1..10", {b"labels": [1, 2, 10]})

  def test_missing_key(self):
    path = os.path.join(self.directory, "data_batch_2")
    with open(path, "wb") as f:
      pickle.dump({b"data": encode_rows(self.train[3:6])}, f, protocol=2)
    with self.assertRaisesRegex(ValueError, f"{path}.*missing.*labels"):
      cifar10.read_batch(path)

  def test_not_a_pickle(self):
    path = os.path.join(self.directory, "data_batch_2")
    with open(path, "wb") as f:
      f.write(b"\x00\x01 not a pickle")
    with self.assertRaisesRegex(ValueError, f"{path} cannot be read as a CIFAR-10 batch"):
      self.build()

  def test_code_in_a_pickle_is_refused(self):
    path = os.path.join(self.directory, "data_batch_2")
    with open(path, "wb") as f:
      pickle.dump({b"data": os.system}, f, protocol=2)
    with self.assertRaisesRegex(ValueError, "refusing to unpickle .*system"):
      cifar10.read_batch(path)

  def test_bad_options(self):
    with self.assertRaisesRegex(ValueError, "num_validation=15 leaves no training images"):
      self.build(num_validation=15)
    with self.assertRaisesRegex(ValueError, "crop must be an int in 1..32"):
      self.build(crop=33)
    with self.assertRaisesRegex(ValueError, "Unknown train_crops 'centre'"):
      self.build(train_crops="centre")
    with self.assertRaisesRegex(ValueError, "Unknown per 'image'"):
      registry.statistics("cifar10", per="image", **self.options())


if __name__ == "__main__":
  tf.test.main()
