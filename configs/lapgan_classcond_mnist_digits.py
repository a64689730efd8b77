"""Class-conditional LAPGAN on MNIST digits (the CIFAR-10 CC-LAPGAN recipe on 28x28x1).

  python -m tfgen.bin.train --model=lapgan_classcond --dataset=mnist_digits --workdir=/tmp/cc

As `lapgan_mnist_digits`, with the digit class as in `lapgan_classcond_cifar10`;
`tfgen.bin.generate` then also writes one sample grid per class. "quick" for tests.
"""

from configs import lapgan_mnist_digits


def get_config(variant=None):
  """Returns the config; `variant` None or "quick"."""
  config = lapgan_mnist_digits.get_config(variant)
  config.model_name = "lapgan_classcond"
  config.model.num_classes = 10
  return config
