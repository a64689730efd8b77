"""Name -> data-set builder registry shared by every binary.

Every data set in tfgen honours one contract, so the trainer, the evaluator and the
pipeline never special-case a data set:

    build(split, *, batch_size, num_frames, seed, data_dir=None, start_index=0,
          drop_remainder=True, **options) -> tf.data.Dataset

- video sets (kind "video"): elements are float32 frames in [0, 1] shaped
  `(batch, time, height, width, channels)`;
- image sets (kind "image": CIFAR-10, STL-10, LSUN, MNIST digits for LAPGAN): `num_frames`
  must be None and elements are dicts `{"image": float32 (batch, height, width, channels)
  in [0, 1], "label": int32 (batch,)}` (label -1 where the set has none);
- `split="train"`: an endless stream, deterministic given `seed`; example (clip or image)
  number k of the stream depends only on (seed, k), and `start_index` skips the first
  examples, so a resumed run continues the stream exactly where it stopped;
- `split="validation"` (only sets registered with it, e.g. the image sets' held-out tail
  of the training files) and `split="test"`: fixed, documented, finite sets (the same
  examples in the same order on every call);
- `**options` are the data set's own fields of `config.data` (e.g. `num_digits`).

Image sets also register a statistics function (`register_statistics`):

    statistics(name, *, data_dir=None, per=None | "pixel" | "channel", **options)
        -> (mean, std)

float32 arrays `(height, width, channels)` for `per="pixel"` or `(channels,)` for
`per="channel"` (None: the data set's own recipe), in the [0, 1] units of the elements,
computed from the training images (validation held out) as the stream renders them (after
cropping and resizing), for the z-scoring `(x - mean) / std` that LAPGAN trains on; a std
of 0 (a pixel constant over the training images, e.g. MNIST's borders) is returned as 1.
"""

from typing import Callable, Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

KINDS = ("video", "image")
VIDEO_SPLITS = ("train", "test")
ALL_SPLITS = ("train", "validation", "test")

_BUILDERS: Dict[str, Callable[..., tf.data.Dataset]] = {}
_SPLITS: Dict[str, Tuple[str, ...]] = {}
_KINDS: Dict[str, str] = {}
_STATISTICS: Dict[str, Callable[..., Tuple[np.ndarray, np.ndarray]]] = {}


def register(name: str, *, kind: str = "video", splits: Tuple[str, ...] = VIDEO_SPLITS):
  """Registers `fn` as the builder of data set `name`.

  Args:
    name: the data set's name (`config.data.name`).
    kind: "video" (clips) or "image" (module docstring).
    splits: the splits the builder accepts, a subset of train, validation, test.
  """
  if kind not in KINDS:
    raise ValueError(f"Unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}.")
  unknown = set(splits) - set(ALL_SPLITS)
  if unknown:
    raise ValueError(f"Unknown splits {sorted(unknown)}; valid: {', '.join(ALL_SPLITS)}.")

  def decorator(fn):
    if name in _BUILDERS:
      raise ValueError(f"Data set {name!r} is registered twice.")
    _BUILDERS[name] = fn
    _SPLITS[name] = tuple(splits)
    _KINDS[name] = kind
    return fn

  return decorator


def register_statistics(name: str):
  """Registers `fn(*, data_dir=None, per="pixel", **options) -> (mean, std)` for `name`."""

  def decorator(fn):
    if name in _STATISTICS:
      raise ValueError(f"Statistics of data set {name!r} are registered twice.")
    _STATISTICS[name] = fn
    return fn

  return decorator


def names():
  """Returns the sorted names of the registered data sets."""
  _import_builders()
  return sorted(_BUILDERS)


def get_builder(name: str) -> Callable[..., tf.data.Dataset]:
  """Returns the builder of data set `name`; raises `ValueError` listing valid names."""
  _import_builders()
  if name not in _BUILDERS:
    raise ValueError(
        f"Unknown dataset {name!r}; valid datasets: {', '.join(sorted(_BUILDERS))}.")
  return _BUILDERS[name]


def splits(name: str) -> Tuple[str, ...]:
  """The splits data set `name` has (e.g. ("train", "test") for the video sets)."""
  get_builder(name)
  return _SPLITS[name]


def kind(name: str) -> str:
  """"video" or "image" (module docstring)."""
  get_builder(name)
  return _KINDS[name]


def build(name: str, split: str, **kwargs) -> tf.data.Dataset:
  """Builds split `split` ("train", "validation" or "test") of data set `name`.

  Raises:
    ValueError: an unknown data set or split, or a split the data set does not have
      (e.g. "validation" of a video set).
  """
  if split not in ALL_SPLITS:
    raise ValueError(f"Unknown split {split!r}; valid splits: {', '.join(ALL_SPLITS)}.")
  builder = get_builder(name)
  if split not in _SPLITS[name]:
    raise ValueError(
        f"Data set {name!r} has no {split!r} split; its splits are: "
        f"{', '.join(_SPLITS[name])}.")
  return builder(split, **kwargs)


def statistics(name: str, *, data_dir=None, per: Optional[str] = None,
               **options) -> Tuple[np.ndarray, np.ndarray]:
  """`(mean, std)` of the training images of image set `name` (module docstring).

  Args:
    name: a registered image set.
    data_dir: as for its builder.
    per: "pixel" (mean and std images `(height, width, channels)`), "channel"
      (`(channels,)`), or None: the data set's own recipe (LAPGAN_FACTS §1.2-1.3: per pixel
      for CIFAR-10, STL-10 and MNIST digits, per channel for LSUN).
    **options: the data set's options, as passed to its builder (same defaults).

  Raises:
    ValueError: an unknown data set, a set without statistics (video), or an unknown `per`.
  """
  get_builder(name)
  if name not in _STATISTICS:
    raise ValueError(
        f"Data set {name!r} has no image statistics (a {_KINDS[name]} set); data sets "
        f"with statistics: {', '.join(sorted(_STATISTICS))}.")
  if per is not None:
    if per not in ("pixel", "channel"):
      raise ValueError(f"Unknown per {per!r}; valid: pixel, channel (or None).")
    options["per"] = per
  return _STATISTICS[name](data_dir=data_dir, **options)


def _import_builders():
  # Importing a data-set module registers it; imported lazily so that importing
  # tfgen.data stays cheap.
  import importlib
  for module in _MODULES:
    try:
      importlib.import_module(module)
    except ModuleNotFoundError as e:
      if e.name != module:
        raise


_MODULES = (
    "tfgen.data.smmnist",
    "tfgen.data.moving_mnist",
    "tfgen.data.kth",
    "tfgen.data.bair",
    "tfgen.data.smallnorb",
    "tfgen.data.cifar10",
    "tfgen.data.stl10",
    "tfgen.data.lsun",
    "tfgen.data.mnist_digits",
)
