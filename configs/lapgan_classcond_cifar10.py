"""Class-conditional LAPGAN on CIFAR-10 (thesis §4.2, Fig. 4.9's CC-LAPGAN; LAPGAN_FACTS §2.2).

Run:

  python -m tfgen.bin.train --model=lapgan_classcond --dataset=cifar10 \
      --workdir=/tmp/lapgan_cc_cifar10 --data_dir=/path/to/cifar-10-batches-py

As `lapgan_cifar10` (pyramid 28 -> 14 -> 8, thesis optimisation), with the class as the
code builds it: at conditional levels one-hot -> dense F*F -> ReLU -> one plane concatenated
with the input planes of G ([z, class, l]) and D ([l + h, class]); at the coarsest level
the one-hot concatenated to z and to D's flattened image. Parameters: G_0 229,939, D_0
123,953, G_1 223,471, D_1 111,661, coarsest G 1,804,992, D 483,001.

Variants: "code" = `train_cifar_coarse_to_fine_classcond.lua`'s optimisation (momentum from
0, lr divisor 1.00004 per epoch) and the demo's surviving 8x8 generator size (600 units);
"quick" for tests.
"""

from configs import lapgan_cifar10


def get_config(variant=None):
  """Returns the config; `variant` None (thesis), "code" or "quick"."""
  config = lapgan_cifar10.get_config("quick" if variant == "quick" else None)
  config.model_name = "lapgan_classcond"
  config.model.num_classes = 10
  if variant == "code":
    config.train.update(dict(momentum=0.0, learning_rate_divisor=1.00004))
    config.model.update(dict(coarsest_generator_units=600, coarsest_discriminator_units=600))
  elif variant not in (None, "quick"):
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'code', 'quick'.")
  return config
