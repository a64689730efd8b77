"""smallNORB azimuth sweeps as video clips, for DrNET (thesis ch. 5; SPEC.md §2.4, §4).

DrNET makes NORB "videos" by sweeping the azimuth of one object with its elevation and
lighting fixed: pose changes from frame to frame, content does not. Here a *sweep* is the
18 images of one (category, instance, elevation, lighting) ordered by azimuth; smallNORB's
azimuths are 0, 20, ..., 340 degrees, so a sweep is cyclic (340 is followed by 0) and a clip
is `num_frames` consecutive azimuths of one sweep, wrapping around.

The distribution (https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/, also what TFDS
`smallnorb` downloads) is six files, each as `<name>` or gzip-compressed `<name>.gz`:

    smallnorb-5x46789x9x18x6x2x96x96-training-{dat,cat,info}.mat   instances 4, 6, 7, 8, 9
    smallnorb-5x01235x9x18x6x2x96x96-testing-{dat,cat,info}.mat    instances 0, 1, 2, 3, 5

Each file is one LeCun "binary matrix": int32 little-endian magic number (0x1E3D4C55 uint8,
0x1E3D4C54 int32; the format also has 0x1E3D4C51 float32, 0x1E3D4C53 float64, 0x1E3D4C56
int16 and 0x1E3D4C52 "packed", which this reader refuses), int32 ndim, then max(3, ndim)
int32 dimensions (unused trailing ones are 1), then the elements in C order, little-endian.

- `-dat`: uint8 (24300, 2, 96, 96), the two cameras' images of each pose;
- `-cat`: int32 (24300,), category 0-4 (animal, human, airplane, truck, car);
- `-info`: int32 (24300, 4): instance 0-9, elevation 0-8 (30 to 70 degrees every 5),
  azimuth 0, 2, ..., 34 (x10 degrees; divided by 2 here for an index 0-17), lighting 0-5.

So each split holds 5 x 5 x 9 x 6 = 1350 sweeps. Verified against:
- TFDS `tensorflow_datasets/datasets/smallnorb/smallnorb_dataset_builder.py` (and its
  predecessor `image_classification/smallnorb.py`): the six URLs and file names, magic
  507333717 = 0x1E3D4C55 -> uint8 and 507333716 = 0x1E3D4C54 -> int32, little-endian,
  "max(3, ndim)" dimension words, info columns (instance, elevation, azimuth, lighting) with
  azimuth "0, 2, 4, .., 34" divided by 2, `image` = camera 0 and `image2` = camera 1,
  category names, and (README.md) training instances 4, 6, 7, 8, 9 / test 0, 1, 2, 3, 5;
  `checksums.tsv` lists the files as `.mat.gz`.
- jlmelville/snedata `R/norb.R`: the reader insists on ndim 4 for `-dat`, 1 for `-cat`
  (then skips the two padding words) and 2 for `-info` (one padding word), which fixes the
  header sizes at 24, 20 and 20 bytes. (Its docstring swaps the train/test instance lists;
  the file names, 5x46789 for training, and TFDS agree with the list above.)

Splits: "train" draws clips from the training file, "test" from the testing file, so the
test objects are instances never seen in training (as in thesis §5.2.2). The loader checks
that every instance in a file belongs to its split, so swapped files fail loudly.

Randomness: training clip k depends only on (seed, k): `np.random.default_rng([seed, k])`
draws the sweep (uniform over the split's sweeps) then the start azimuth (uniform in 0..17).
The test set is fixed: every test sweep once, in an order and with start azimuths drawn once
from `TEST_SEED` (`test_clips`), so any prefix (`num_test_sequences`) is a uniform sample.

References:
  Y. LeCun, F. J. Huang, L. Bottou. Learning methods for generic object recognition with
  invariance to pose and lighting. CVPR 2004.
  E. Denton, V. Birodkar. Unsupervised Learning of Disentangled Representations from
  Video. NIPS 2017. E. Denton. PhD thesis, NYU 2018, ch. 5.
"""

import functools
import gzip
import math
import os
import struct
import zlib
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfgen.data import registry

ENV_VAR = "TFGEN_DATA_DIR"
URL = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
SPLITS = ("train", "test")
CAMERAS = ("first", "second", "both")
FILE_KINDS = ("dat", "cat", "info")
FILE_NAMES = {
    split: {kind: f"smallnorb-5x{ids}x9x18x6x2x96x96-{name}-{kind}.mat" for kind in FILE_KINDS}
    for split, ids, name in (("train", "46789", "training"), ("test", "01235", "testing"))
}
INSTANCES = {"train": (4, 6, 7, 8, 9), "test": (0, 1, 2, 3, 5)}
NUM_CATEGORIES = 5
NUM_ELEVATIONS = 9
NUM_AZIMUTHS = 18
NUM_LIGHTINGS = 6
SOURCE_SIZE = 96
# Seed of the test set's order and start azimuths, independent of the training seed.
TEST_SEED = 20040627

MAGIC_UINT8 = 0x1E3D4C55
MAGIC_INT32 = 0x1E3D4C54
_DTYPES = {
    0x1E3D4C51: np.dtype("<f4"),
    0x1E3D4C53: np.dtype("<f8"),
    MAGIC_INT32: np.dtype("<i4"),
    MAGIC_UINT8: np.dtype(np.uint8),
    0x1E3D4C56: np.dtype("<i2"),
}
# A header claiming more dimensions than this is not a binary matrix (the files use <= 4).
_MAX_NDIM = 16
# Clip indices of the endless training stream run up to this bound.
_MAX_INDEX = 2**62


class NorbSplit(NamedTuple):
  """The contents of one smallNORB split, one row per image.

  Attributes:
    images: uint8 `(N, 96, 96)` for one camera, `(N, 96, 96, 2)` for both; plain files are
      memory-mapped read-only, `.gz` files read into memory.
    category: int64 `(N,)` in 0-4.
    instance: int64 `(N,)` in 0-9 (only the split's own instances).
    elevation: int64 `(N,)` in 0-8.
    azimuth: int64 `(N,)` azimuth index in 0-17 (the file's 0, 2, ..., 34 divided by 2).
    lighting: int64 `(N,)` in 0-5.
  """
  images: np.ndarray
  category: np.ndarray
  instance: np.ndarray
  elevation: np.ndarray
  azimuth: np.ndarray
  lighting: np.ndarray


def read_matrix(path: str,
                dtype: Optional[np.dtype] = None,
                shape: Optional[Sequence[Optional[int]]] = None) -> np.ndarray:
  """Reads one LeCun binary matrix file (module docstring), checking its layout.

  Args:
    path: a `.mat` file, or a gzip-compressed one whose name ends in `.gz`.
    dtype: optional expected element type (e.g. `np.uint8`, `np.int32`).
    shape: optional expected dimensions; `None` entries match any size.

  Returns:
    The matrix with its stored dimensions: a read-only `np.memmap` for a plain file, an
    in-memory read-only array for a `.gz` file.

  Raises:
    ValueError: the file has the wrong layout: too short for its header, an unknown magic
      number, an implausible ndim or negative dimension, a size that disagrees with the
      header (truncated or trailing bytes), or a dtype or dimensions other than expected.
      The message names the file and what was expected.
  """

  def wrong(reason: str) -> ValueError:
    return ValueError(f"{path} has the wrong layout for a smallNORB binary matrix: {reason}.")

  compressed = path.endswith(".gz")
  try:
    with (gzip.open if compressed else open)(path, "rb") as f:
      start = f.read(8)
      if len(start) < 8:
        raise wrong(f"it has {len(start)} bytes, fewer than the 8 of the magic number and "
                    f"ndim")
      magic, ndim = struct.unpack("<ii", start)
      if magic not in _DTYPES:
        raise wrong(
            f"magic number 0x{magic & 0xFFFFFFFF:08X} is none of "
            f"{', '.join(f'0x{m:08X} ({d.name})' for m, d in sorted(_DTYPES.items()))}")
      if not 1 <= ndim <= _MAX_NDIM:
        raise wrong(f"ndim is {ndim}, expected 1..{_MAX_NDIM}")
      num_words = max(3, ndim)
      words = f.read(4 * num_words)
      if len(words) < 4 * num_words:
        raise wrong(f"the header is truncated: ndim {ndim} needs {num_words} dimension "
                    f"words, only {len(words) // 4} follow")
      dims = struct.unpack(f"<{num_words}i", words)[:ndim]
      if min(dims) < 0:
        raise wrong(f"negative dimension in {dims}")
      matrix_dtype = _DTYPES[magic]
      if dtype is not None and matrix_dtype != np.dtype(dtype).newbyteorder("<"):
        expected_magic = {d: m for m, d in _DTYPES.items()}.get(
            np.dtype(dtype).newbyteorder("<"), 0)
        raise wrong(f"it holds {matrix_dtype.name} (magic 0x{magic:08X}), expected "
                    f"{np.dtype(dtype).name} (magic 0x{expected_magic:08X})")
      if shape is not None and (len(dims) != len(shape) or any(
          e is not None and e != d for d, e in zip(dims, shape))):
        expected = "(" + ", ".join("N" if e is None else str(e) for e in shape) + ")"
        raise wrong(f"dims {tuple(dims)}, expected {expected}")
      header_size = 8 + 4 * num_words
      data_size = math.prod(dims) * matrix_dtype.itemsize  # Python ints: no overflow.
      expected_size = header_size + data_size
      if compressed:
        data = f.read(data_size)
        # One byte past the data is enough to know the file is too long.
        actual_size = header_size + len(data) + len(f.read(1))
      else:
        actual_size = os.path.getsize(path)
      if actual_size != expected_size:
        need = (f"dims {tuple(dims)} of {matrix_dtype.name} need a {header_size}-byte header "
                f"and {data_size} bytes of data ({expected_size} bytes)")
        kind = "decompressed file" if compressed else "file"
        if actual_size < expected_size:
          raise wrong(f"truncated: {need}, the {kind} has {actual_size}")
        raise wrong(f"trailing bytes: {need}, the {kind} has "
                    f"{'more' if compressed else actual_size}")
  except (EOFError, gzip.BadGzipFile, zlib.error) as e:
    # A damaged .gz: a cut stream (EOFError), a bad header or CRC, or corrupt deflate data.
    raise wrong(f"it cannot be read ({e})") from e
  if compressed:
    array = np.frombuffer(data, matrix_dtype).reshape(dims)
  elif data_size == 0:
    array = np.zeros(dims, matrix_dtype)
    array.setflags(write=False)
  else:
    array = np.memmap(path, matrix_dtype, mode="r", offset=header_size, shape=tuple(dims))
  return array


def default_data_dirs() -> Tuple[str, ...]:
  """Where smallNORB is looked for when no `data_dir` is given, in order.

  `$TFGEN_DATA_DIR/smallnorb` (or `~/tfgen_data/smallnorb` when the variable is unset), then
  TFDS's manual-download directory `${TFDS_DATA_DIR:-~/tensorflow_datasets}/downloads/manual`.
  """
  root = os.environ.get(ENV_VAR) or os.path.join(os.path.expanduser("~"), "tfgen_data")
  tfds_root = os.environ.get("TFDS_DATA_DIR") or os.path.join(
      os.path.expanduser("~"), "tensorflow_datasets")
  return (os.path.join(root, "smallnorb"), os.path.join(tfds_root, "downloads", "manual"))


def find_split_files(data_dir: Optional[str], split: str) -> Dict[str, str]:
  """Returns `{"dat": path, "cat": path, "info": path}` of `split`.

  Args:
    data_dir: the directory holding the files (each as `<name>` or `<name>.gz`); None
      searches `default_data_dirs()` and takes the first that holds all three.
    split: "train" or "test".

  Raises:
    FileNotFoundError: a file is missing; the message names the directories searched, the
      six file names of the distribution and where to get them.
  """
  _check_choice("split", split, SPLITS)
  directories = (os.path.expanduser(data_dir),) if data_dir else default_data_dirs()
  lacking = []
  for directory in directories:
    found = {}
    for kind, name in FILE_NAMES[split].items():
      for candidate in (name, name + ".gz"):
        if os.path.isfile(os.path.join(directory, candidate)):
          found[kind] = os.path.join(directory, candidate)
          break
    if len(found) == len(FILE_KINDS):
      return found
    missing = [name for kind, name in FILE_NAMES[split].items() if kind not in found]
    lacking.append(f"{directory} lacks {', '.join(missing)}")
  all_names = "\n  ".join(name for names in FILE_NAMES.values() for name in names.values())
  raise FileNotFoundError(
      f"smallNORB {split} files not found: {'; '.join(lacking)}. smallNORB is six files, "
      f"each as <name> or <name>.gz:\n  {all_names}\nDownload the .mat.gz files from {URL} "
      f"(TFDS `smallnorb` reads the same files) into {directories[0]}, or pass data_dir.")


def load_split(data_dir: Optional[str], split: str, camera: str = "first") -> NorbSplit:
  """Loads and checks one split of smallNORB (cached per file version and camera).

  Args:
    data_dir: directory of the files, or None (`find_split_files`).
    split: "train" (the training file) or "test" (the testing file).
    camera: "first" (default; TFDS `image`), "second" (TFDS `image2`) or "both".

  Returns:
    A `NorbSplit` (images `(N, 96, 96)` uint8 for one camera, `(N, 96, 96, 2)` for both).

  Raises:
    FileNotFoundError: a file of the split is missing.
    ValueError: a file has the wrong layout (`read_matrix`), the three files disagree on
      the number of images, or a label is out of range or of the other split.
  """
  _check_choice("camera", camera, CAMERAS)
  paths = find_split_files(data_dir, split)
  # File identity in the key: a replaced file is re-read.
  key = tuple((paths[kind],) + _stat_key(paths[kind]) for kind in FILE_KINDS)
  return _load_split(key, split, camera)


def _stat_key(path: str) -> Tuple[int, int]:
  stat = os.stat(path)
  return stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=None)
def _load_split(key, split: str, camera: str) -> NorbSplit:
  (dat_path, *_), (cat_path, *_), (info_path, *_) = key
  dat = read_matrix(dat_path, np.uint8, (None, 2, SOURCE_SIZE, SOURCE_SIZE))
  cat = read_matrix(cat_path, np.int32, (None,))
  info = read_matrix(info_path, np.int32, (None, 4))
  if not len(dat) == len(cat) == len(info):
    raise ValueError(
        f"smallNORB {split} files have the wrong layout: {dat_path} holds {len(dat)} image "
        f"pairs, {cat_path} {len(cat)} categories and {info_path} {len(info)} info rows; "
        f"expected one of each per image.")
  category = np.asarray(cat, np.int64)
  instance, elevation, azimuth, lighting = np.asarray(info, np.int64).T
  _check_labels(cat_path, "category", category, range(NUM_CATEGORIES))
  _check_labels(info_path, f"instance (column 0; the {split} split holds only instances "
                f"{', '.join(map(str, INSTANCES[split]))})", instance, INSTANCES[split])
  _check_labels(info_path, "elevation (column 1)", elevation, range(NUM_ELEVATIONS))
  _check_labels(info_path, "azimuth (column 2)", azimuth, range(0, 2 * NUM_AZIMUTHS, 2))
  _check_labels(info_path, "lighting (column 3)", lighting, range(NUM_LIGHTINGS))
  if camera == "both":
    images = np.moveaxis(dat, 1, -1)  # (N, 96, 96, 2): the stereo pair as channels.
  else:
    images = dat[:, CAMERAS.index(camera)]  # (N, 96, 96)
    if not isinstance(dat, np.memmap):
      # From a .gz: copy the camera so the other one's half of the buffer is freed.
      images = np.ascontiguousarray(images)
      images.setflags(write=False)
  labels = [category, instance, elevation, azimuth // 2, lighting]
  for array in labels:
    array.setflags(write=False)
  return NorbSplit(images, *labels)


def _check_labels(path: str, name: str, values: np.ndarray, valid: Sequence[int]) -> None:
  bad = ~np.isin(values, valid)
  if bad.any():
    row = int(np.argmax(bad))
    raise ValueError(
        f"{path} has the wrong layout for smallNORB: row {row} has {name} {values[row]}, "
        f"expected one of {', '.join(map(str, valid))}.")


def group_sweeps(split: NorbSplit, path: str = "info") -> Tuple[np.ndarray, np.ndarray]:
  """Groups the images of a split into azimuth sweeps.

  Args:
    split: a `NorbSplit`.
    path: the name used in error messages (the `-info` file).

  Returns:
    `(labels, frame_indices)`: int64 `(num_sweeps, 4)` (category, instance, elevation,
    lighting) of each sweep, in lexicographic order, and int64 `(num_sweeps, 18)` where
    row s lists the image indices of sweep s at azimuth index 0, 1, ..., 17.

  Raises:
    ValueError: some (category, instance, elevation, lighting) does not have exactly one
      image at each of the 18 azimuths.
  """
  keys = np.stack([split.category, split.instance, split.elevation, split.lighting], axis=1)
  # Rows sorted by sweep key, then azimuth: a complete split reshapes to (sweeps, 18).
  order = np.lexsort((split.azimuth,) + tuple(keys[:, i] for i in range(3, -1, -1)))
  labels, counts = np.unique(keys, axis=0, return_counts=True)
  bad = np.flatnonzero(counts != NUM_AZIMUTHS)
  if len(order) % NUM_AZIMUTHS == 0 and not len(bad):
    frame_indices = order.reshape(-1, NUM_AZIMUTHS)
    azimuths = split.azimuth[frame_indices]
    bad = np.flatnonzero((azimuths != np.arange(NUM_AZIMUTHS)).any(axis=1))
    if not len(bad):
      return labels, frame_indices
  sweep = labels[bad[0]]
  present = np.sort(split.azimuth[(keys == sweep).all(axis=1)])
  raise ValueError(
      f"{path} has the wrong layout for smallNORB sweeps: (category, instance, elevation, "
      f"lighting) = {tuple(int(v) for v in sweep)} has azimuth indices "
      f"{present.tolist()}, expected each of 0..{NUM_AZIMUTHS - 1} once.")


def area_resize_matrix(in_size: int, out_size: int) -> np.ndarray:
  """Area (box-filter) resampling weights, float32 `(out_size, in_size)`, rows sum to 1.

  Output pixel i averages input pixels over [i * r, (i + 1) * r), r = in_size / out_size,
  each weighted by its overlap: `tf.image.resize(method="area")` when shrinking.
  """
  scale = in_size / out_size
  low = np.arange(out_size)[:, None] * scale
  pixel = np.arange(in_size)[None, :]
  overlap = np.clip(np.minimum(low + scale, pixel + 1) - np.maximum(low, pixel), 0, None)
  return (overlap / scale).astype(np.float32)


def train_clip(seed: int, index: int, num_sweeps: int) -> Tuple[int, int]:
  """`(sweep, start azimuth)` of training clip `index`: depends only on (seed, index)."""
  rng = np.random.default_rng([seed, index])
  sweep = int(rng.integers(num_sweeps))
  return sweep, int(rng.integers(NUM_AZIMUTHS))


def test_clips(num_sweeps: int) -> Tuple[np.ndarray, np.ndarray]:
  """`(sweeps, starts)`, int64 `(num_sweeps,)` each: test clip j shows sweep `sweeps[j]`
  from azimuth `starts[j]`. Every sweep once, in an order drawn from `TEST_SEED`."""
  rng = np.random.default_rng(TEST_SEED)
  sweeps = rng.permutation(num_sweeps)
  return sweeps, rng.integers(NUM_AZIMUTHS, size=num_sweeps)


class SmallNORB:
  """The azimuth sweeps of one smallNORB split, rendered as clips (module docstring).

  Args:
    split: "train" (training file, instances 4, 6, 7, 8, 9) or "test" (testing file,
      instances 0, 1, 2, 3, 5).
    data_dir: directory of the six files (each as `.mat` or `.mat.gz`); default: the first
      of `default_data_dirs()` that holds the split.
    camera: "first" (default), "second", or "both" (the stereo pair as 2 channels).
    image_size: int in 1..96, the frames' height and width after an area resize from
      96x96 (default 64, DrNET's frame size).

  Attributes:
    labels: int64 `(num_sweeps, 4)`: (category, instance, elevation, lighting) per sweep.
    frame_indices: int64 `(num_sweeps, 18)`: image indices of each sweep by azimuth index.
    channels: 1, or 2 for `camera="both"`.

  Example:
    >>> norb = SmallNORB("train")
    >>> norb.clips([0], [17], num_frames=3).shape  # Azimuth indices 17, 0, 1.
    (1, 3, 64, 64, 1)
  """

  def __init__(self,
               split: str = "train",
               *,
               data_dir: Optional[str] = None,
               camera: str = "first",
               image_size: int = 64):
    _check_choice("split", split, SPLITS)
    _check_choice("camera", camera, CAMERAS)
    _check_int("image_size", image_size, 1, SOURCE_SIZE)
    self.split = split
    self.camera = camera
    self.image_size = image_size
    self.channels = 2 if camera == "both" else 1
    data = load_split(data_dir, split, camera)
    self.labels, self.frame_indices = group_sweeps(
        data, find_split_files(data_dir, split)["info"])
    # (N, channels, 96, 96): the resize runs over the last two axes.
    self._images = data.images[:, None] if self.channels == 1 else np.moveaxis(
        data.images, -1, 1)
    self._resize = area_resize_matrix(SOURCE_SIZE, image_size)

  @property
  def num_sweeps(self) -> int:
    return len(self.frame_indices)

  def clips(self, sweeps: Sequence[int], starts: Sequence[int], num_frames: int) -> np.ndarray:
    """Renders clips: `num_frames` consecutive azimuths of a sweep, wrapping after 17.

    Args:
      sweeps: int `(batch,)` sweep indices.
      starts: int `(batch,)` first azimuth indices.
      num_frames: int in 1..18.

    Returns:
      float32 `(batch, num_frames, image_size, image_size, channels)` in [0, 1].
    """
    _check_int("num_frames", num_frames, 1, NUM_AZIMUTHS)
    sweeps = np.asarray(sweeps, np.int64).reshape(-1, 1)
    azimuths = (np.asarray(starts, np.int64).reshape(-1, 1) + np.arange(num_frames))
    indices = self.frame_indices[sweeps, azimuths % NUM_AZIMUTHS]  # (batch, time)
    # (batch*time, C, 96, 96); np.asarray: a plain array even when the images are memmapped.
    frames = np.asarray(self._images[indices.reshape(-1)], np.float32)
    if self.image_size != SOURCE_SIZE:
      frames = self._resize @ frames @ self._resize.T  # (batch*time, C, size, size)
    # Division, as torchvision's ToTensor; weights summing to 1 in float32 may overshoot.
    frames = np.clip(frames / np.float32(255), 0.0, 1.0)
    frames = frames.reshape(indices.shape + frames.shape[1:])  # (batch, time, C, size, size)
    return np.ascontiguousarray(np.moveaxis(frames, 2, -1))

  def train_batch(self, indices: Sequence[int], seed: int, num_frames: int) -> np.ndarray:
    """Training clips number `indices` of the stream of `seed` (`train_clip`)."""
    plan = [train_clip(seed, int(k), self.num_sweeps) for k in np.reshape(indices, -1)]
    sweeps, starts = zip(*plan) if plan else ((), ())
    return self.clips(sweeps, starts, num_frames)

  def test_batch(self, indices: Sequence[int], num_frames: int) -> np.ndarray:
    """Test clips number `indices` (`test_clips`)."""
    sweeps, starts = test_clips(self.num_sweeps)
    indices = np.asarray(indices, np.int64).reshape(-1)
    return self.clips(sweeps[indices], starts[indices], num_frames)


def _check_int(name: str, value, minimum: int, maximum: Optional[int] = None) -> None:
  if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum
      or (maximum is not None and value > maximum)):
    bound = f"in {minimum}..{maximum}" if maximum is not None else f">= {minimum}"
    raise ValueError(f"{name} must be an int {bound}, got {value!r}.")


def _check_choice(name: str, value, valid: Sequence[str]) -> None:
  if value not in valid:
    raise ValueError(f"Unknown {name} {value!r}; valid: {', '.join(valid)}.")


@registry.register("norb")
def build(split: str,
          *,
          batch_size: int,
          num_frames: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          image_size: int = 64,
          camera: str = "first",
          num_test_sequences: Optional[int] = None) -> tf.data.Dataset:
  """Builds smallNORB azimuth sweeps as a `tf.data.Dataset` (contract in `tfgen.data.registry`).

  Args:
    split: "train": an endless stream from the training file; clip k shows `num_frames`
      consecutive azimuths of a sweep, both drawn from `default_rng([seed, k])`
      (`train_clip`). "test": the fixed set of test-file sweeps (held-out instances), each
      once, order and start azimuths drawn from `TEST_SEED` (`test_clips`), whatever `seed`.
    batch_size: clips per element.
    num_frames: frames per clip, 1..18 (a sweep has 18 azimuths).
    seed: non-negative int, seed of the training stream (unused by "test").
    data_dir: directory of the six files, or None (`default_data_dirs`).
    start_index: number of the first clip (resumes the training stream exactly).
    drop_remainder: drop a last incomplete batch.
    image_size: frame height and width, 1..96 (area resize from 96; default 64).
    camera: "first" (default), "second" or "both" (2 channels).
    num_test_sequences: int or None (all, 1350 for the real file): keep only the first
      test clips.

  Returns:
    A dataset of float32 `(batch_size, num_frames, image_size, image_size, channels)` in
    [0, 1], channels 1 (2 for `camera="both"`).

  Raises:
    FileNotFoundError: a file of the split is missing (the message says where to get it).
    ValueError: a bad option, or a file of the wrong layout.
  """
  _check_choice("split", split, SPLITS)
  _check_int("num_frames", num_frames, 1, NUM_AZIMUTHS)
  _check_int("batch_size", batch_size, 1)
  _check_int("seed", seed, 0)
  _check_int("start_index", start_index, 0)
  source = SmallNORB(split, data_dir=data_dir, camera=camera, image_size=image_size)
  if split == "train":
    end = _MAX_INDEX
    render = functools.partial(source.train_batch, seed=seed, num_frames=num_frames)
  else:
    end = source.num_sweeps
    if num_test_sequences is not None:
      _check_int("num_test_sequences", num_test_sequences, 1, source.num_sweeps)
      end = num_test_sequences
    render = functools.partial(source.test_batch, num_frames=num_frames)
  dataset = tf.data.Dataset.range(start_index, end).batch(batch_size,
                                                          drop_remainder=drop_remainder)
  static_batch = batch_size if (drop_remainder or split == "train") else None

  def generate(batch_indices):
    frames = tf.numpy_function(render, [batch_indices], tf.float32, stateful=False)
    frames.set_shape(
        (static_batch, num_frames, image_size, image_size, source.channels))
    return frames

  dataset = dataset.map(generate, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return dataset.prefetch(tf.data.AUTOTUNE)
