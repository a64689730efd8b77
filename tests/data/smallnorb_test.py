"""Tests of tfgen.data.smallnorb: the binary-matrix reader, sweeps and the "norb" builder.

The tests write tiny smallNORB files in the distribution's exact binary format themselves
(`write_matrix`, independent of the reader) and run the real loader on them. Every image
encodes its labels as flat grey regions aligned to 3x3 blocks, so they survive the 96 -> 64
area resize exactly: rows 0-47 the azimuth index, rows 48-95 the instance (columns 0-47)
and the (category, elevation, lighting) (columns 48-95); the second camera is 255 minus
the first.
"""

import gzip
import itertools
import os
import re
import shutil
import struct
import tempfile
from unittest import mock

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.data import registry
from tfgen.data import smallnorb

# Written independently of the module's constants, so a wrong constant there fails here.
UINT8_MAGIC = 0x1E3D4C55
INT32_MAGIC = 0x1E3D4C54
TRAIN_NAME = "smallnorb-5x46789x9x18x6x2x96x96-training-{}.mat"
TEST_NAME = "smallnorb-5x01235x9x18x6x2x96x96-testing-{}.mat"
ALL_NAMES = [name.format(kind) for name in (TRAIN_NAME, TEST_NAME)
             for kind in ("dat", "cat", "info")]

# (category, instance) of the tiny splits: 4 train objects, 2 test objects, all with
# 2 elevations x 2 lightings x 18 azimuths: 16 train and 8 test sweeps.
TRAIN_OBJECTS = ((0, 4), (0, 8), (3, 4), (3, 8))
TEST_OBJECTS = ((1, 2), (4, 5))
ELEVATIONS = (1, 6)
LIGHTINGS = (0, 5)


def write_matrix(path, array, magic=None, dims=None, ndim=None, cut=0, extra=b""):
  """Writes `array` as a LeCun binary matrix (gzip-compressed if `path` ends in `.gz`).

  `magic`, `dims`, `ndim` override the header; `cut` drops trailing bytes, `extra` adds
  some.
  """
  array = np.asarray(array)
  if magic is None:
    magic = {np.dtype(np.uint8): UINT8_MAGIC, np.dtype(np.int32): INT32_MAGIC}[array.dtype]
  dims = list(array.shape if dims is None else dims)
  ndim = len(dims) if ndim is None else ndim
  words = dims + [1] * (3 - len(dims))  # At least 3 dimension words, padded with 1.
  payload = (struct.pack(f"<ii{len(words)}i", magic, ndim, *words)
             + array.astype(array.dtype.newbyteorder("<")).tobytes() + extra)
  if cut:
    payload = payload[:-cut]
  with (gzip.open if path.endswith(".gz") else open)(path, "wb") as f:
    f.write(payload)


def azimuth_value(azimuth):
  return 20 + 12 * azimuth


def instance_value(instance):
  return 20 + 20 * instance


def context_value(category, elevation, lighting):
  return (10 + 40 * category + 20 * ELEVATIONS.index(elevation)
          + 10 * LIGHTINGS.index(lighting))


def pose_image(category, instance, elevation, azimuth, lighting):
  """The first camera's 96x96 uint8 image of one pose (module docstring)."""
  image = np.empty((96, 96), np.uint8)
  image[:48] = azimuth_value(azimuth)
  image[48:, :48] = instance_value(instance)
  image[48:, 48:] = context_value(category, elevation, lighting)
  return image


def pose_records(objects):
  """int `(N, 5)` rows (category, instance, elevation, azimuth index, lighting)."""
  return np.array([(c, i, e, a, l) for (c, i), e, l, a in itertools.product(
      objects, ELEVATIONS, LIGHTINGS, range(18))], np.int64)


def write_split(directory, split, records=None, gz=False, shuffle=True):
  """Writes the three files of `split`; returns the records in file order."""
  if records is None:
    records = pose_records(TRAIN_OBJECTS if split == "train" else TEST_OBJECTS)
  if shuffle:  # The loader must not rely on the file's order.
    records = records[np.random.default_rng(1).permutation(len(records))]
  first = np.stack([pose_image(*r) for r in records]) if len(records) else np.zeros(
      (0, 96, 96), np.uint8)
  dat = np.stack([first, 255 - first], axis=1)  # (N, 2, 96, 96)
  category, instance, elevation, azimuth, lighting = records.T
  info = np.stack([instance, elevation, 2 * azimuth, lighting], axis=1).astype(np.int32)
  name = TRAIN_NAME if split == "train" else TEST_NAME
  suffix = ".gz" if gz else ""
  os.makedirs(directory, exist_ok=True)
  write_matrix(os.path.join(directory, name.format("dat") + suffix), dat)
  write_matrix(os.path.join(directory, name.format("cat") + suffix), category.astype(np.int32))
  write_matrix(os.path.join(directory, name.format("info") + suffix), info)
  return records


def decode(frames):
  """Labels encoded in float frames `(..., size, size, 1)` (size 64 or 96).

  Returns int arrays `(...)`: azimuth index, instance and context value; fails if a region
  is not flat (the resize mixed regions) or not an encoded value.
  """
  values = np.asarray(frames, np.float64)[..., 0] * 255
  half = values.shape[-1] // 2
  regions = {"azimuth": values[..., :half, :], "instance": values[..., half:, :half],
             "context": values[..., half:, half:]}
  out = {}
  for name, region in regions.items():
    flat = region.reshape(region.shape[:-2] + (-1,))
    np.testing.assert_allclose(flat.max(-1), flat.min(-1), atol=1e-3, err_msg=name)
    out[name] = flat.mean(-1)
  azimuth = (out["azimuth"] - 20) / 12
  instance = (out["instance"] - 20) / 20
  for name, value in (("azimuth", azimuth), ("instance", instance),
                      ("context", out["context"])):
    np.testing.assert_allclose(value, np.round(value), atol=1e-3, err_msg=name)
  return (np.round(azimuth).astype(int), np.round(instance).astype(int),
          np.round(out["context"]).astype(int))


class SmallNORBTestCase(test_case.TestCase):
  """Writes the tiny train and test splits once per class."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="smallnorb_test_")
    cls.data_dir = os.path.join(cls.root, "data")
    cls.train_records = write_split(cls.data_dir, "train")
    cls.test_records = write_split(cls.data_dir, "test")

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def new_dir(self):
    """A fresh empty directory, removed with the class's files."""
    return tempfile.mkdtemp(dir=self.root)

  def copy_data(self):
    """A private copy of the tiny data set, for tests that damage files."""
    directory = os.path.join(self.new_dir(), "norb")
    shutil.copytree(self.data_dir, directory)
    return directory


class ReadMatrixTest(SmallNORBTestCase):

  @parameterized.named_parameters(("plain", ""), ("gz", ".gz"))
  def test_header_parsing(self, suffix):
    directory = self.new_dir()
    rng = np.random.default_rng(0)
    arrays = {
        "bytes4d": rng.integers(0, 256, (3, 2, 4, 5)).astype(np.uint8),
        "ints1d": rng.integers(-9, 9, (7,)).astype(np.int32),  # Header of 3 dim words.
        "ints2d": rng.integers(-9, 9, (5, 4)).astype(np.int32),
        "bytes5d": rng.integers(0, 256, (2, 1, 3, 2, 2)).astype(np.uint8),
        "empty": np.zeros((0, 4), np.int32),
    }
    for name, array in arrays.items():
      path = os.path.join(directory, f"{name}.mat{suffix}")
      write_matrix(path, array)
      result = smallnorb.read_matrix(path)
      self.assertEqual(result.dtype, array.dtype, name)
      self.assertEqual(result.shape, array.shape, name)
      self.assertAllEqual(result, array, msg=name)
    if not suffix:
      # The header is magic, ndim, max(3, ndim) dims: 20 bytes for 1-D and 2-D, 24 for 4-D.
      self.assertEqual(os.path.getsize(os.path.join(directory, "ints1d.mat")), 20 + 7 * 4)
      self.assertEqual(os.path.getsize(os.path.join(directory, "ints2d.mat")), 20 + 20 * 4)
      self.assertEqual(os.path.getsize(os.path.join(directory, "bytes4d.mat")), 24 + 120)

  def test_expected_dtype_and_shape_pass(self):
    path = os.path.join(self.new_dir(), "m.mat")
    write_matrix(path, np.arange(24, dtype=np.int32).reshape(6, 4))
    self.assertAllEqual(smallnorb.read_matrix(path, np.int32, (None, 4)),
                        np.arange(24).reshape(6, 4))

  @parameterized.named_parameters(
      ("truncated_data", dict(cut=1), r"truncated: dims \(3, 2, 4, 5\) of uint8 need a "
       r"24-byte header and 120 bytes of data \(144 bytes\), the file has 143"),
      ("trailing_bytes", dict(extra=b"\0\0"), r"trailing bytes: .*the file has 146"),
      ("wrong_magic", dict(magic=0x1E3D4C99),
       r"magic number 0x1E3D4C99 is none of .*0x1E3D4C54 \(int32\), 0x1E3D4C55 \(uint8\)"),
      ("big_endian_magic", dict(magic=0x554C3D1E), r"magic number 0x554C3D1E is none of"),
      ("packed_magic", dict(magic=0x1E3D4C52), r"magic number 0x1E3D4C52 is none of"),
      ("ndim_zero", dict(ndim=0), r"ndim is 0, expected 1\.\.16"),
      ("ndim_huge", dict(ndim=1000), r"ndim is 1000, expected 1\.\.16"),
      ("negative_dim", dict(dims=(3, -2, 4, 5)), r"negative dimension"),
      ("ndim_disagrees_with_data", dict(ndim=3), r"trailing bytes: dims \(3, 2, 4\)"),
      ("header_only", dict(cut=120 + 12), r"header is truncated: ndim 4 needs 4 dimension "
       r"words, only 1 follow"),
      ("no_header", dict(cut=144 - 5), r"it has 5 bytes, fewer than the 8"),
  )
  def test_wrong_layout(self, kwargs, message):
    for suffix in ("", ".gz"):
      path = os.path.join(self.new_dir(), f"bad.mat{suffix}")
      write_matrix(path, np.zeros((3, 2, 4, 5), np.uint8), **kwargs)
      if suffix and "file has" in message:
        message = message.replace("the file has", "the decompressed file has")
        message = message.replace("decompressed file has 146", "decompressed file has more")
      with self.assertRaisesRegex(ValueError, message) as raised:
        smallnorb.read_matrix(path)
      self.assertIn(path, str(raised.exception))
      self.assertIn("wrong layout", str(raised.exception))

  @parameterized.named_parameters(
      ("wrong_dims", np.zeros((3, 2, 96), np.uint8), np.uint8, (None, 2, 96, 96),
       r"dims \(3, 2, 96\), expected \(N, 2, 96, 96\)"),
      ("wrong_size", np.zeros((3, 2, 48, 48), np.uint8), np.uint8, (None, 2, 96, 96),
       r"dims \(3, 2, 48, 48\), expected \(N, 2, 96, 96\)"),
      ("wrong_dtype", np.zeros((3, 4), np.uint8), np.int32, (None, 4),
       r"it holds uint8 \(magic 0x1E3D4C55\), expected int32 \(magic 0x1E3D4C54\)"),
      ("cat_as_2d", np.zeros((3, 1), np.int32), np.int32, (None,),
       r"dims \(3, 1\), expected \(N\)"),
  )
  def test_unexpected_dtype_or_dims(self, array, dtype, shape, message):
    path = os.path.join(self.new_dir(), "bad.mat")
    write_matrix(path, array)
    with self.assertRaisesRegex(ValueError, message) as raised:
      smallnorb.read_matrix(path, dtype, shape)
    self.assertIn(path, str(raised.exception))

  def test_corrupt_gzip(self):
    path = os.path.join(self.new_dir(), "bad.mat.gz")
    write_matrix(path, np.arange(5000, dtype=np.int32))
    with open(path, "rb") as f:
      data = f.read()
    with open(path, "wb") as f:
      f.write(data[:len(data) // 2])  # A cut download.
    with self.assertRaisesRegex(ValueError, "wrong layout.*cannot be read"):
      smallnorb.read_matrix(path)


class LoadSplitTest(SmallNORBTestCase):

  @parameterized.named_parameters(("train", "train"), ("test", "test"))
  def test_fields_follow_the_files(self, split):
    records = self.train_records if split == "train" else self.test_records
    data = smallnorb.load_split(self.data_dir, split)
    self.assertEqual(data.images.shape, (len(records), 96, 96))
    self.assertEqual(data.images.dtype, np.uint8)
    fields = np.stack([data.category, data.instance, data.elevation, data.azimuth,
                       data.lighting], axis=1)
    self.assertAllEqual(fields, records)  # Azimuth 0, 2, .., 34 in the file -> 0..17.
    for row in (0, 5, len(records) - 1):
      self.assertAllEqual(data.images[row], pose_image(*records[row]))

  def test_cameras(self):
    first = smallnorb.load_split(self.data_dir, "train", "first").images
    second = smallnorb.load_split(self.data_dir, "train", "second").images
    both = smallnorb.load_split(self.data_dir, "train", "both").images
    self.assertAllEqual(second, 255 - np.asarray(first))
    self.assertEqual(both.shape, first.shape + (2,))
    self.assertAllEqual(both[..., 0], first)
    self.assertAllEqual(both[..., 1], second)
    with self.assertRaisesRegex(ValueError, "camera 'left'; valid: first, second, both"):
      smallnorb.load_split(self.data_dir, "train", "left")

  def test_gz_files(self):
    directory = self.new_dir()
    write_split(directory, "train", gz=True)
    plain = smallnorb.load_split(self.data_dir, "train")
    compressed = smallnorb.load_split(directory, "train")
    for a, b in zip(plain, compressed):
      self.assertAllEqual(a, b)

  def test_missing_file(self):
    directory = self.copy_data()
    os.remove(os.path.join(directory, TEST_NAME.format("cat")))
    smallnorb.load_split(directory, "train")  # The train files are complete.
    with self.assertRaises(FileNotFoundError) as raised:
      smallnorb.load_split(directory, "test")
    message = str(raised.exception)
    self.assertIn(f"{directory} lacks {TEST_NAME.format('cat')}", message)
    for name in ALL_NAMES:
      self.assertIn(name, message)
    self.assertIn("https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/", message)

  def test_default_directories(self):
    root = self.new_dir()
    tfgen_root, tfds_root = os.path.join(root, "tfgen"), os.path.join(root, "tfds")
    environ = dict(TFGEN_DATA_DIR=tfgen_root, TFDS_DATA_DIR=tfds_root)
    tfgen_dir = os.path.join(tfgen_root, "smallnorb")
    manual_dir = os.path.join(tfds_root, "downloads", "manual")
    with mock.patch.dict(os.environ, environ):
      with self.assertRaisesRegex(
          FileNotFoundError, f"(?s){re.escape(tfgen_dir)} lacks .*; {re.escape(manual_dir)} "
          f"lacks .*Download .* into {re.escape(tfgen_dir)}, or pass data_dir"):
        smallnorb.load_split(None, "train")
      # TFDS's manual directory is the fallback; tfgen's own directory comes first.
      write_split(os.path.join(tfds_root, "downloads", "manual"), "train", gz=True)
      self.assertEqual(len(smallnorb.load_split(None, "train").images), 288)
      self.assertEqual(smallnorb.find_split_files(None, "train")["dat"],
                       os.path.join(tfds_root, "downloads", "manual",
                                    TRAIN_NAME.format("dat") + ".gz"))
      write_split(os.path.join(tfgen_root, "smallnorb"), "train")
      self.assertEqual(smallnorb.find_split_files(None, "train")["dat"],
                       os.path.join(tfgen_root, "smallnorb", TRAIN_NAME.format("dat")))

  def test_truncated_dat_file(self):
    directory = self.copy_data()
    path = os.path.join(directory, TRAIN_NAME.format("dat"))
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) - 9216)  # One image short.
    with self.assertRaisesRegex(ValueError, f"{path} has the wrong layout.*truncated"):
      smallnorb.load_split(directory, "train")

  def test_swapped_files(self):
    directory = self.copy_data()
    cat, dat = (os.path.join(directory, TRAIN_NAME.format(k)) for k in ("cat", "dat"))
    os.rename(cat, cat + ".tmp")
    os.rename(dat, cat)
    os.rename(cat + ".tmp", dat)
    with self.assertRaisesRegex(
        ValueError, f"{dat} has the wrong layout.*holds int32.*expected uint8"):
      smallnorb.load_split(directory, "train")

  def test_files_disagree_on_count(self):
    directory = self.copy_data()
    write_matrix(os.path.join(directory, TRAIN_NAME.format("cat")),
                 self.train_records[:-1, 0].astype(np.int32))
    with self.assertRaisesRegex(
        ValueError, "wrong layout: .*-training-dat.mat holds 288 image pairs, "
        ".*-training-cat.mat 287 categories and .*-training-info.mat 288 info rows"):
      smallnorb.load_split(directory, "train")

  @parameterized.named_parameters(
      ("odd_azimuth", "train", 2, 3, r"azimuth \(column 2\) 3, expected one of 0, 2, 4"),
      ("azimuth_36", "train", 2, 36, r"azimuth \(column 2\) 36"),
      ("elevation_9", "train", 1, 9, r"elevation \(column 1\) 9"),
      ("lighting_6", "test", 3, 6, r"lighting \(column 3\) 6"),
      ("test_instance_in_train", "train", 0, 0,
       r"instance \(column 0; the train split holds only instances 4, 6, 7, 8, 9\) 0"),
      ("train_instance_in_test", "test", 0, 4,
       r"instance \(column 0; the test split holds only instances 0, 1, 2, 3, 5\) 4"),
  )
  def test_label_out_of_range(self, split, column, value, message):
    directory = self.copy_data()
    records = self.train_records if split == "train" else self.test_records
    name = TRAIN_NAME if split == "train" else TEST_NAME
    info = np.stack([records[:, 1], records[:, 2], 2 * records[:, 3], records[:, 4]],
                    axis=1).astype(np.int32)
    info[7, column] = value
    path = os.path.join(directory, name.format("info"))
    write_matrix(path, info)
    with self.assertRaisesRegex(
        ValueError, f"{re.escape(path)} has the wrong layout.*row 7 has {message}"):
      smallnorb.load_split(directory, split)

  def test_category_out_of_range(self):
    directory = self.copy_data()
    category = self.train_records[:, 0].astype(np.int32)
    category[3] = 5
    path = os.path.join(directory, TRAIN_NAME.format("cat"))
    write_matrix(path, category)
    with self.assertRaisesRegex(ValueError, f"{path} .*row 3 has category 5, expected one "
                                "of 0, 1, 2, 3, 4"):
      smallnorb.load_split(directory, "train")


class SweepTest(SmallNORBTestCase):

  def test_grouping_and_azimuth_order(self):
    norb = smallnorb.SmallNORB("train", data_dir=self.data_dir)
    expected = sorted({(c, i, e, l) for c, i, e, _, l in self.train_records.tolist()})
    self.assertAllEqual(norb.labels, expected)  # 16 sweeps, lexicographic.
    self.assertEqual(norb.frame_indices.shape, (16, 18))
    frames = norb.clips(np.arange(16), np.zeros(16, int), num_frames=18)
    self.assertEqual(frames.shape, (16, 18, 64, 64, 1))
    azimuth, instance, context = decode(frames)
    self.assertAllEqual(azimuth, np.tile(np.arange(18), (16, 1)))
    self.assertAllEqual(instance, np.repeat(norb.labels[:, 1:2], 18, axis=1))
    expected_context = [context_value(c, e, l) for c, _, e, l in norb.labels]
    self.assertAllEqual(context, np.repeat(np.array(expected_context)[:, None], 18, axis=1))

  def test_clips_wrap_around(self):
    norb = smallnorb.SmallNORB("test", data_dir=self.data_dir)
    azimuth, _, _ = decode(norb.clips([3, 5], [15, 2], num_frames=6))
    self.assertAllEqual(azimuth, [[15, 16, 17, 0, 1, 2], [2, 3, 4, 5, 6, 7]])

  def test_incomplete_sweep(self):
    directory = self.new_dir()
    records = pose_records(TRAIN_OBJECTS)
    records = np.delete(records, 20, axis=0)  # Azimuth 2 of the second sweep.
    write_split(directory, "train", records)
    with self.assertRaisesRegex(
        ValueError, r"-training-info.mat has the wrong layout for smallNORB sweeps: "
        r"\(category, instance, elevation, lighting\) = \(0, 4, 1, 5\) has azimuth indices "
        r"\[0, 1, 3, 4, .*17\], expected each of 0..17 once"):
      smallnorb.SmallNORB("train", data_dir=directory)

  def test_duplicated_azimuth(self):
    directory = self.new_dir()
    records = pose_records(TEST_OBJECTS)
    records[40, 3] = records[41, 3]  # Two images at one azimuth, none at another.
    write_split(directory, "test", records)
    with self.assertRaisesRegex(ValueError, r"\(1, 2, 6, 0\) has azimuth indices "
                                r"\[0, 1, 2, 3, 5, 5, 6, .*\], expected each of 0..17 once"):
      smallnorb.SmallNORB("test", data_dir=directory)

  def test_area_resize_is_tf_area(self):
    image = np.random.default_rng(0).uniform(0, 255, (2, 96, 96)).astype(np.float32)
    for size in (64, 40, 96, 7):
      matrix = smallnorb.area_resize_matrix(96, size)
      self.assertAllClose(matrix.sum(axis=1), np.ones(size), atol=1e-6)
      expected = tf.image.resize(image[..., None], (size, size), method="area")[..., 0]
      self.assertCloseForAccumulation(matrix @ image @ matrix.T, expected,
                                      accumulation_length=96 * 96, msg=str(size))

  def test_resized_frames(self):
    native = smallnorb.SmallNORB("train", data_dir=self.data_dir, image_size=96)
    small = smallnorb.SmallNORB("train", data_dir=self.data_dir, image_size=32)
    data = smallnorb.load_split(self.data_dir, "train")
    index = native.frame_indices[4, 9]
    frame96 = native.clips([4], [9], num_frames=1)[0, 0, ..., 0]
    self.assertAllEqual(frame96, data.images[index] / np.float32(255))
    frame32 = small.clips([4], [9], num_frames=1)[0, 0, ..., 0]
    expected = tf.image.resize(data.images[index][..., None].astype(np.float32), (32, 32),
                               method="area")[..., 0] / 255
    self.assertAllClose(frame32, expected, atol=1e-6)

  def test_both_cameras_are_channels(self):
    norb = smallnorb.SmallNORB("train", data_dir=self.data_dir, camera="both")
    self.assertEqual(norb.channels, 2)
    frames = norb.clips([0, 7], [3, 11], num_frames=4)
    self.assertEqual(frames.shape, (2, 4, 64, 64, 2))
    self.assertAllClose(frames[..., 1], 1 - frames[..., 0], atol=1e-6)
    first = smallnorb.SmallNORB("train", data_dir=self.data_dir).clips(
        [0, 7], [3, 11], num_frames=4)
    self.assertAllEqual(frames[..., :1], first)

  @parameterized.named_parameters(
      ("image_size_big", dict(image_size=128), r"image_size must be an int in 1..96, got 128"),
      ("image_size_float", dict(image_size=64.0), r"image_size .* got 64.0"),
      ("camera", dict(camera="left"), r"Unknown camera 'left'; valid: first, second, both"),
      ("split", dict(split="valid"), r"Unknown split 'valid'; valid: train, test"),
  )
  def test_bad_options(self, kwargs, message):
    kwargs = dict(dict(split="train", data_dir=self.data_dir), **kwargs)
    with self.assertRaisesRegex(ValueError, message):
      smallnorb.SmallNORB(kwargs.pop("split"), **kwargs)


class BuildTest(SmallNORBTestCase):

  def build(self, split="train", **kwargs):
    kwargs = dict(dict(batch_size=3, num_frames=5, seed=7, data_dir=self.data_dir), **kwargs)
    return registry.build("norb", split, **kwargs)

  def take(self, dataset, count):
    return np.stack([batch.numpy() for batch in dataset.take(count)])

  def test_registered(self):
    self.assertIn("norb", registry.names())
    self.assertIs(registry.get_builder("norb"), smallnorb.build)

  @parameterized.named_parameters(
      ("train", "train", {}, (3, 5, 64, 64, 1)),
      ("test", "test", {}, (3, 5, 64, 64, 1)),
      ("train_both_32", "train", dict(camera="both", image_size=32), (3, 5, 32, 32, 2)),
      ("test_18_frames", "test", dict(num_frames=18), (3, 18, 64, 64, 1)),
  )
  def test_static_shape_dtype_range(self, split, kwargs, shape):
    dataset = self.build(split, **kwargs)
    self.assertEqual(dataset.element_spec, tf.TensorSpec(shape, tf.float32))
    batch = next(iter(dataset)).numpy()
    self.assertEqual(batch.shape, shape)
    self.assertBetween(batch.min(), 0.0, 1.0)
    self.assertBetween(batch.max(), 0.0, 1.0)
    self.assertGreater(batch.max(), batch.min())

  def test_train_stream_is_clip_k(self):
    clips = self.take(self.build(), 4).reshape(12, 5, 64, 64, 1)
    norb = smallnorb.SmallNORB("train", data_dir=self.data_dir)
    for k, clip in enumerate(clips):
      sweep, start = smallnorb.train_clip(7, k, 16)
      self.assertAllEqual(clip, norb.clips([sweep], [start], 5)[0])
      azimuth, instance, context = decode(clip)
      self.assertAllEqual(azimuth, (start + np.arange(5)) % 18)
      c, i, e, l = norb.labels[sweep]
      self.assertAllEqual(instance, np.full(5, i))
      self.assertAllEqual(context, np.full(5, context_value(c, e, l)))

  def test_train_clip_draws(self):
    # Same (seed, k), same clip; sweeps and starts cover their whole ranges.
    self.assertEqual(smallnorb.train_clip(3, 11, 16), smallnorb.train_clip(3, 11, 16))
    draws = np.array([smallnorb.train_clip(3, k, 16) for k in range(600)])
    self.assertSameElements(draws[:, 0], range(16))
    self.assertSameElements(draws[:, 1], range(18))
    other = np.array([smallnorb.train_clip(4, k, 16) for k in range(600)])
    self.assertLess((draws == other).all(axis=1).mean(), 0.1)

  @parameterized.named_parameters(("batch_multiple", 6), ("mid_batch", 4))
  def test_start_index_resumes_exactly(self, start_index):
    full = self.take(self.build(), 4).reshape(12, 5, 64, 64, 1)
    resumed = self.take(self.build(start_index=start_index), 2).reshape(6, 5, 64, 64, 1)
    self.assertAllEqual(resumed, full[start_index:start_index + 6])

  def test_train_is_deterministic_and_seed_matters(self):
    first = self.take(self.build(seed=1), 2)
    self.assertAllEqual(first, self.take(self.build(seed=1), 2))
    self.assertNotAllClose(first, self.take(self.build(seed=2), 2))

  def test_train_and_test_instances_are_separate(self):
    train = self.take(self.build(batch_size=20, num_frames=2), 5).reshape(-1, 2, 64, 64, 1)
    _, train_instances, _ = decode(train)
    self.assertSameElements(train_instances.ravel(), [4, 8])
    test = self.take(self.build("test", batch_size=8, num_frames=2), 1)[0]
    _, test_instances, _ = decode(test)
    self.assertSameElements(test_instances.ravel(), [2, 5])

  def test_test_set_is_fixed(self):
    first = list(self.build("test", drop_remainder=False, seed=1))
    self.assertEqual([len(b) for b in first], [3, 3, 2])  # Every one of the 8 sweeps.
    first = np.concatenate([b.numpy() for b in first])
    again = np.concatenate([b.numpy() for b in self.build("test", drop_remainder=False,
                                                          seed=2)])
    self.assertAllEqual(first, again)
    norb = smallnorb.SmallNORB("test", data_dir=self.data_dir)
    sweeps, starts = smallnorb.test_clips(8)
    self.assertSameElements(sweeps, range(8))
    self.assertAllEqual(first, norb.clips(sweeps, starts, 5))
    # Each test sweep appears once: the (instance, context) pairs are all distinct.
    _, instance, context = decode(first)
    self.assertLen({(i, c) for i, c in zip(instance[:, 0], context[:, 0])}, 8)
    self.assertLen(list(self.build("test")), 2)  # drop_remainder drops the last 2.
    prefix = np.concatenate([b.numpy() for b in self.build(
        "test", num_test_sequences=5, drop_remainder=False)])
    self.assertAllEqual(prefix, first[:5])

  @parameterized.named_parameters(
      ("num_frames_19", "train", dict(num_frames=19),
       r"num_frames must be an int in 1..18, got 19"),
      ("num_frames_19_test", "test", dict(num_frames=19),
       r"num_frames must be an int in 1..18, got 19"),
      ("num_frames_0", "train", dict(num_frames=0), r"num_frames must be an int in 1..18"),
      ("batch_size", "train", dict(batch_size=0), r"batch_size must be an int >= 1, got 0"),
      ("seed", "train", dict(seed=-1), r"seed must be an int >= 0, got -1"),
      ("start_index", "train", dict(start_index=-3), r"start_index must be an int >= 0"),
      ("num_test_sequences", "test", dict(num_test_sequences=9),
       r"num_test_sequences must be an int in 1..8, got 9"),
      ("image_size", "train", dict(image_size=97), r"image_size must be an int in 1..96"),
      ("camera", "test", dict(camera="stereo"), r"Unknown camera 'stereo'"),
  )
  def test_bad_options(self, split, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      self.build(split, **kwargs)

  def test_bad_split(self):
    with self.assertRaisesRegex(ValueError, "Unknown split 'validation'; valid: train, test"):
      smallnorb.build("validation", batch_size=2, num_frames=3, seed=0,
                      data_dir=self.data_dir)

  def test_missing_data(self):
    empty = self.new_dir()
    with self.assertRaisesRegex(FileNotFoundError, f"{empty} lacks .*-training-dat.mat"):
      self.build(data_dir=empty)


class RealDataTest(test_case.TestCase):
  """On the real files when `$TFGEN_TEST_DATA/smallnorb` holds them."""

  def test_real_files(self):
    root = test_case.test_data_dir()
    directory = os.path.join(root, "smallnorb") if root else None
    if not directory or not os.path.isdir(directory):
      self.skipTest("no smallNORB in $TFGEN_TEST_DATA/smallnorb")
    for split, instances in (("train", [4, 6, 7, 8, 9]), ("test", [0, 1, 2, 3, 5])):
      data = smallnorb.load_split(directory, split)
      self.assertEqual(data.images.shape, (24300, 96, 96))
      self.assertSameElements(data.instance, instances)
      norb = smallnorb.SmallNORB(split, data_dir=directory)
      self.assertEqual(norb.num_sweeps, 1350)  # 5 categories x 5 instances x 9 x 6.
      clip = norb.clips([0], [17], num_frames=3)
      self.assertEqual(clip.shape, (1, 3, 64, 64, 1))


if __name__ == "__main__":
  tf.test.main()
