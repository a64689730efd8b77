"""Deterministic baseline of SVG on Stochastic Moving MNIST (thesis §6.3.1, Fig. 6.3).

  python -m tfgen.bin.train --model=svg_det --dataset=smmnist --workdir=/tmp/svg_det_smmnist

No latent variable: the frame predictor sees only h_{t-1}; the loss is the MSE alone.
"""

from configs import svg_lp_smmnist


def get_config(variant=None):
  config = svg_lp_smmnist.get_config(variant)
  config.model_name = "svg_det"
  config.model.prior = "none"
  return config
