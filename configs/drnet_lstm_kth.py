"""DrNET's pose LSTM on KTH actions, 64x64 grey (thesis §5.3.3, Fig. 5.6-5.7; SPEC §2.3).

Second stage of `configs/drnet_kth.py`: train DrNET on KTH, then the LSTM on its frozen
networks (KTH prepared once as for DrNET and SVG):

  python -m tfgen.bin.train --model=drnet --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/drnet_kth
  python -m tfgen.bin.train --model=drnet_lstm --dataset=kth --data_dir=/tmp/kth_64 \
      --config.drnet_workdir=/tmp/drnet_kth --workdir=/tmp/drnet_lstm_kth
  python -m tfgen.bin.generate --workdir=/tmp/drnet_lstm_kth   # 100-frame rollouts
  python -m tfgen.bin.evaluate --workdir=/tmp/drnet_lstm_kth   # 10 -> 20, SVG's test clips

Quick variant (batch 8, 200 steps; pairs with `drnet_kth`'s quick variant):

  python -m tfgen.bin.train --model=drnet_lstm --dataset=kth --data_dir=/tmp/kth_64 \
      --quick --config.drnet_workdir=/tmp/drnet_kth_quick --workdir=/tmp/drnet_lstm_kth_quick

Hyper-parameters: observe 10 frames, predict 10 (thesis KTH and drnet-py), the LSTM and
its optimisation as `drnet_lstm_mnist` (no L2 normalisation: the KTH DrNET does not
normalise its poses). Parameters: 1,086,213 (PyTorch 1,088,261, DRNET_FACTS §3
"kth64_thesis"). The frame size follows the DrNET run: a 128x128 DrNET needs
`--config.data.options.image_size=128` and KTH prepared at 128. Pictures roll out 100
frames (thesis Fig. 5.7).
"""

import ml_collections

from configs import drnet_lstm_mnist


def get_config(variant=None):
  """Returns the config; `variant` "quick" (minutes on a CPU, see above) or None."""
  config = drnet_lstm_mnist.get_config()
  config.num_rollout_frames = 100
  config.model.num_context_frames = 10
  config.model.num_future_frames = 10
  config.data.name = "kth"
  config.data.num_frames = 20
  # Only options `tfgen.data.kth.build` accepts (image_size, num_test_sequences).
  config.data.options = ml_collections.ConfigDict(dict(image_size=64))

  if variant == "quick":
    config.train.update(dict(batch_size=8, steps=200, log_every=10, checkpoint_every=100,
                             image_every=200))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
