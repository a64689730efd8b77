"""LAPGAN on STL-10 (thesis §4.3.1: 8 -> 16 -> 32 -> 64 -> 96; SPEC §3.3).

Run (five levels; the four conditional ones train on 96, 64, 32 and 16 pixel images):

  python -m tfgen.bin.train --model=lapgan --dataset=stl10 --workdir=/tmp/lapgan_stl10 \
      --data_dir=/path/to/stl10_binary

The thesis trains on the 100,000 unlabeled images (`data.options.training_set`), at
96x96, with the CIFAR-10 recipe at every level (`lapgan_cifar10`): conditional levels
of the CIFAR architecture (G 218,179 parameters at every level; D 231,233 at 96, 157,505
at 64, 116,545 at 32, 108,353 at 16) and the 8x8 coarsest level a 1200 / 600 unit fully
connected GAN; per-pixel z-scoring; Torch SGD as the CIFAR scripts, with an epoch of
90,000 training images / 64 = 1,406 steps. The thesis gives no STL-specific settings
beyond the sizes. "quick" for tests.
"""

import ml_collections

from configs import lapgan_cifar10


def get_config(variant=None):
  """Returns the config; `variant` None or "quick"."""
  config = ml_collections.ConfigDict()
  config.model_name = "lapgan"
  config.model = lapgan_cifar10.lapgan_model(sizes=[96, 64, 32, 16, 8])
  config.lapgan = lapgan_cifar10.lapgan_options()
  config.data = ml_collections.ConfigDict(dict(
      name="stl10",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      options=ml_collections.ConfigDict(dict(training_set="unlabeled", image_size=96)),
  ))
  config.train = lapgan_cifar10.lapgan_train(steps=100 * 1406, steps_per_epoch=1406,
                                             checkpoint_every=1406 * 5,
                                             image_every=1406 * 5)
  if variant == "quick":
    lapgan_cifar10.quick(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
