"""Deterministic baseline of SVG on BAIR robot pushing, 64x64 RGB, VGG-64 (thesis §6.3.3).

  python -m tfgen.bin.prepare --dataset=bair --raw_dir=RAW_DIR --out_dir=/tmp/bair
  python -m tfgen.bin.train --model=svg_det --dataset=bair --data_dir=/tmp/bair \
      --workdir=/tmp/svg_det_bair

No latent variable: the frame predictor sees only h_{t-1}; the loss is the MSE alone.
Slightly cheaper than `svg_lp_bair`; `--quick` as there.
"""

from configs import svg_lp_bair


def get_config(variant=None):
  config = svg_lp_bair.get_config(variant)
  config.model_name = "svg_det"
  config.model.prior = "none"
  return config
