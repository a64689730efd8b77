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

Small-scale reproduction ("repro", issue 13 item 6: 19 min measured on one CPU core), then its
evaluation beside the plain GAN's (`configs/gan_mnist_digits.py`, "repro"):

  python -m tfgen.bin.train --model=lapgan --dataset=mnist_digits --variant=repro \
      --workdir=/tmp/lapgan_mnist_repro --data_dir=/path/to/mnist.npz
  python -m tfgen.bin.train --model=classifier --dataset=mnist_digits \
      --workdir=/tmp/classifier_mnist --data_dir=/path/to/mnist.npz
  python -m tfgen.bin.evaluate --workdir=/tmp/lapgan_mnist_repro \
      --classifier_workdir=/tmp/classifier_mnist

The recipe below, with fewer steps: 3,000 at the coarsest level (7x7), 500 at each
conditional level (14x14, 28x28; under one epoch of the 28x28 level). Measured: 18.7 min
for the three levels in sequence on one core (`taskset -c 1`) of a 2-core AMD EPYC (AVX-512,
avx512_bf16) while another training used the other core (7x7 at ~33 step/s, 28x28 at ~1.7
s/step), 1.0 GB; the evaluation with `--multiscale_num_images=300` 7.9 min, about 6 of
them the multi-scale estimate's generator passes, which grow linearly with its images
(about 20 min at the default 1,000). README "Reproducing the thesis's findings at small
scale" reports the numbers.

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


def repro(config):
  """The "repro" variant: the recipe for about an hour on 2 cores (module docstring)."""
  config.lapgan.coarsest_train = ml_collections.ConfigDict(dict(
      steps=3000, checkpoint_every=500, image_every=1000))
  config.lapgan.conditional_train = ml_collections.ConfigDict(dict(
      steps=500, checkpoint_every=100, image_every=250))
  return config


def get_config(variant=None):
  """Returns the config; `variant` "quick", "repro" or None."""
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
  elif variant == "repro":
    repro(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick', 'repro'.")
  return config
