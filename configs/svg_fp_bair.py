"""SVG-FP (fixed prior N(0, I)) on BAIR robot pushing, 64x64 RGB, VGG-64 (thesis §6.3.3).

  python -m tfgen.bin.prepare --dataset=bair --raw_dir=RAW_DIR --out_dir=/tmp/bair
  python -m tfgen.bin.train --model=svg_fp --dataset=bair --data_dir=/tmp/bair \
      --workdir=/tmp/svg_fp_bair

Same cost as `svg_lp_bair` (the learned prior is a small LSTM); `--quick` as there.
"""

from configs import svg_lp_bair


def get_config(variant=None):
  config = svg_lp_bair.get_config(variant)
  config.model_name = "svg_fp"
  config.model.prior = "fixed"
  return config
