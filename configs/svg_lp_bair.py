"""SVG-LP on BAIR robot pushing, 64x64 RGB, VGG-64 (thesis §6.3.3, Fig. 6.9; SPEC.md §1.2).

Prepare BAIR once (softmotion30_44k/ unpacked from bair_robot_pushing_dataset_v0.tar under
RAW_DIR; ~30 minutes on 2 CPU cores), then train (reference scale: batch 100, 300 epochs x
600 steps of 12-frame 64x64x3 clips through VGG-64; weeks on a CPU, a day or more on a GPU):

  python -m tfgen.bin.prepare --dataset=bair --raw_dir=RAW_DIR --out_dir=/tmp/bair
  python -m tfgen.bin.train --model=svg_lp --dataset=bair --data_dir=/tmp/bair \
      --workdir=/tmp/svg_lp_bair

Quick variant (narrow networks, batch 8, 150 steps; ~4 minutes on 2 idle CPU cores):

  python -m tfgen.bin.train --model=svg_lp --dataset=bair --data_dir=/tmp/bair \
      --workdir=/tmp/svg_lp_bair_quick --quick

TFDS's `bair_robot_pushing_small` holds the same trajectories: `--config.data.options.
source=tfds --data_dir=<TFDS data_dir>` reads it instead of a preparation.

Hyper-parameters (edenton/svg README, SPEC.md §1.2): VGG-64, 3 channels, g_dim 128,
z_dim 64, rnn_size 256, predictor 2 cells, posterior and prior 1 cell each, n_past 2,
n_future 10 (evaluated 2 -> 28 on 256 test sequences), beta 1e-4, Adam lr 0.002 (0.9,
0.999). Everything else is shared with `svg_lp_smmnist`.
"""

import ml_collections

from configs import svg_lp_smmnist


def get_config(variant=None):
  """Returns the config; `variant="quick"` shrinks it for a few minutes on a CPU."""
  config = svg_lp_smmnist.get_config(variant)
  config.model_name = "svg_lp"
  config.model.update(dict(
      architecture="vgg",
      image_size=64,  # BAIR is distributed at 64x64 only.
      channels=3,
      z_dim=64,
      num_context_frames=2,
      num_future_frames=10,
      beta=1e-4,
  ))
  config.train.learning_rate = 0.002

  config.data.name = "bair"
  config.data.num_frames = 12  # n_past + n_future.
  # Only options `tfgen.data.bair.build` accepts (source, num_test_sequences).
  config.data.options = ml_collections.ConfigDict(dict(source="prepared"))

  if variant == "quick":
    config.model.update(dict(g_dim=64, rnn_size=64, base_filters=8))
    config.train.update(dict(batch_size=8, steps=150, log_every=10, checkpoint_every=50,
                             image_every=150))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
