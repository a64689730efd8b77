"""What tfgen's image data sets share: streams, crops, resizing, statistics, caching.

The image sets (`tfgen.data.cifar10`, `stl10`, `lsun`, `mnist_digits`) serve LAPGAN
(thesis ch. 4) through the registry contract for images (`tfgen.data.registry`): elements
`{"image": float32 (batch, height, width, channels) in [0, 1], "label": int32 (batch,)}`.

`ImageSet` renders the sets whose images fit in an array (memory-mapped where the file
layout allows):

- "train" is an endless stream in epochs. With `P` crop positions per image (4 for the
  thesis' four corner crops, else 1), epoch e visits each of the `N * P` (image, position)
  pairs once, in the order `np.random.default_rng([seed, 0, e]).permutation(N * P)`;
  example k is entry `k % (N * P)` of epoch `k // (N * P)`. Random crop offsets and flips
  of example k come from `np.random.default_rng([seed, 1, k])`. So example k depends only
  on (seed, k), and a stream started at `start_index` equals the tail of a stream started
  at 0.
- "validation" and "test" are fixed arrays rendered in file order with centre crops
  (offset `ceil((size - crop) / 2)`, as Torch's `image.crop` call in eyescream's loaders).

Resizing follows Torch's `image.scale` in its default bilinear mode, which eyescream used
throughout (LAPGAN_FACTS §1.2): separable, a fractional box average when shrinking (=
`tf.image.resize(method="area")`) and align-corners linear interpolation when enlarging.

Statistics (`ImageSet.statistics`) are exact moments of the distribution the training
stream draws from: per-pixel sums over the training images, averaged over the crop
windows (and mirrored when flipping), so no sampling is involved. They are cached in
memory and, where the data directory is writable, in `<data dir>/tfgen_statistics/`
(written atomically; keyed by the files' size and modification time and the options).
"""

import functools
import hashlib
import io
import json
import os
from typing import Callable, Dict, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from tfgen.utils import files
from tfgen.utils import resampling

ENV_VAR = "TFGEN_DATA_DIR"
TRAIN_CROPS = ("corners", "random")
# A std below this (in [0, 1] units) is a pixel constant over the training images up to
# float64 rounding; it is returned as 1 so that z-scoring leaves the pixel unscaled.
# (The smallest real std, one image in 10^7 one grey level off, is ~1.2e-6.)
MIN_STD = 1e-6
# Bumped when the statistics' definition changes, so stale cache files are not read.
STATISTICS_VERSION = 1
STATISTICS_DIR = "tfgen_statistics"
_MAX_INDEX = 2**62
# Top-left offsets of the four corner crops, as multiples of (size - crop).
_CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.int64)


def default_root() -> str:
  """`$TFGEN_DATA_DIR`, or `~/tfgen_data`."""
  return os.environ.get(ENV_VAR) or os.path.join(os.path.expanduser("~"), "tfgen_data")


# ------------------------------------------------------------------------- checks


def check_int(name: str, value, minimum: int, maximum: Optional[int] = None) -> None:
  if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum
      or (maximum is not None and value > maximum)):
    bound = f"in {minimum}..{maximum}" if maximum is not None else f">= {minimum}"
    raise ValueError(f"{name} must be an int {bound}, got {value!r}.")


def check_choice(name: str, value, valid: Sequence) -> None:
  if value not in valid:
    raise ValueError(f"Unknown {name} {value!r}; valid: {', '.join(map(str, valid))}.")


def check_build_arguments(name: str, split: str, splits: Sequence[str], *, batch_size,
                          seed, start_index, num_frames) -> None:
  """The checks every image builder makes of the registry-contract arguments."""
  if num_frames is not None:
    raise ValueError(f"Data set {name!r} holds images, not clips: num_frames must be None, "
                     f"got {num_frames!r}.")
  if split not in splits:
    raise ValueError(f"Unknown split {split!r} of {name}; valid splits: {', '.join(splits)}.")
  check_int("batch_size", batch_size, 1)
  check_int("seed", seed, 0)
  check_int("start_index", start_index, 0)


def validation_size(name: str, num_images: int, num_validation: Optional[int],
                    default_fraction: float) -> int:
  """`num_validation`, or `round(num_images * default_fraction)`; checked against the set."""
  if num_validation is None:
    num_validation = int(round(num_images * default_fraction))
  check_int("num_validation", num_validation, 0)
  if num_validation >= num_images:
    raise ValueError(
        f"num_validation={num_validation} leaves no training images: {name} has "
        f"{num_images} training images; use fewer.")
  return num_validation


# ---------------------------------------------------------------------- resizing


torch_scale_matrix = resampling.torch_scale_matrix


def torch_scale(images: np.ndarray, height: int, width: int) -> np.ndarray:
  """Resizes float `(..., H, W, C)` images as Torch `image.scale`; returns float32."""
  rows = torch_scale_matrix(images.shape[-3], height).astype(np.float32)
  columns = torch_scale_matrix(images.shape[-2], width).astype(np.float32)
  # (..., H, W, C) -> (..., height, width, C).
  return np.einsum("hi,...ijc,wj->...hwc", rows, images.astype(np.float32), columns,
                   optimize=True)


def to_unit_range(images: np.ndarray) -> np.ndarray:
  """uint8 -> float32 in [0, 1] (division by 255, as torchvision's ToTensor)."""
  return np.asarray(images, np.float32) / np.float32(255)


def centre_offset(size: int, crop: int) -> int:
  """Top-left offset of a centre crop: `ceil((size - crop) / 2)` (eyescream's testHook)."""
  return -(-(size - crop) // 2)


def crop(images: np.ndarray, top: np.ndarray, left: np.ndarray, size: int) -> np.ndarray:
  """Per-image `size` x `size` crops of `(batch, H, W, C)` at offsets `(batch,)`."""
  rows = np.asarray(top)[:, None] + np.arange(size)  # (batch, size)
  columns = np.asarray(left)[:, None] + np.arange(size)
  batch = np.arange(len(images))[:, None, None]
  return images[batch, rows[:, :, None], columns[:, None, :]]


# ------------------------------------------------------------------------ streams


@functools.lru_cache(maxsize=8)
def epoch_permutation(seed: int, epoch: int, size: int) -> np.ndarray:
  """The visiting order of epoch `epoch` of a stream over `size` entries."""
  order = np.random.default_rng([seed, 0, epoch]).permutation(size)
  order.setflags(write=False)
  return order


def example_rng(seed: int, index: int) -> np.random.Generator:
  """The generator of example `index`'s own random choices (crop offsets, flips)."""
  return np.random.default_rng([seed, 1, index])


def stream_entries(indices: np.ndarray, seed: int, size: int) -> np.ndarray:
  """Entries (in 0..size-1) of stream examples `indices` (epochs of permutations)."""
  indices = np.asarray(indices, np.int64).reshape(-1)
  entries = np.empty_like(indices)
  epochs = indices // size
  for epoch in np.unique(epochs):
    chosen = epochs == epoch
    entries[chosen] = epoch_permutation(seed, int(epoch), size)[indices[chosen] % size]
  return entries


def make_dataset(render: Callable[[np.ndarray], Tuple[np.ndarray, np.ndarray]], *,
                 start_index: int, end: int, batch_size: int, drop_remainder: bool,
                 endless: bool, image_shape: Tuple[int, int, int]) -> tf.data.Dataset:
  """`{"image", "label"}` batches of examples `start_index`..`end - 1` rendered by `render`.

  Args:
    render: maps int64 example indices `(batch,)` to (float32 `(batch, *image_shape)`,
      int32 `(batch,)`).
    start_index, end: the examples' range.
    batch_size, drop_remainder: as `tf.data.Dataset.batch`.
    endless: True for the training stream (its batches are always full).
    image_shape: `(height, width, channels)`.
  """
  dataset = tf.data.Dataset.range(start_index, end).batch(batch_size,
                                                          drop_remainder=drop_remainder)
  static_batch = batch_size if (drop_remainder or endless) else None

  def generate(batch_indices):
    images, labels = tf.numpy_function(render, [batch_indices], (tf.float32, tf.int32),
                                       stateful=False)
    images.set_shape((static_batch,) + tuple(image_shape))
    labels.set_shape((static_batch,))
    return {"image": images, "label": labels}

  dataset = dataset.map(generate, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return dataset.prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------- ImageSet


class ImageSet:
  """Training, validation and test images of one data set, rendered as the contract says.

  Args:
    name: the data set's name, for messages.
    train: `(images, labels)`: uint8 `(N, H, W, C)` (an array or a read-only memory map;
      only the examples of a batch are read) and int32 `(N,)` labels (-1: none).
    evaluation: `{"validation": (images, labels), "test": (images, labels)}`, same layout.
    image_size: int or None: resize every image to `image_size` x `image_size` (Torch
      `image.scale`) before cropping; None keeps the stored size.
    crop_size: int or None: crop `crop_size` x `crop_size` (training: `train_crops`;
      validation and test: the centre crop); None keeps the whole image.
    train_crops: "corners" (each image's four corner crops, each visited once per epoch:
      the thesis' "four 28x28 crops", T:557) or "random" (a uniformly random offset).
    random_flip: mirror training examples left-right with probability 1/2.
  """

  def __init__(self, name: str, train: Tuple[np.ndarray, np.ndarray],
               evaluation: Dict[str, Tuple[np.ndarray, np.ndarray]], *,
               image_size: Optional[int] = None, crop_size: Optional[int] = None,
               train_crops: str = "corners", random_flip: bool = False):
    check_choice("train_crops", train_crops, TRAIN_CROPS)
    self.name = name
    self.train_images, self.train_labels = train
    self.evaluation = evaluation
    stored = self.train_images.shape[1:3]
    self.channels = int(self.train_images.shape[3])
    if image_size is not None:
      check_int("image_size", image_size, 1)
    self.image_size = image_size
    self.size = tuple(stored) if image_size is None else (image_size, image_size)
    if crop_size is not None:
      check_int("crop_size", crop_size, 1, min(self.size))
    self.crop_size = crop_size
    self.train_crops = train_crops
    self.random_flip = bool(random_flip)
    self.positions = 4 if (crop_size is not None and train_crops == "corners") else 1

  @property
  def image_shape(self) -> Tuple[int, int, int]:
    height, width = self.size if self.crop_size is None else (self.crop_size,) * 2
    return height, width, self.channels

  @property
  def num_train(self) -> int:
    return len(self.train_images)

  def num_examples(self, split: str) -> int:
    """Size of a finite split ("validation" or "test")."""
    return len(self.evaluation[split][0])

  def _load(self, images: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """float32 `(batch, *self.size, C)` in [0, 1] of stored images `indices`."""
    batch = to_unit_range(images[np.asarray(indices, np.int64)])
    if self.image_size is not None and batch.shape[1:3] != self.size:
      batch = np.clip(torch_scale(batch, *self.size), 0.0, 1.0)
    return batch

  def train_batch(self, indices: np.ndarray, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Training examples number `indices` of the stream of `seed` (module docstring)."""
    indices = np.asarray(indices, np.int64).reshape(-1)
    entries = stream_entries(indices, seed, self.num_train * self.positions)
    images, positions = entries // self.positions, entries % self.positions
    batch = self._load(self.train_images, images)
    flips = np.zeros(len(indices), bool)
    if self.crop_size is not None:
      spare = np.array(self.size) - self.crop_size  # (2,): room to move the window.
      if self.train_crops == "corners":
        offsets = _CORNERS[positions] * spare  # (batch, 2)
      else:
        offsets = np.zeros((len(indices), 2), np.int64)
    if self.random_flip or (self.crop_size is not None and self.train_crops == "random"):
      for row, index in enumerate(indices):
        rng = example_rng(seed, int(index))
        if self.crop_size is not None and self.train_crops == "random":
          offsets[row] = rng.integers(0, spare + 1)
        if self.random_flip:
          flips[row] = rng.random() < 0.5
    if self.crop_size is not None:
      batch = crop(batch, offsets[:, 0], offsets[:, 1], self.crop_size)
    batch[flips] = batch[flips, :, ::-1]
    return np.ascontiguousarray(batch), np.asarray(self.train_labels[images], np.int32)

  def evaluation_batch(self, split: str,
                       indices: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Examples `indices` of the fixed split `split`, centre-cropped."""
    images, labels = self.evaluation[split]
    indices = np.asarray(indices, np.int64).reshape(-1)
    batch = self._load(images, indices)
    if self.crop_size is not None:
      top, left = (centre_offset(size, self.crop_size) for size in self.size)
      batch = batch[:, top:top + self.crop_size, left:left + self.crop_size]
    return np.ascontiguousarray(batch), np.asarray(labels[indices], np.int32)

  def dataset(self, split: str, *, batch_size: int, seed: int, start_index: int,
              drop_remainder: bool) -> tf.data.Dataset:
    """The registry-contract dataset of `split`."""
    if split == "train":
      render = functools.partial(self.train_batch, seed=seed)
      end = _MAX_INDEX
    else:
      render = functools.partial(self.evaluation_batch, split)
      end = self.num_examples(split)
    return make_dataset(render, start_index=start_index, end=end, batch_size=batch_size,
                        drop_remainder=drop_remainder, endless=split == "train",
                        image_shape=self.image_shape)

  def moments(self, chunk: int = 2048) -> Dict[str, np.ndarray]:
    """Exact per-pixel first and second moments of the training stream's examples.

    Returns:
      `{"mean": (h, w, C), "mean_square": (h, w, C)}` float64 over the distribution the
      stream draws from: every training image, every crop window it may take (the four
      corners, or all offsets for random crops), mirrored or not when flipping.
    """
    total = np.zeros(self.size + (self.channels,))
    total_square = np.zeros_like(total)
    for start in range(0, self.num_train, chunk):
      batch = self._load(self.train_images, np.arange(start, min(start + chunk,
                                                                 self.num_train)))
      batch = batch.astype(np.float64)
      total += batch.sum(axis=0)
      total_square += np.square(batch).sum(axis=0)
    moments = {"mean": total / self.num_train, "mean_square": total_square / self.num_train}
    if self.crop_size is not None:
      spare = np.array(self.size) - self.crop_size
      if self.train_crops == "corners":
        windows = _CORNERS * spare
      else:
        windows = np.stack(np.meshgrid(np.arange(spare[0] + 1), np.arange(spare[1] + 1),
                                       indexing="ij"), axis=-1).reshape(-1, 2)
      size = self.crop_size
      for key, value in moments.items():
        moments[key] = np.mean([value[top:top + size, left:left + size]
                                for top, left in windows], axis=0)
    if self.random_flip:
      moments = {key: (value + value[:, ::-1]) / 2 for key, value in moments.items()}
    return moments

  def statistics(self) -> Dict[str, np.ndarray]:
    """`pixel_mean`, `pixel_std` `(h, w, C)` and `channel_mean`, `channel_std` `(C,)`.

    Population (divide-by-N) moments of the training examples in [0, 1] units, as
    eyescream's `data:std(1, true)` (LAPGAN_FACTS §1.2); per channel, pooled over every
    pixel of every example.
    """
    moments = self.moments()
    mean, mean_square = moments["mean"], moments["mean_square"]
    channel_mean = mean.mean(axis=(0, 1))
    channel_mean_square = mean_square.mean(axis=(0, 1))
    return {
        "pixel_mean": mean,
        "pixel_std": np.sqrt(np.maximum(mean_square - np.square(mean), 0.0)),
        "channel_mean": channel_mean,
        "channel_std": np.sqrt(np.maximum(channel_mean_square - np.square(channel_mean), 0.0)),
    }


def select_statistics(statistics: Dict[str, np.ndarray], per: str) -> Tuple[np.ndarray,
                                                                            np.ndarray]:
  """`(mean, std)` float32 for `per` ("pixel" or "channel"); std < `MIN_STD` -> 1."""
  check_choice("per", per, ("pixel", "channel"))
  mean = np.asarray(statistics[f"{per}_mean"], np.float32)
  std = np.asarray(statistics[f"{per}_std"], np.float64)
  std = np.where(std < MIN_STD, 1.0, std).astype(np.float32)
  return mean, std


# ---------------------------------------------------------------- statistics cache

_MEMORY_CACHE: Dict[str, Dict[str, np.ndarray]] = {}
_STATISTICS_KEYS = ("pixel_mean", "pixel_std", "channel_mean", "channel_std")


def file_identity(paths: Sequence[str]) -> list:
  """`[[path, size, mtime_ns], ...]`: a replaced file changes the statistics' key."""
  identity = []
  for path in paths:
    stat = os.stat(path)
    identity.append([os.path.abspath(path), stat.st_size, stat.st_mtime_ns])
  return identity


def cached_statistics(name: str, directory: Optional[str], key: dict,
                      compute: Callable[[], Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
  """`compute()`'s statistics, cached in memory and in `directory/tfgen_statistics/`.

  Args:
    name: the data set's name (the cache file's prefix).
    directory: the data's directory; the cache file goes into its `tfgen_statistics`
      subdirectory, written atomically. An unwritable directory only logs a warning.
      None: memory only.
    key: JSON-serialisable description of everything the statistics depend on (files'
      identity, options).
    compute: returns `{"pixel_mean", "pixel_std", "channel_mean", "channel_std"}`.
  """
  text = json.dumps(dict(key, dataset=name, version=STATISTICS_VERSION), sort_keys=True)
  if text in _MEMORY_CACHE:
    return _MEMORY_CACHE[text]
  if directory is None:
    _MEMORY_CACHE[text] = compute()
    return _MEMORY_CACHE[text]
  digest = hashlib.sha256(text.encode()).hexdigest()[:16]
  path = os.path.join(directory, STATISTICS_DIR, f"{name}-{digest}.npz")
  statistics = None
  if os.path.isfile(path):
    try:
      with np.load(path, allow_pickle=False) as stored:
        if str(stored["key"]) == text:
          statistics = {k: np.array(stored[k]) for k in _STATISTICS_KEYS}
    except Exception as e:  # pylint: disable=broad-except  (a damaged cache is recomputed)
      logging.warning("Ignoring the damaged statistics cache %s: %s", path, e)
  if statistics is None:
    logging.info("%s: computing the training images' statistics (cached in %s).", name, path)
    statistics = compute()
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(text), **{k: statistics[k] for k in _STATISTICS_KEYS})
    try:
      files.atomic_write(path, buffer.getvalue())
    except (OSError, tf.errors.OpError) as e:
      logging.warning("%s: could not cache the statistics in %s (%s); they are kept in "
                      "memory only.", name, path, e)
  _MEMORY_CACHE[text] = statistics
  return statistics
