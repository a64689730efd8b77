"""STL-10 for LAPGAN (thesis ch. 4; SPEC.md §3, §4; LAPGAN_FACTS §1.1).

Files: the binary version of STL-10 (`stl10_binary.tar.gz` from
https://cs.stanford.edu/~acoates/stl10/), extracted, i.e. a directory `stl10_binary/` with

    train_X.bin      5,000 labelled training images     train_y.bin   their labels
    test_X.bin       8,000 labelled test images         test_y.bin    their labels
    unlabeled_X.bin  100,000 unlabelled images

An `_X.bin` file is raw uint8, 3 x 96 x 96 = 27,648 bytes per image: the red, then the
green, then the blue plane, each stored **column-major** (the first 96 bytes are the
leftmost column, top to bottom), as the dataset's own reader `stl10_input.py` reads it
(`reshape(-1, 3, 96, 96)` then `transpose(0, 3, 2, 1)`). A `_y.bin` file holds one uint8
label per image, 1-10. Files are memory-mapped: only the images of a batch are read.

What LAPGAN trains on: the thesis uses "the unlabeled portion of data", 100k images, at
96x96 with levels 8 -> 16 -> 32 -> 64 -> 96 (T:543, 557); eyescream released no STL
code. So `training_set="unlabeled"` (default; labels -1) and `image_size=96` (default);
`image_size=32` gives the 32x32 images of the Parzen table (T:605-612), downscaled as
Torch's `image.scale` does (a box average; `tfgen.data.image_sets`).
`training_set="labeled"` trains on `train_X.bin` (5,000 images, labels 0-9).

Splits (tfgen's; nothing released to copy): "validation" is the last 10% of the training
file (`num_validation`: 10,000 unlabelled or 500 labelled images), "train" the rest,
"test" `test_X.bin` (8,000 labelled images, labels 0-9). No crops, no flips by default.

Statistics: per pixel and channel over the training images at `image_size` (std divided
by N, as eyescream's CIFAR normalisation, the recipe the thesis applies to STL too).

STL-10 is by A. Coates, H. Lee and A. Y. Ng (An Analysis of Single-Layer Networks in
Unsupervised Feature Learning, AISTATS 2011).
"""

import functools
import os
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tfgen.data import image_sets
from tfgen.data import registry

NAME = "stl10"
URL = "https://cs.stanford.edu/~acoates/stl10/"
ARCHIVE_DIR = "stl10_binary"
SPLITS = ("train", "validation", "test")
TRAINING_SETS = ("unlabeled", "labeled")
SOURCE_SIZE = 96
IMAGE_BYTES = 3 * SOURCE_SIZE * SOURCE_SIZE
NUM_CLASSES = 10
LABEL_NAMES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship",
               "truck")
VALIDATION_FRACTION = 0.1
FILES = {
    "unlabeled": ("unlabeled_X.bin", None),
    "labeled": ("train_X.bin", "train_y.bin"),
    "test": ("test_X.bin", "test_y.bin"),
}
EXPECTED_IMAGES = (
    f"expected raw uint8 images of {IMAGE_BYTES} bytes each (3 planes R, G, B of 96x96, "
    f"each column-major), so a size that is a multiple of {IMAGE_BYTES}")
EXPECTED_LABELS = "expected one uint8 label in 1..10 per image of the matching _X.bin file"


def default_data_dir() -> str:
  """`$TFGEN_DATA_DIR/stl10`, or `~/tfgen_data/stl10`."""
  return os.path.join(image_sets.default_root(), NAME)


def find_files(data_dir: Optional[str], part: str) -> Tuple[str, Optional[str]]:
  """`(images_path, labels_path or None)` of `part` ("unlabeled", "labeled", "test").

  Looks in `data_dir` and its `stl10_binary/`.

  Raises:
    FileNotFoundError: the files are missing; the message says where to get them.
  """
  base = os.path.expanduser(data_dir) if data_dir else default_data_dir()
  needed = [n for n in FILES[part] if n]
  lacking = []
  for directory in (base, os.path.join(base, ARCHIVE_DIR)):
    missing = [n for n in needed if not os.path.isfile(os.path.join(directory, n))]
    if not missing:
      return tuple(os.path.join(directory, n) if n else None for n in FILES[part])
    lacking.append(f"{directory} lacks {', '.join(missing)}")
  raise FileNotFoundError(
      f"STL-10 ({part} images) not found: {'; '.join(lacking)}. Download the binary "
      f"version (stl10_binary.tar.gz) from {URL} and extract it into {base} (giving "
      f"{os.path.join(base, ARCHIVE_DIR)}/{', '.join(needed)}), or pass data_dir (or set "
      f"$TFGEN_DATA_DIR).")


def read_images(path: str) -> np.ndarray:
  """Memory-maps an `_X.bin` file as uint8 `(N, 96, 96, 3)` (a read-only view).

  Raises:
    ValueError: the size is not a positive multiple of 27,648 bytes.
  """
  size = os.path.getsize(path)
  if size == 0 or size % IMAGE_BYTES:
    raise ValueError(f"{path} has {size} bytes, not a positive multiple of {IMAGE_BYTES}; "
                     f"{EXPECTED_IMAGES}.")
  stored = np.memmap(path, np.uint8, mode="r", shape=(size // IMAGE_BYTES, 3, SOURCE_SIZE,
                                                      SOURCE_SIZE))
  # Stored (N, C, column, row) -> (N, row, column, C).
  return stored.transpose(0, 3, 2, 1)


def read_labels(path: str, num_images: int, images_path: str) -> np.ndarray:
  """Reads a `_y.bin` file as int32 labels 0-9 (the file's 1-10 minus 1)."""
  labels = np.fromfile(path, np.uint8)
  if len(labels) != num_images:
    raise ValueError(f"{path} holds {len(labels)} labels but {images_path} holds "
                     f"{num_images} images; {EXPECTED_LABELS}.")
  if len(labels) and (labels.min() < 1 or labels.max() > NUM_CLASSES):
    raise ValueError(f"{path} has labels {labels.min()}..{labels.max()}; {EXPECTED_LABELS}.")
  return labels.astype(np.int32) - 1


def load(data_dir: Optional[str], part: str) -> Tuple[np.ndarray, np.ndarray, str]:
  """`(images uint8 (N, 96, 96, 3), labels int32 (N,), images_path)` of `part`.

  Labels are 0-9, or -1 for the unlabelled images. Cached per file version.
  """
  paths = find_files(data_dir, part)
  key = tuple(tuple(i) for i in image_sets.file_identity([p for p in paths if p]))
  images, labels = _load(key)
  return images, labels, paths[0]


@functools.lru_cache(maxsize=4)
def _load(key):
  images_path = key[0][0]
  images = read_images(images_path)
  if len(key) > 1:
    labels = read_labels(key[1][0], len(images), images_path)
  else:
    labels = np.full(len(images), -1, np.int32)
  labels.setflags(write=False)
  return images, labels


def _image_set(data_dir, split, training_set, image_size, num_validation, random_flip):
  image_sets.check_choice("training_set", training_set, TRAINING_SETS)
  image_sets.check_int("image_size", image_size, 1, SOURCE_SIZE)
  images, labels, path = load(data_dir, training_set)
  num_validation = image_sets.validation_size(f"{NAME} ({path})", len(images),
                                              num_validation, VALIDATION_FRACTION)
  num_train = len(images) - num_validation
  evaluation = {"validation": (images[num_train:], labels[num_train:])}
  if split == "test":  # Read only when asked: training needs no test files.
    test_images, test_labels, _ = load(data_dir, "test")
    evaluation["test"] = (test_images, test_labels)
  source = image_sets.ImageSet(
      NAME, (images[:num_train], labels[:num_train]), evaluation,
      image_size=image_size, random_flip=random_flip)
  return source, path


@registry.register(NAME, kind="image", splits=SPLITS)
def build(split: str,
          *,
          batch_size: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          num_frames: Optional[int] = None,
          training_set: str = "unlabeled",
          image_size: int = SOURCE_SIZE,
          num_validation: Optional[int] = None,
          random_flip: bool = False) -> tf.data.Dataset:
  """Builds STL-10 as a `tf.data.Dataset` (image contract in `tfgen.data.registry`).

  Args:
    split: "train" (endless stream over the training file minus its last 10%; epochs of
      permutations, `tfgen.data.image_sets`), "validation" (that last 10%, in file order)
      or "test" (`test_X.bin`, in file order).
    batch_size: images per element.
    seed: non-negative int, seed of the training stream (unused by the other splits).
    data_dir: directory holding `stl10_binary/` (or that directory itself); default
      `$TFGEN_DATA_DIR/stl10`.
    start_index: number of the first example (resumes the training stream exactly).
    drop_remainder: drop a last incomplete batch (validation, test).
    num_frames: must be None (STL-10 holds images).
    training_set: "unlabeled" (default, the thesis: `unlabeled_X.bin`, labels -1) or
      "labeled" (`train_X.bin`, labels 0-9).
    image_size: 1..96 (default 96): images are resized to it (Torch `image.scale`).
    num_validation: int or None (10% of the training file): the held-out tail.
    random_flip: mirror training images left-right with probability 1/2 (default False).

  Returns:
    Dicts `{"image": float32 (batch, image_size, image_size, 3) in [0, 1],
    "label": int32 (batch,)}`.

  Raises:
    FileNotFoundError: the files are missing (the message says where to get them).
    ValueError: a bad argument or a file of the wrong layout.
  """
  image_sets.check_build_arguments(NAME, split, SPLITS, batch_size=batch_size, seed=seed,
                                   start_index=start_index, num_frames=num_frames)
  source, _ = _image_set(data_dir, split, training_set, image_size, num_validation,
                         random_flip)
  return source.dataset(split, batch_size=batch_size, seed=seed, start_index=start_index,
                        drop_remainder=drop_remainder)


@registry.register_statistics(NAME)
def statistics(*,
               data_dir: Optional[str] = None,
               per: str = "pixel",
               training_set: str = "unlabeled",
               image_size: int = SOURCE_SIZE,
               num_validation: Optional[int] = None,
               random_flip: bool = False) -> Tuple[np.ndarray, np.ndarray]:
  """`(mean, std)` of the training images (module docstring; registry contract).

  Takes the builder's options (same meaning and defaults). Returns float32
  `(image_size, image_size, 3)` arrays for `per="pixel"`, `(3,)` for `per="channel"`.
  """
  image_sets.check_choice("per", per, ("pixel", "channel"))
  source, path = _image_set(data_dir, "train", training_set, image_size, num_validation,
                            random_flip)
  key = {"files": image_sets.file_identity([path]), "image_size": image_size,
         "num_train": source.num_train, "random_flip": bool(random_flip)}
  values = image_sets.cached_statistics(NAME, os.path.dirname(path), key, source.statistics)
  return image_sets.select_statistics(values, per)
