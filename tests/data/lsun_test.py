"""Tests of tfgen.data.lsun on tiny per-category LMDB databases written here.

Each database maps ids to encoded images, as LSUN's: lossless PNGs (so pixels can be
checked exactly), a JPEG, a grey image, a WebP, and one corrupt entry.
"""

import io
import os
import shutil

import lmdb
import numpy as np
from PIL import Image
import tensorflow as tf

from tests import test_case
from tests.data import image_set_checks
from tfgen.data import image_sets
from tfgen.data import lsun
from tfgen.data import registry


def encode(array, image_format="PNG"):
  buffer = io.BytesIO()
  Image.fromarray(array).save(buffer, format=image_format)
  return buffer.getvalue()


def write_lmdb(path, entries):
  env = lmdb.open(path, map_size=1 << 24)
  with env.begin(write=True) as txn:
    for key, value in entries.items():
      txn.put(key, value)
  env.close()


def write_lsun(root, category, seed, num_train=4, num_val=3):
  """Writes `<category>_{train,val}_lmdb`; returns {part: {key: uint8 HWC}} of the PNGs.

  Images are 12 wide x 8 high (landscape) or 8 x 12 (portrait): with image_size=8 and
  load_size=8 no resizing happens, so crops are exact slices.
  """
  rng = np.random.default_rng(seed)
  arrays = {}
  for part, count in (("train", num_train), ("val", num_val)):
    entries, arrays[part] = {}, {}
    for i in range(count):
      shape = (8, 12, 3) if i % 2 == 0 else (12, 8, 3)
      array = rng.integers(0, 256, shape, dtype=np.uint8)
      key = b"%s%04d" % (category.encode(), i)
      arrays[part][key] = array
      entries[key] = encode(array)
    entries[b"zz_corrupt"] = b"\xff\xd8\xff\xe0 this is no JPEG"
    write_lmdb(os.path.join(root, f"{category}_{part}_lmdb"), entries)
  return arrays


def windows(array, size=8):
  """Every crop (and its mirror) the training stream may take of `array`."""
  height, width = array.shape[:2]
  crops = [array[t:t + size, l:l + size] for t in range(height - size + 1)
           for l in range(width - size + 1)]
  return crops + [crop[:, ::-1] for crop in crops]


class LSUNTest(image_set_checks.ImageSetChecks, test_case.TestCase):

  NAME = "lsun"
  SHAPE = (8, 8, 3)

  def setUp(self):
    super().setUp()
    self.root = os.path.join(self.get_temp_dir(), "lsun")
    shutil.rmtree(self.root, ignore_errors=True)
    os.makedirs(self.root)
    self.tower = write_lsun(self.root, "tower", seed=0)
    self.bedroom = write_lsun(self.root, "bedroom", seed=1, num_train=3, num_val=2)
    image_sets._MEMORY_CACHE.clear()  # pylint: disable=protected-access
    lsun._CORRUPT.clear()  # pylint: disable=protected-access

  def options(self):
    return dict(data_dir=self.root, category="tower", image_size=8, load_size=8)

  def test_validation_is_centre_crops_in_key_order_without_the_corrupt_entry(self):
    with self.assertLogs(level="WARNING") as logs:
      images, labels = image_set_checks.take(self.build("validation", drop_remainder=False))
    expected = []
    for array in self.tower["val"].values():
      if array.shape[1] == 12:  # Landscape: columns 2..9 (offset ceil(4 / 2)).
        expected.append(array[:, 2:10])
      else:
        expected.append(array[2:10])
    self.assertAllEqual(images, np.stack(expected) / np.float32(255))
    self.assertAllEqual(labels, [0, 0, 0])
    output = "\n".join(logs.output)
    self.assertIn("zz_corrupt", output)
    self.assertIn("4 entries seen = 3 decoded + 1 skipped", output)

  def test_training_examples_are_crops_or_mirrored_crops_of_training_images(self):
    with self.assertLogs(level="WARNING"):  # The corrupt entry is drawn at least once.
      images, labels = image_set_checks.take(self.build(batch_size=20), 3)
    candidates = {}
    for key, array in self.tower["train"].items():
      candidates[key] = np.stack(windows(array)) / np.float32(255)
    used = set()
    for image in images:
      matches = [key for key, crops in candidates.items()
                 if (crops == image).all(axis=(1, 2, 3)).any()]
      self.assertLen(matches, 1)
      used.add(matches[0])
    self.assertEqual(used, set(self.tower["train"]))  # Each image is drawn.
    self.assertAllEqual(labels, np.zeros(60))
    path = os.path.join(self.root, "tower_train_lmdb")
    self.assertEqual(lsun.corrupt_counts()[path], 1)

  def test_flips_and_offsets_vary(self):
    source = lsun.LSUN(self.root, ["tower"], image_size=8, load_size=8)
    array = self.tower["train"][b"tower0000"] / np.float32(255)  # 8 x 12: offsets 0..4.
    found = set()
    for index in range(300):
      image, _ = source.train_example(5, index)
      for left in range(5):
        crop = array[:, left:left + 8]
        if (image == crop).all():
          found.add((left, False))
        if (image == crop[:, ::-1]).all():
          found.add((left, True))
    self.assertEqual(found, {(left, flip) for left in range(5) for flip in (False, True)})

  def test_resize_keeps_aspect_shorter_side_to_load_size(self):
    image = np.random.default_rng(3).random((16, 26, 3)).astype(np.float32)
    scaled = lsun.load_scale(image, 8)
    self.assertEqual(scaled.shape, (8, 13, 3))  # floor(8 * 26 / 16) = 13.
    # Rows: exact 2:1 box average; columns: 26 -> 13 too.
    self.assertAllClose(scaled, image.reshape(8, 2, 13, 2, 3).mean(axis=(1, 3)), atol=1e-6)
    self.assertEqual(lsun.load_scale(image[:, :10], 8).shape, (12, 8, 3))  # 16 x 10 -> 12 x 8.

  def test_jpeg_grey_and_webp_entries_decode(self):
    grey = np.arange(96, dtype=np.uint8).reshape(8, 12)
    # Smooth, so that the lossy codecs keep it close.
    rows, columns = np.meshgrid(np.arange(8) * 20, np.arange(12) * 15, indexing="ij")
    colour = np.stack([rows, columns, np.full((8, 12), 100)], axis=-1).astype(np.uint8)
    path = os.path.join(self.root, "kitchen_val_lmdb")
    write_lmdb(path, {b"a": encode(grey), b"b": encode(colour, "JPEG"),
                      b"c": encode(colour, "WEBP")})
    images, _ = image_set_checks.take(
        self.build("validation", category="kitchen", drop_remainder=False))
    self.assertEqual(images.shape, (3, 8, 8, 3))
    self.assertAllEqual(images[0], np.repeat(grey[:, 2:10, None], 3, axis=-1) / np.float32(255))
    for lossy in images[1:]:
      self.assertLess(np.abs(lossy - colour[:, 2:10] / 255).mean(), 0.05)

  def test_several_categories_label_by_list_index(self):
    images, labels = image_set_checks.take(
        self.build("validation", category=["tower", "bedroom"], drop_remainder=False))
    self.assertAllEqual(labels, [0, 0, 0, 1, 1])
    with self.assertLogs(level="WARNING"):
      _, labels = image_set_checks.take(self.build(category=["bedroom", "tower"],
                                                   batch_size=30), 2)
    self.assertSameElements(labels, [0, 1])
    self.assertBetween(labels.mean(), 0.25, 0.75)  # A scene uniformly, as eyescream.

  def test_channel_statistics_are_eyescreams_estimate(self):
    source = lsun.LSUN(self.root, ["tower"], image_size=8, load_size=8)
    images = np.stack([source.train_example(lsun.STATISTICS_SEED, k)[0]
                       for k in range(12)]).astype(np.float64)
    mean, std = registry.statistics("lsun", num_statistics_images=12, **self.options())
    self.assertEqual((mean.shape, std.shape), ((3,), (3,)))
    self.assertAllClose(mean, images.mean(axis=(1, 2)).mean(axis=0), atol=1e-6)
    # Mean of the images' channel std with Bessel's correction (Torch's std()).
    per_image = images.reshape(12, -1, 3).std(axis=1, ddof=1)
    self.assertAllClose(std, per_image.mean(axis=0), atol=1e-6)
    mean, std = registry.statistics("lsun", per="pixel", num_statistics_images=12,
                                    **self.options())
    self.assertEqual(mean.shape, (8, 8, 3))
    self.assertAllClose(mean, images.mean(axis=0), atol=1e-6)
    self.assertAllClose(std, images.std(axis=0), atol=1e-6)
    self.assertLen(os.listdir(os.path.join(self.root, image_sets.STATISTICS_DIR)), 1)

  # ---------------------------------------------------------------- bad input

  def test_no_test_split(self):
    with self.assertRaisesRegex(ValueError, "lsun.*no 'test' split"):
      self.build("test")
    with self.assertRaisesRegex(ValueError, "no per-category test split.*validation"):
      lsun.build("test", batch_size=1, seed=0, data_dir=self.root)

  def test_missing_lmdb_says_where_to_get_it(self):
    with self.assertRaisesRegex(FileNotFoundError,
                                r"church_outdoor_train_lmdb does not exist.*download.py -c "
                                r"church_outdoor"):
      self.build(category="church_outdoor")

  def test_a_directory_that_is_no_lmdb(self):
    path = os.path.join(self.root, "bridge_train_lmdb")
    os.makedirs(path)
    with open(os.path.join(path, "data.mdb"), "wb") as f:
      f.write(b"garbage" * 1000)
    with self.assertRaisesRegex(ValueError, f"{path} cannot be opened as an LMDB"):
      self.build(category="bridge")

  def test_only_corrupt_entries(self):
    write_lmdb(os.path.join(self.root, "restaurant_val_lmdb"), {b"a": b"not an image"})
    with self.assertRaisesRegex(ValueError, "no entry of .*restaurant_val_lmdb decodes"):
      with self.assertLogs(level="WARNING"):
        self.build("validation", category="restaurant")

  def test_bad_options(self):
    with self.assertRaisesRegex(ValueError, "Unknown category 'castle'; valid: bedroom"):
      self.build(category="castle")
    with self.assertRaisesRegex(ValueError, "load_size must be an int >= 8"):
      self.build(load_size=6)


if __name__ == "__main__":
  tf.test.main()
