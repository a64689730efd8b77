"""CIFAR-10 for LAPGAN (thesis ch. 4; SPEC.md §3, §4; LAPGAN_FACTS §1.2, §3).

Files: the "python version" of CIFAR-10 (`cifar-10-python.tar.gz` from
https://www.cs.toronto.edu/~kriz/cifar.html), extracted, i.e. a directory
`cifar-10-batches-py/` with `data_batch_1` .. `data_batch_5`, `test_batch` and
`batches.meta`. Each batch is a pickle (written by Python 2; read with
`encoding="bytes"`) of a dict with `b"data"`: uint8 `(10000, 3072)`, each row the 1024
red, then 1024 green, then 1024 blue values of a 32x32 image in row-major order, and
`b"labels"`: a list of 10000 ints in 0-9 (also `b"batch_label"`, `b"filenames"`). Only
numpy arrays, lists, strings and numbers are unpickled: any other object in a file is
refused (a pickle can run code).

Splits, as eyescream's CIFAR scripts make them (`ntrain = 45000`, `nval = 5000`):
- "train": the first 45,000 training images (`data_batch_1..5` in order);
- "validation": training images 45,001-50,000 (`num_validation`, default 10% of the
  training files);
- "test": `test_batch` (10,000 images; eyescream never used it).

Crops (`crop`): 28 (default) is the thesis' recipe, "four 28x28 crops from the original
images" (T:557), read as the four corner crops (`train_crops="corners"`, each visited
once per epoch; eyescream's unused `utils/image.lua` `translate` also makes the corner
crops); `train_crops="random"` draws any offset. Validation and test take the centre crop.
`crop=32` is the released code's default: full images, no crops (LAPGAN_FACTS §0.1).

Statistics: per pixel and channel over the training images (validation held out), std
divided by N, as eyescream's `utils/image.lua` normalises (LAPGAN_FACTS §1.2), in [0, 1]
units (the code's 0-255 values divided by 255), after cropping.

CIFAR-10 is by A. Krizhevsky, V. Nair and G. Hinton (Learning Multiple Layers of Features
from Tiny Images, 2009).
"""

import functools
import os
import pickle
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tfgen.data import image_sets
from tfgen.data import registry

NAME = "cifar10"
URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
ARCHIVE_DIR = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
SPLITS = ("train", "validation", "test")
IMAGE_SIZE = 32
NUM_CLASSES = 10
LABEL_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")
VALIDATION_FRACTION = 0.1  # 5,000 of the 50,000 training images, as eyescream.
EXPECTED_LAYOUT = (
    "expected a CIFAR-10 python-version batch: a pickled dict with b'data' a uint8 numpy "
    "array (N, 3072) (rows: 1024 red, 1024 green, 1024 blue values, each 32x32 row-major) "
    "and b'labels' a list of N ints in 0-9")

# What the official pickles hold: numpy arrays (and, from Python 3 writers, bytes; from
# re-pickled copies, numpy scalars as labels).
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArraysOnlyUnpickler(pickle.Unpickler):

  def find_class(self, module, name):
    if (module, name) not in _ALLOWED_GLOBALS:
      raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
    return super().find_class(module, name)


def default_data_dir() -> str:
  """`$TFGEN_DATA_DIR/cifar10`, or `~/tfgen_data/cifar10`."""
  return os.path.join(image_sets.default_root(), NAME)


def find_files(data_dir: Optional[str] = None) -> str:
  """The directory holding the batch files: `data_dir` or its `cifar-10-batches-py/`.

  Raises:
    FileNotFoundError: no directory holds all six batches; the message says where to get
      them and where to put them.
  """
  base = os.path.expanduser(data_dir) if data_dir else default_data_dir()
  needed = TRAIN_FILES + (TEST_FILE,)
  lacking = []
  for directory in (base, os.path.join(base, ARCHIVE_DIR)):
    missing = [n for n in needed if not os.path.isfile(os.path.join(directory, n))]
    if not missing:
      return directory
    lacking.append(f"{directory} lacks {', '.join(missing)}")
  raise FileNotFoundError(
      f"CIFAR-10 not found: {'; '.join(lacking)}. Download the python version "
      f"(cifar-10-python.tar.gz) from {URL} and extract it into {base} (giving "
      f"{os.path.join(base, ARCHIVE_DIR)}/data_batch_1..5, test_batch), or pass data_dir "
      f"(or set $TFGEN_DATA_DIR).")


def read_batch(path: str) -> Tuple[np.ndarray, np.ndarray]:
  """Reads one batch file; returns uint8 `(N, 32, 32, 3)` images and int32 `(N,)` labels.

  Raises:
    ValueError: the file is not a CIFAR-10 python batch (not a pickle, other objects,
      missing keys, wrong shapes, dtypes or labels); the message names the file.
  """
  try:
    with open(path, "rb") as f:
      batch = _ArraysOnlyUnpickler(f, encoding="bytes").load()
  except Exception as e:  # pylint: disable=broad-except  (pickle raises many types)
    raise ValueError(f"{path} cannot be read as a CIFAR-10 batch ({e}); "
                     f"{EXPECTED_LAYOUT}.") from e
  if not isinstance(batch, dict):
    raise ValueError(f"{path} holds a {type(batch).__name__}, not a dict; {EXPECTED_LAYOUT}.")
  # Python 2 wrote str keys, read back as bytes; a Python 3 re-pickle has str keys.
  batch = {k.decode("latin-1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
  missing = [k for k in ("data", "labels") if k not in batch]
  if missing:
    raise ValueError(f"{path} has keys {sorted(map(str, batch))}, missing "
                     f"{missing}; {EXPECTED_LAYOUT}.")
  data = batch["data"]
  if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
      or data.shape[1] != 3 * IMAGE_SIZE * IMAGE_SIZE):
    layout = (f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray)
              else type(data).__name__)
    raise ValueError(f"{path}: b'data' is {layout}; {EXPECTED_LAYOUT}.")
  labels = np.asarray(batch["labels"])
  if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f"{path}: b'labels' is {labels.dtype} {labels.shape} for "
                     f"{len(data)} images; {EXPECTED_LAYOUT}.")
  if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
    raise ValueError(f"{path}: labels range over {labels.min()}..{labels.max()}; "
                     f"{EXPECTED_LAYOUT}.")
  # (N, 3072) -> (N, C=3, H=32, W=32) -> (N, H, W, C).
  images = data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
  return np.ascontiguousarray(images), labels.astype(np.int32)


def load(data_dir: Optional[str] = None) -> Tuple[Tuple[np.ndarray, np.ndarray],
                                                  Tuple[np.ndarray, np.ndarray], str]:
  """`((train_images, train_labels), (test_images, test_labels), directory)`.

  Training images are the five data batches in order (50,000 for the real files).
  Cached per file version.
  """
  directory = find_files(data_dir)
  paths = [os.path.join(directory, n) for n in TRAIN_FILES + (TEST_FILE,)]
  key = tuple(tuple(identity) for identity in image_sets.file_identity(paths))
  train, test = _load(key)
  return train, test, directory


@functools.lru_cache(maxsize=2)
def _load(key):
  batches = [read_batch(path) for path, *_ in key]
  train_images = np.concatenate([images for images, _ in batches[:-1]])
  train_labels = np.concatenate([labels for _, labels in batches[:-1]])
  arrays = (train_images, train_labels) + batches[-1]
  for array in arrays:
    array.setflags(write=False)
  return arrays[:2], arrays[2:]


def _image_set(data_dir: Optional[str], crop: int, train_crops: str,
               num_validation: Optional[int], random_flip: bool):
  image_sets.check_int("crop", crop, 1, IMAGE_SIZE)
  (images, labels), test, directory = load(data_dir)
  num_validation = image_sets.validation_size(NAME, len(images), num_validation,
                                              VALIDATION_FRACTION)
  num_train = len(images) - num_validation
  source = image_sets.ImageSet(
      NAME, (images[:num_train], labels[:num_train]),
      {"validation": (images[num_train:], labels[num_train:]), "test": test},
      crop_size=None if crop == IMAGE_SIZE else crop, train_crops=train_crops,
      random_flip=random_flip)
  return source, directory


@registry.register(NAME, kind="image", splits=SPLITS)
def build(split: str,
          *,
          batch_size: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          num_frames: Optional[int] = None,
          crop: int = 28,
          train_crops: str = "corners",
          num_validation: Optional[int] = None,
          random_flip: bool = False) -> tf.data.Dataset:
  """Builds CIFAR-10 as a `tf.data.Dataset` (image contract in `tfgen.data.registry`).

  Args:
    split: "train" (endless stream over the first 45,000 training images, epochs of
      permutations of (image, crop position); `tfgen.data.image_sets`), "validation"
      (training images 45,001-50,000, in order) or "test" (`test_batch`, in order).
    batch_size: images per element.
    seed: non-negative int, seed of the training stream (unused by the other splits).
    data_dir: directory holding `cifar-10-batches-py/` (or that directory itself);
      default `$TFGEN_DATA_DIR/cifar10`.
    start_index: number of the first example (resumes the training stream exactly).
    drop_remainder: drop a last incomplete batch (validation, test).
    num_frames: must be None (CIFAR-10 holds images).
    crop: 28 (default, the thesis' 28x28 crops) or 32 (the released code: whole images);
      any size in 1..32 works.
    train_crops: "corners" (default: each image's four corner crops) or "random".
    num_validation: int or None (10% of the training files: 5,000): the held-out tail.
    random_flip: mirror training images left-right with probability 1/2 (default False,
      as eyescream).

  Returns:
    Dicts `{"image": float32 (batch, crop, crop, 3) in [0, 1], "label": int32 (batch,)}`
    with labels 0-9 (`LABEL_NAMES`).

  Raises:
    FileNotFoundError: the files are missing (the message says where to get them).
    ValueError: a bad argument or a file of the wrong layout.
  """
  image_sets.check_build_arguments(NAME, split, SPLITS, batch_size=batch_size, seed=seed,
                                   start_index=start_index, num_frames=num_frames)
  source, _ = _image_set(data_dir, crop, train_crops, num_validation, random_flip)
  return source.dataset(split, batch_size=batch_size, seed=seed, start_index=start_index,
                        drop_remainder=drop_remainder)


@registry.register_statistics(NAME)
def statistics(*,
               data_dir: Optional[str] = None,
               per: str = "pixel",
               crop: int = 28,
               train_crops: str = "corners",
               num_validation: Optional[int] = None,
               random_flip: bool = False) -> Tuple[np.ndarray, np.ndarray]:
  """`(mean, std)` of the training examples (module docstring; registry contract).

  Takes the builder's options (same meaning and defaults).

  Returns float32 `(crop, crop, 3)` arrays for `per="pixel"` (eyescream's recipe), `(3,)`
  for `per="channel"`.
  """
  image_sets.check_choice("per", per, ("pixel", "channel"))
  source, directory = _image_set(data_dir, crop, train_crops, num_validation, random_flip)
  paths = [os.path.join(directory, n) for n in TRAIN_FILES]
  key = {"files": image_sets.file_identity(paths), "crop": crop, "train_crops": train_crops,
         "num_train": source.num_train, "random_flip": bool(random_flip)}
  values = image_sets.cached_statistics(NAME, directory, key, source.statistics)
  return image_sets.select_statistics(values, per)
