"""LAPGAN on one LSUN scene (thesis §4.3.2; lsun/model.lua "large"; LAPGAN_FACTS §2.4).

Run:

  python -m tfgen.bin.train --model=lapgan --dataset=lsun --workdir=/tmp/lapgan_lsun \
      --data_dir=/path/to/lsun --config.data.options.category=bedroom

Conditional levels with the released LSUN "large" networks (G: 5 convolutions of 64,
368 (4 groups), 128 (4 groups) then L2 feature pooling to 64, 224 (2 groups), 3, 7x7
except one 5x5, ReLU then affine-free batch norm after every layer including the output,
spatial dropout after layers 2 and 4; 1,090,995 parameters. D on l + h: valid convs 3x3 48,
5x5 448 (4 groups), 7x7 416 (16 groups), linear; 1,832,225 parameters at 64, 873,761 at 32,
714,017 at 16), per-channel z-scoring, Torch SGD with lr 0.01 for D and G, momentum from 0
(+0.0008 per epoch, cap 0.7), 24 epochs of 5,000 steps, one model per scene (the thesis;
the code trains the 10 scenes jointly).

Pyramid 64 -> 32 -> 16 -> 8, the coarsest level an 8x8 fully connected GAN (1200 / 600):
the thesis' 4 -> 8 level is left out because the released LSUN D needs images of at least
13x13 (three valid convolutions) and the thesis describes no other D for it
(LAPGAN_FACTS §0.8). The code's margin rule (step D or G by err_F > err_R + 0.3) is not
implemented: D and G alternate 1:1 as in the CIFAR code. "quick" for tests.
"""

import ml_collections

from configs import lapgan_cifar10


def get_config(variant=None):
  """Returns the config; `variant` None or "quick"."""
  config = ml_collections.ConfigDict()
  config.model_name = "lapgan"
  config.model = lapgan_cifar10.lapgan_model(sizes=[64, 32, 16, 8], architecture="lsun",
                                             normalization="channel")
  config.lapgan = lapgan_cifar10.lapgan_options()
  config.data = ml_collections.ConfigDict(dict(
      name="lsun",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      options=ml_collections.ConfigDict(dict(category="bedroom", image_size=64)),
  ))
  config.train = lapgan_cifar10.lapgan_train(
      steps=24 * 5000, steps_per_epoch=5000, learning_rate=0.01, momentum=0.0,
      checkpoint_every=5000, image_every=5000)
  if variant == "quick":
    lapgan_cifar10.quick(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
