"""LAPGAN on CIFAR-10, the thesis' recipe (§4.3.1, SPEC §3.3, LAPGAN_FACTS §1-3).

Run (every level in sequence, coarsest first, each in `W/level_K/`; ~30 s per 100 steps
of a conditional level on 2 CPU cores, see README's LAPGAN benchmark):

  python -m tfgen.bin.train --model=lapgan --dataset=cifar10 --workdir=/tmp/lapgan_cifar10 \
      --data_dir=/path/to/cifar-10-batches-py

One level (levels are independent: parallel jobs, then rerun the command above to
assemble the LAPGAN for `tfgen.bin.generate` / `tfgen.bin.export`):

  python -m tfgen.bin.train --model=lapgan --dataset=cifar10 --workdir=/tmp/lapgan_cifar10 \
      --config.lapgan.level=0

Thesis defaults: pyramid 28 -> 14 -> 8 on the four 28x28 corner crops of each image
(`data.options.crop=28`), each level's coarse image made from the 28x28 crop with the
released operators (Torch `image.scale`); conditional levels with the released CIFAR
architecture (G: conv 7x7 64, conv 7x7 64, conv 5x5 3, ReLU, linear output; D on l + h:
conv 5x5 64, conv 5x5 stride 2 64, dropout, linear; G 218,179 and D 107,905 / 113,729
parameters); the coarsest 8x8 level a fully connected GAN with G 1200 and D 600 ReLU units
(1,792,992 and 477,001 parameters), z 100-d U(-1, 1); data z-scored per pixel and channel
with the statistics of the training images. Optimisation as
`train_cifar_coarse_to_fine.lua`: Torch SGD (momentum an average of gradients), lr 0.02
divided by 1.000004 per epoch (floor 1e-6), momentum 0.5 + 0.0008 per epoch capped at 0.7
(the code; the thesis says 0.8), epochs of 45,000 / 64 = 704 steps; per step one D step on
64 real and 64 generated images (conditioned on other images' coarse versions), then one G
step on 128 fresh images, so `batch_size` 256 is the number of images a step draws.
100 epochs per level by default (the code runs until stopped).

Variants: "code" = the released default (one 16 -> 32 level on full 32x32 images, plus the
16x16 coarsest level with the code's 8000 / 1600 units, Sigmoid, N(0, 0.05) / N(0, 0.005)
init and momentum 0); "quick" = tiny networks, a few steps, for tests.
"""

import ml_collections


def lapgan_model(**overrides):
  """The `config.model` fields shared by the LAPGAN configs (thesis CIFAR-10 defaults)."""
  fields = dict(
      name="lapgan",
      sizes=[28, 14, 8],
      channels=3,
      pyramid_method="released",  # Torch image.scale; "burt_adelson" for the 5-tap kernel.
      coarse_from="original",  # Every level's coarse image from the full image (code).
      num_classes=0,
      architecture="cifar",
      hidden_generator=64,
      hidden_discriminator=64,
      noise_dim=100,
      coarsest_generator_units=1200,  # Thesis; the code's 8000, the demo model's 600.
      coarsest_discriminator_units=600,  # Thesis; the code's 1600.
      coarsest_generator_activations=["relu", "relu"],
      coarsest_init="torch",
      normalization="pixel",
      discriminator_batch="half",  # Code: 64 real + 64 generated; "coin": the thesis.
      seed=1,
  )
  fields.update(overrides)
  return ml_collections.ConfigDict(fields)


def lapgan_train(**overrides):
  """`config.train`: `train_cifar_coarse_to_fine.lua`'s optimisation (LAPGAN_FACTS §3)."""
  fields = dict(
      batch_size=256,  # Per step: 64 real + 64 generated for D, 128 for G.
      steps=100 * 704,
      optimizer="torch_sgd",
      learning_rate=0.02,
      momentum=0.5,
      momentum_increment=0.0008,
      momentum_max=0.7,  # Code; the thesis says 0.8.
      learning_rate_divisor=1.000004,
      learning_rate_min=1e-6,
      steps_per_epoch=704,  # 45,000 training images / 64 real per step.
      seed=1,
      precision="float32",
      jit_compile=False,
      log_every=100,
      checkpoint_every=704 * 5,
      image_every=704 * 5,
      max_checkpoints_to_keep=3,
      num_image_sequences=8,
      num_image_samples=4,
  )
  fields.update(overrides)
  return ml_collections.ConfigDict(fields)


def lapgan_options(level=-1, coarsest_train=None):
  """`config.lapgan`: which level a run trains (-1: all) and per-level train overrides."""
  return ml_collections.ConfigDict(dict(
      level=level,
      coarsest_train=ml_collections.ConfigDict(coarsest_train or {}),
  ))


def quick(config):
  """The tiny "quick" variant shared by the LAPGAN configs."""
  config.model.update(dict(hidden_generator=8, hidden_discriminator=8,
                           coarsest_generator_units=32, coarsest_discriminator_units=16,
                           noise_dim=16))
  config.train.update(dict(batch_size=16, steps=30, log_every=10, checkpoint_every=10,
                           image_every=30, steps_per_epoch=10, num_image_sequences=4,
                           num_image_samples=2))
  return config


CODE_COARSEST = dict(coarsest_generator_units=8000, coarsest_discriminator_units=1600,
                     coarsest_generator_activations=["relu", "sigmoid"],
                     coarsest_init="normal")


def get_config(variant=None):
  """Returns the config; `variant` None (thesis), "code" or "quick"."""
  config = ml_collections.ConfigDict()
  config.model_name = "lapgan"
  config.model = lapgan_model()
  config.lapgan = lapgan_options()
  config.data = ml_collections.ConfigDict(dict(
      name="cifar10",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      options=ml_collections.ConfigDict(dict(crop=28, train_crops="corners")),
  ))
  config.train = lapgan_train()
  if variant == "code":
    config.model.update(dict(sizes=[32, 16], **CODE_COARSEST))
    config.data.options.crop = 32
    config.lapgan.coarsest_train = ml_collections.ConfigDict(dict(momentum=0.0))
  elif variant == "quick":
    quick(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'code', 'quick'.")
  return config
