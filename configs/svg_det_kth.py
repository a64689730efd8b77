"""Deterministic baseline of SVG on KTH actions, 64x64, VGG-64 (thesis §6.3.1).

  python -m tfgen.bin.prepare --dataset=kth --raw_dir=RAW_DIR --out_dir=/tmp/kth_64
  python -m tfgen.bin.train --model=svg_det --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/svg_det_kth

No latent variable: the frame predictor sees only h_{t-1}; the loss is the MSE alone.
Slightly cheaper than `svg_lp_kth`; `--quick` as there.
"""

from configs import svg_lp_kth


def get_config(variant=None):
  config = svg_lp_kth.get_config(variant)
  config.model_name = "svg_det"
  config.model.prior = "none"
  return config
