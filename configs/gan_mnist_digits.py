"""The plain GAN baseline on MNIST digits (Goodfellow et al.'s Parzen protocol data).

  python -m tfgen.bin.train --model=gan --dataset=mnist_digits --workdir=/tmp/gan_mnist

A one-level LAPGAN at 28x28x1 with the released `train_cifar.lua` fully connected GAN
(8000 / 1600 units, Sigmoid after G's second layer, N(0, 0.05) / N(0, 0.005) init) and
its optimisation (`gan_cifar10`), per-channel z-scoring, epochs of 50,000 / 50 = 1,000
steps. "quick" for tests.
"""

import ml_collections

from configs import gan_cifar10
from configs import lapgan_cifar10


def get_config(variant=None):
  """Returns the config; `variant` None or "quick"."""
  config = ml_collections.ConfigDict()
  config.model_name = "gan"
  config.model = lapgan_cifar10.lapgan_model(sizes=[28], channels=1, normalization="channel",
                                             **lapgan_cifar10.CODE_COARSEST)
  config.lapgan = lapgan_cifar10.lapgan_options()
  config.data = ml_collections.ConfigDict(dict(
      name="mnist_digits",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      options=ml_collections.ConfigDict(),
  ))
  config.train = gan_cifar10.gan_train(steps_per_epoch=1000, steps=100 * 1000,
                                       checkpoint_every=5000, image_every=5000)
  if variant == "quick":
    lapgan_cifar10.quick(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
