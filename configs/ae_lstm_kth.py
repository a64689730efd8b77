"""AE-LSTM baseline on KTH, 64x64 grey (thesis Fig. 5.6; the KTH comparison with DrNET).

  python -m tfgen.bin.train --model=ae_lstm --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/ae_lstm_kth
  python -m tfgen.bin.evaluate --workdir=/tmp/ae_lstm_kth   # 10 -> 20, SVG's test clips

Quick variant: `--quick` (width 8, batch 8, 200 steps).

As `ae_lstm_mnist` with DrNET's KTH encoder: VGG with U-Net skips (from the last context
frame, as DrNET's decoder takes them from its content frame), one channel, observe 10,
predict 10, 100-frame rollouts.
"""

import ml_collections

from configs import ae_lstm_mnist


def get_config(variant=None):
  """Returns the config; `variant` "quick" (minutes on a CPU, see above) or None."""
  config = ae_lstm_mnist.get_config()
  config.num_rollout_frames = 100
  image_size = ml_collections.FieldReference(64)
  config.model.update(dict(channels=1, encoder="vgg_unet", num_context_frames=10,
                           num_future_frames=10))
  config.model.image_size = image_size
  config.data.name = "kth"
  config.data.num_frames = 20
  config.data.options = ml_collections.ConfigDict(dict(image_size=image_size))
  if variant == "quick":
    config.model.base_filters = 8
    config.train.update(dict(batch_size=8, steps=200, log_every=10, checkpoint_every=100,
                             image_every=200))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
