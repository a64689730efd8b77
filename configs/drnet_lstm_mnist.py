"""DrNET's pose LSTM on two-colour Moving MNIST (thesis §5.2.1, Fig. 5.2; SPEC §2.3, DRNET_FACTS §6).

Second stage of DrNET: train DrNET first, then the LSTM on its frozen networks (the DrNET
run's latest checkpoint is copied into the LSTM's, so generate / evaluate / export need
only the LSTM's work directory):

  python -m tfgen.bin.train --model=drnet --dataset=mnist --workdir=/tmp/drnet_mnist
  python -m tfgen.bin.train --model=drnet_lstm --dataset=mnist \
      --config.drnet_workdir=/tmp/drnet_mnist --workdir=/tmp/drnet_lstm_mnist
  python -m tfgen.bin.generate --workdir=/tmp/drnet_lstm_mnist   # 500-frame rollouts
  python -m tfgen.bin.evaluate --workdir=/tmp/drnet_lstm_mnist   # per-step SSIM / PSNR

Quick variant (batch 16, 200 steps; pairs with the DrNET quick config, whose networks it
freezes; 2 min 09 s measured on a busy 2-core AVX-512 EPYC, 1 min 11 s of it training,
1.2 GB; then `generate --num_future_frames=500` 1 min 53 s and `evaluate` 1 min 18 s). It
checks that everything runs, not the thesis's results:

  python -m tfgen.bin.train --model=drnet --dataset=mnist --workdir=/tmp/drnet_quick --quick
  python -m tfgen.bin.train --model=drnet_lstm --dataset=mnist --quick \
      --config.drnet_workdir=/tmp/drnet_quick --workdir=/tmp/drnet_lstm_quick

Small-scale reproduction (issue 11 item 6; the pose LSTM of the DrNET "repro" run, then
the 500-frame rollouts' digit identity measured with a digit classifier):

  python -m tfgen.bin.train --model=drnet_lstm --dataset=mnist --variant=repro \
      --config.drnet_workdir=/tmp/drnet_repro --workdir=/tmp/drnet_lstm_repro \
      --data_dir=/path/to/mnist.npz
  python -m tfgen.bin.train --model=classifier --dataset=mnist_digits \
      --workdir=/tmp/classifier_mnist --data_dir=/path/to/mnist.npz
  python -m tfgen.bin.rollout_identity --workdir=/tmp/drnet_lstm_repro \
      --classifier_workdir=/tmp/classifier_mnist --num_future_frames=500

"repro": batch 50, 1,500 steps, Adam lr 1e-3 (drnet-py's 2e-4 is for 120,000 steps; a
short run needs a larger step). Measured: 23 min on one core of a 2-core AMD EPYC
(AVX-512) beside another training (1.1-1.6 step/s); `rollout_identity` then 2 min 24 s.
README "Reproducing the thesis's findings at small scale" gives the results.

Hyper-parameters: observe 5 frames, predict 10 (thesis MNIST; drnet-py's defaults are
10 -> 10 for every data set), 2 LSTM layers of 256 cells on concat(h_p^t, h_c) with h_c
of the last observed frame, output tanh and, as the thesis's MNIST encoders, L2-normalised
(`normalize_output=None` follows the DrNET run's `normalize_pose`). Teacher forcing over
all 14 transitions, loss = their summed pose MSE. Adam as drnet-py `train_lstm.py`: lr
2e-4, betas (0.9, 0.999), epsilon 1e-8, batch 100, 200 epochs x 600 iterations. Frozen
networks in inference mode (`--config.model.encoder_batch_norm=training` for drnet-py's
train-mode batch norm). Parameters: 1,086,213 (DRNET_FACTS §3 "mnist_thesis" LSTM
1,088,261 with PyTorch's two bias vectors per cell; `model_summary.json` reports both).
Pictures roll out 500 frames (thesis Fig. 5.2).
"""

import ml_collections


def get_config(variant=None):
  """Returns the config; `variant` None, "quick" or "repro" (see above)."""
  config = ml_collections.ConfigDict()
  config.model_name = "drnet_lstm"
  # The trained DrNET run whose networks are frozen (required).
  config.drnet_workdir = ""
  # Frames rolled out by `tfgen.bin.generate` (thesis: 500 MNIST, 100 KTH).
  config.num_rollout_frames = 500

  config.model = ml_collections.ConfigDict(dict(
      name="drnet_lstm",
      # The DrNET run's model fields, filled in from config.drnet_workdir by the trainer.
      drnet=None,
      num_context_frames=5,
      num_future_frames=10,
      hidden_size=256,
      num_layers=2,
      normalize_output=ml_collections.FieldReference(None, field_type=bool),
      encoder_batch_norm="inference",
      lstm_init="pytorch",
  ))

  config.data = ml_collections.ConfigDict(dict(
      name="mnist",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      num_frames=15,  # num_context_frames + num_future_frames
      options=ml_collections.ConfigDict(dict(
          num_digits=2,
          velocities="symmetric",
      )),
  ))

  config.train = ml_collections.ConfigDict(dict(
      batch_size=100,
      steps=200 * 600,  # drnet-py train_lstm.py: 200 epochs of 600 iterations.
      optimizer="adam",
      learning_rate=2e-4,
      beta1=0.9,
      beta2=0.999,
      epsilon=1e-8,
      seed=1,
      precision="float32",
      jit_compile=False,
      log_every=50,
      checkpoint_every=1000,
      image_every=5000,
      max_checkpoints_to_keep=3,
      num_image_sequences=4,
      num_image_samples=1,  # Unused: the prediction is deterministic.
  ))

  if variant == "quick":
    config.num_rollout_frames = 100
    config.train.update(dict(batch_size=16, steps=200, log_every=10, checkpoint_every=100,
                             image_every=200))
  elif variant == "repro":
    config.train.update(dict(batch_size=50, steps=1500, learning_rate=1e-3,
                             checkpoint_every=500, image_every=1000))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick', 'repro'.")
  return config
