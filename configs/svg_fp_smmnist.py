"""SVG-FP (fixed prior N(0, I)) on Stochastic Moving MNIST (thesis §6.3.1).

  python -m tfgen.bin.train --model=svg_fp --dataset=smmnist --workdir=/tmp/svg_fp_smmnist

Same cost as `svg_lp_smmnist` (the learned prior is a small LSTM); `--quick` as there.
"""

from configs import svg_lp_smmnist


def get_config(variant=None):
  config = svg_lp_smmnist.get_config(variant)
  config.model_name = "svg_fp"
  config.model.prior = "fixed"
  return config
