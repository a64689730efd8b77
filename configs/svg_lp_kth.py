"""SVG-LP on KTH actions, 64x64 grey, VGG-64 (thesis §6.3.1, Fig. 6.8; SPEC.md §1.2).

Prepare KTH once (the six action zips and 00sequences.txt in RAW_DIR; ~10-20 minutes on 2
CPU cores, ~1 GB of TFRecords), then train (reference scale: batch 100, 300 epochs x 600
steps of 20-frame 64x64 clips through VGG-64; weeks on a CPU, a day or more on a GPU):

  python -m tfgen.bin.prepare --dataset=kth --raw_dir=RAW_DIR --out_dir=/tmp/kth_64
  python -m tfgen.bin.train --model=svg_lp --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/svg_lp_kth

Quick variant (narrow networks, batch 8, 150 steps; ~5 minutes on 2 idle CPU cores):

  python -m tfgen.bin.train --model=svg_lp --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/svg_lp_kth_quick --quick

Hyper-parameters: VGG-64, g_dim 128, rnn_size 256, predictor 2 cells, posterior and prior
1 cell each, n_past 10, n_future 10 (evaluated 10 -> 20 or 30), beta 1e-6, Adam lr 0.0008
(edenton/svg README), z_dim 32 (§6.3.1; the README's SVG-FP command uses 24). The paper
trains at 128x128: `--config.model.image_size=128` (the data option follows it) with data
prepared by `--image_size=128`. Everything else (optimiser, checkpointing, precision) is
shared with `svg_lp_smmnist`.
"""

import ml_collections

from configs import svg_lp_smmnist


def get_config(variant=None):
  """Returns the config; `variant="quick"` shrinks it for a few minutes on a CPU."""
  config = svg_lp_smmnist.get_config(variant)
  config.model_name = "svg_lp"

  # One value for the model's and the data's frame size: overriding either moves both.
  image_size = ml_collections.FieldReference(64)
  config.model.update(dict(
      architecture="vgg",
      channels=1,
      z_dim=32,  # §6.3.1; the reference README's SVG-FP command uses 24.
      num_context_frames=10,
      num_future_frames=10,
      beta=1e-6,
  ))
  config.model.image_size = image_size
  config.train.learning_rate = 0.0008

  config.data.name = "kth"
  config.data.num_frames = 20  # n_past + n_future.
  # Only options `tfgen.data.kth.build` accepts (image_size, num_test_sequences).
  config.data.options = ml_collections.ConfigDict(dict(image_size=image_size))

  if variant == "quick":
    config.model.update(dict(g_dim=64, rnn_size=64, base_filters=8))
    config.train.update(dict(batch_size=8, steps=150, log_every=10, checkpoint_every=50,
                             image_every=150))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
