"""tfgen's shared classifier on CIFAR-10: the feature space of LAPGAN's CIFAR evaluation.

Run (full 32x32 images with random horizontal flips, 10,000 steps at batch 64, about 14
epochs of the 45,000 training images; about 1.5-2 hours on 2 CPU cores: 90-135 images/s,
0.5-0.7 s/step, measured on stand-in files in the native format on a 2-core AVX-512 EPYC
shared with other jobs; not trained on real CIFAR-10 here, so no accuracy is claimed):

  python -m tfgen.bin.train --model=classifier --dataset=cifar10 --workdir=/tmp/classifier_cifar10

Variants: `--variant=crop28` classifies the centre / corner 28x28 crops (the size of the
thesis's CIFAR LAPGAN samples, 8 -> 14 -> 28; `data.options.crop=28`); `--quick` is narrow
and runs 50 steps (seconds).

Model: `configs/classifier_mnist_digits.py`'s conv net, wider (64 and 128 filters, 256
features), on 32x32x3 images in [0, 1]. CIFAR-10 must be on disk (`--config.data.data_dir`,
`tfgen/data/cifar10.py` says where to get it; nothing is downloaded).
"""

from configs import classifier_mnist_digits


def get_config(variant=None):
  """Returns the config; `variant` "quick", "crop28" or None."""
  config = classifier_mnist_digits.get_config(None)
  config.model.update(dict(example_shape=[32, 32, 3], filters=[64, 128], hidden_units=256))
  config.data.name = "cifar10"
  config.data.options = dict(crop=32, random_flip=True)
  config.train.steps = 10_000
  if variant == "crop28":
    config.model.example_shape = [28, 28, 3]
    config.data.options.update(dict(crop=28, train_crops="corners"))
  elif variant == "quick":
    config.model.update(dict(filters=[8, 16], hidden_units=32))
    config.train.update(dict(batch_size=16, steps=50, log_every=10, checkpoint_every=50))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick', 'crop28'.")
  return config
