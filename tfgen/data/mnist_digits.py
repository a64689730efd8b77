"""MNIST digits and labels as an image set, for LAPGAN's MNIST work (SPEC.md §3, §4).

The same sources as the video sets' MNIST (`tfgen.data.mnist.load_mnist_with_labels`:
`data_dir`, `$TFGEN_DATA_DIR`, the Keras cache, a Keras download, then the 2,000-digit
subset shipped with tfgen, with a warning). Images are 28x28x1 in [0, 1], labels 0-9.

Splits:
- "validation": the last sixth of the training digits (`num_validation`): the last
  10,000 of the 60,000 for full MNIST, the held-out set of the GAN papers' Parzen protocol
  (goodfeli/adversarial `parzen_ll.py` validates on `train[50000:60000]`,
  LAPGAN_FACTS §5.1); the same proportion (333 digits) of the shipped 2,000-digit subset;
- "train": the training digits before it (an endless stream in epochs of permutations,
  `tfgen.data.image_sets`);
- "test": the test digits (10,000; 500 in the shipped subset).

Statistics: per pixel and channel over the training digits (std divided by N); pixels
that are 0 in every training digit (the borders) have std 0, returned as 1.
"""

import functools
import os
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from tfgen.data import image_sets
from tfgen.data import mnist
from tfgen.data import registry

NAME = "mnist_digits"
SPLITS = ("train", "validation", "test")
IMAGE_SIZE = 28
VALIDATION_FRACTION = 1 / 6  # 10,000 of 60,000.


@functools.lru_cache(maxsize=2)
def _load(data_dir: Optional[str], env_data_dir: Optional[str]) -> mnist.MnistArrays:
  del env_data_dir  # Part of the cache key only: load_mnist_with_labels reads it itself.
  arrays = mnist.load_mnist_with_labels(data_dir)
  # (N, 28, 28) -> (N, 28, 28, 1); labels uint8 -> int32.
  return arrays._replace(x_train=arrays.x_train[..., None],
                         y_train=arrays.y_train.astype(np.int32),
                         x_test=arrays.x_test[..., None],
                         y_test=arrays.y_test.astype(np.int32))


def _image_set(data_dir: Optional[str], num_validation: Optional[int]):
  arrays = _load(data_dir, os.environ.get(mnist.ENV_VAR))
  num_validation = image_sets.validation_size(f"{NAME} ({arrays.source})",
                                              len(arrays.x_train), num_validation,
                                              VALIDATION_FRACTION)
  num_train = len(arrays.x_train) - num_validation
  source = image_sets.ImageSet(
      NAME, (arrays.x_train[:num_train], arrays.y_train[:num_train]),
      {"validation": (arrays.x_train[num_train:], arrays.y_train[num_train:]),
       "test": (arrays.x_test, arrays.y_test)})
  return source, arrays.source


@registry.register(NAME, kind="image", splits=SPLITS)
def build(split: str,
          *,
          batch_size: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          num_frames: Optional[int] = None,
          num_validation: Optional[int] = None) -> tf.data.Dataset:
  """Builds MNIST digits as a `tf.data.Dataset` (image contract in `tfgen.data.registry`).

  Args:
    split: "train", "validation" or "test" (module docstring).
    batch_size: images per element.
    seed: non-negative int, seed of the training stream (unused by the other splits).
    data_dir: optional Keras-layout `mnist.npz` or its directory (`tfgen.data.mnist`).
    start_index: number of the first example (resumes the training stream exactly).
    drop_remainder: drop a last incomplete batch (validation, test).
    num_frames: must be None (digits are images).
    num_validation: int or None (a sixth of the training digits: 10,000 for full MNIST).

  Returns:
    Dicts `{"image": float32 (batch, 28, 28, 1) in [0, 1], "label": int32 (batch,)}`.

  Raises:
    FileNotFoundError, ValueError: as `tfgen.data.mnist.load_mnist_with_labels`, or a bad
      argument.
  """
  image_sets.check_build_arguments(NAME, split, SPLITS, batch_size=batch_size, seed=seed,
                                   start_index=start_index, num_frames=num_frames)
  source, _ = _image_set(data_dir, num_validation)
  return source.dataset(split, batch_size=batch_size, seed=seed, start_index=start_index,
                        drop_remainder=drop_remainder)


@registry.register_statistics(NAME)
def statistics(*,
               data_dir: Optional[str] = None,
               per: str = "pixel",
               num_validation: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
  """`(mean, std)` float32 `(28, 28, 1)` (`per="pixel"`) or `(1,)` (`per="channel"`).

  Over the training digits (validation held out); cached in memory.
  """
  image_sets.check_choice("per", per, ("pixel", "channel"))
  source, origin = _image_set(data_dir, num_validation)
  # `_load` reads the file once per process, so the source names the digits.
  key = {"source": origin, "num_train": source.num_train}
  values = image_sets.cached_statistics(NAME, None, key, source.statistics)
  return image_sets.select_statistics(values, per)
