"""LAPGAN on MNIST digits (28 -> 14 -> 7): the LAPGAN recipe on data that runs here.

Run (every level in sequence, coarsest first; each level in `W/level_K/`):

  python -m tfgen.bin.train --model=lapgan --dataset=mnist_digits --workdir=/tmp/lapgan_mnist

One level only (levels are independent: run them as parallel jobs, then rerun the command
above, which finds them trained and assembles the LAPGAN):

  python -m tfgen.bin.train --model=lapgan --dataset=mnist_digits --workdir=/tmp/lapgan_mnist \
      --config.lapgan.level=1

Quick variant (tiny networks, batch 16, 30 steps per level; seconds per level on 2 CPU
cores, with the 2,000-digit subset shipped with tfgen when no MNIST is available): checks
that everything runs, not the results.

  python -m tfgen.bin.train --model=lapgan --dataset=mnist_digits --workdir=/tmp/lq --quick

The thesis has no MNIST LAPGAN; this config applies its CIFAR-10 recipe (SPEC §3.3,
LAPGAN_FACTS §2-3) to 28x28x1 digits: pyramid 28 -> 14 -> 7 (the released operators),
conditional levels with the CIFAR architecture (G 3 convs of 64, D 2 convs of 64), the
coarsest level a fully connected GAN with the thesis' 1200 / 600 ReLU units, z 100-d
U(-1, 1). Data z-scored per channel (per pixel z-scoring divides MNIST's rarely inked
border pixels by tiny stds). Optimisation as `train_cifar_coarse_to_fine.lua`: Torch SGD,
lr 0.02 divided by 1.000004 per epoch (floor 1e-6), momentum 0.5 rising 0.0008 per epoch
to 0.7, one D step on 64 real + 64 generated images then one G step on 128 fresh ones
(batch_size 256 = the images one step draws), 50,000 / 64 -> 781 steps per epoch.
"""

import ml_collections

from configs import lapgan_cifar10


def get_config(variant=None):
  """Returns the config; `variant` "quick" or None."""
  config = ml_collections.ConfigDict()
  config.model_name = "lapgan"
  config.model = lapgan_cifar10.lapgan_model(sizes=[28, 14, 7], channels=1,
                                             normalization="channel")
  config.lapgan = lapgan_cifar10.lapgan_options()
  config.data = ml_collections.ConfigDict(dict(
      name="mnist_digits",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      options=ml_collections.ConfigDict(),
  ))
  config.train = lapgan_cifar10.lapgan_train(steps=100 * 781, steps_per_epoch=781,
                                             checkpoint_every=781 * 5, image_every=781 * 5)
  if variant == "quick":
    lapgan_cifar10.quick(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
