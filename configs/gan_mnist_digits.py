"""The plain GAN baseline on MNIST digits (Goodfellow et al.'s Parzen protocol data).

  python -m tfgen.bin.train --model=gan --dataset=mnist_digits --workdir=/tmp/gan_mnist

A one-level LAPGAN at 28x28x1 with the released `train_cifar.lua` fully connected GAN
(8000 / 1600 units, Sigmoid after G's second layer, N(0, 0.05) / N(0, 0.005) init) and
its optimisation (`gan_cifar10`), per-channel z-scoring, epochs of 50,000 / 50 = 1,000
steps. "quick" for tests.

Small-scale reproduction ("repro", issue 13 item 6: about an hour on 2 CPU cores; the
LAPGAN to compare with is `configs/lapgan_mnist_digits.py` "repro"):

  python -m tfgen.bin.train --model=gan --dataset=mnist_digits --variant=repro \
      --workdir=/tmp/gan_mnist_repro --data_dir=/path/to/mnist.npz
  python -m tfgen.bin.evaluate --workdir=/tmp/gan_mnist_repro \
      --classifier_workdir=/tmp/classifier_mnist

3,500 steps (3.5 epochs of 50 real digits per step). Measured: 61.7 min on one core
(`taskset -c 0`) of a 2-core AMD EPYC (AVX-512, avx512_bf16) while another training used
the other core (1.0-1.3 s/step), 3.2 GB; the evaluation 35 s. README "Reproducing the
thesis's findings at small scale" reports the run's numbers. The evaluation's Parzen number is the one Goodfellow et al. (2014) report for MNIST
(225 +- 2 nats with their model, same estimator and protocol: sigma on 1,000 validation
digits, 10,000 samples, the 10,000 test digits, [0, 1] pixels); this GAN's samples are
not squashed to [0, 1] (linear output on z-scored data), see the evaluation's protocol.
"""

import ml_collections

from configs import gan_cifar10
from configs import lapgan_cifar10


def repro(config):
  """The "repro" variant: about an hour on 2 cores (module docstring)."""
  config.train.update(dict(steps=3500, checkpoint_every=500, image_every=500))
  return config


def get_config(variant=None):
  """Returns the config; `variant` None, "quick" or "repro"."""
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
  elif variant == "repro":
    repro(config)
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick', 'repro'.")
  return config
