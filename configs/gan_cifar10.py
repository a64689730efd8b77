"""The plain GAN baseline of the thesis' Parzen table (Table 4.1) on CIFAR-10 at 32x32.

Run:

  python -m tfgen.bin.train --model=gan --dataset=cifar10 --workdir=/tmp/gan_cifar10 \
      --data_dir=/path/to/cifar-10-batches-py

A one-level LAPGAN (the family "lapgan" with sizes [32]): the released
`train_cifar.lua --scale 32` fully connected GAN (LAPGAN_FACTS §2.3): G = 100 -> 8000 ReLU
-> 8000 Sigmoid -> 3072 (89,395,072 parameters), D = 3072 -> 1600 ReLU dropout -> 1600
ReLU dropout -> 1 (7,480,001), G kernels N(0, 0.05), D kernels N(0, 0.005), biases 0;
full 32x32 images z-scored per pixel; Torch SGD lr 0.02 (divided by 1.000004 per epoch),
momentum from 0 (+0.0008 per epoch, cap 0.7), batch 100 (50 real + 50 generated for D,
then 100 for G: batch_size 200), epochs of 45,000 / 50 = 900 steps. "quick" for tests.
"""

import ml_collections

from configs import lapgan_cifar10


def gan_train(**overrides):
  return lapgan_cifar10.lapgan_train(**dict(dict(
      batch_size=200, momentum=0.0, steps_per_epoch=900, steps=100 * 900,
      checkpoint_every=900 * 5, image_every=900 * 5), **overrides))


def get_config(variant=None):
  """Returns the config; `variant` None or "quick"."""
  config = ml_collections.ConfigDict()
  config.model_name = "gan"
  config.model = lapgan_cifar10.lapgan_model(sizes=[32], **lapgan_cifar10.CODE_COARSEST)
  config.lapgan = lapgan_cifar10.lapgan_options()
  config.data = ml_collections.ConfigDict(dict(
      name="cifar10",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      options=ml_collections.ConfigDict(dict(crop=32)),
  ))
  config.train = gan_train()
  if variant == "quick":
    lapgan_cifar10.quick(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
