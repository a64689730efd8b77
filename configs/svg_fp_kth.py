"""SVG-FP (fixed prior N(0, I)) on KTH actions, 64x64, VGG-64 (thesis §6.3.1).

  python -m tfgen.bin.prepare --dataset=kth --raw_dir=RAW_DIR --out_dir=/tmp/kth_64
  python -m tfgen.bin.train --model=svg_fp --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/svg_fp_kth

Same cost as `svg_lp_kth` (the learned prior is a small LSTM); `--quick` as there. The
reference README trains SVG-FP on KTH with z_dim 24: `--config.model.z_dim=24`; this
config keeps the thesis's 32 (§6.3.1).
"""

from configs import svg_lp_kth


def get_config(variant=None):
  config = svg_lp_kth.get_config(variant)
  config.model_name = "svg_fp"
  config.model.prior = "fixed"
  return config
