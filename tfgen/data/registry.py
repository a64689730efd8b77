"""Name -> data-set builder registry shared by every binary.

Every video data set in tfgen honours one contract, so the trainer, the evaluator and
the pipeline never special-case a data set:

    build(split, *, batch_size, num_frames, seed, data_dir=None, start_index=0,
          drop_remainder=True, **options) -> tf.data.Dataset

- elements are float32 frames in [0, 1] shaped `(batch, time, height, width, channels)`;
- `split="train"`: an endless stream of random clips, deterministic given `seed`;
  clip number k of the stream depends only on (seed, k), and `start_index` skips the
  first clips, so a resumed run continues the stream exactly where it stopped;
- `split="test"`: a fixed, documented, finite set (same clips on every call);
- `**options` are the data set's own fields of `config.data` (e.g. `num_digits`).
"""

from typing import Callable, Dict

import tensorflow as tf

_BUILDERS: Dict[str, Callable[..., tf.data.Dataset]] = {}


def register(name: str):
  """Registers `fn` as the builder of data set `name`."""

  def decorator(fn):
    if name in _BUILDERS:
      raise ValueError(f"Data set {name!r} is registered twice.")
    _BUILDERS[name] = fn
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


def build(name: str, split: str, **kwargs) -> tf.data.Dataset:
  """Builds split `split` ("train" or "test") of data set `name` (contract above)."""
  if split not in ("train", "test"):
    raise ValueError(f"Unknown split {split!r}; valid splits: train, test.")
  return get_builder(name)(split, **kwargs)


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
)
