"""AE-LSTM baseline on two-colour Moving MNIST (thesis §5.3.3; SPEC §2.3): one encoder whose
vector mixes content and pose, the pose LSTM's LSTM, trained in one run.

  python -m tfgen.bin.train --model=ae_lstm --dataset=mnist --workdir=/tmp/ae_lstm_mnist
  python -m tfgen.bin.generate --workdir=/tmp/ae_lstm_mnist
  python -m tfgen.bin.evaluate --workdir=/tmp/ae_lstm_mnist

Quick variant (width 16, batch 16, 200 steps; 5 min 06 s measured on a busy 2-core
AVX-512 EPYC, 1.1 s/step: every step encodes and decodes all 15 frames; 1.6 GB; checks
that everything runs):

  python -m tfgen.bin.train --model=ae_lstm --dataset=mnist --quick --workdir=/tmp/ae_quick

Hyper-parameters (the thesis gives none; tfgen's choices, matched to `drnet_mnist` +
`drnet_lstm_mnist`): the DrNET MNIST content encoder / decoder (DCGAN, no skips), latent
128 + 5 = 133, tanh; LSTM 2 x 256; observe 5, predict 10; reconstruction of every frame
plus the LSTM's summed per-transition latent MSE (on fixed latents); DrNET's Adam (lr
0.002, betas (0.5, 0.999), epsilon 1e-8), batch 100, 120,000 steps. LSTM parameters:
1,119,109 (Keras; PyTorch 1,121,157); encoder 3,848,399, decoder 3,848,003 (DrNET's D
exactly: it decodes 133 numbers too).
"""

import ml_collections


def get_config(variant=None):
  """Returns the config; `variant` "quick" (minutes on a CPU, see above) or None."""
  config = ml_collections.ConfigDict()
  config.model_name = "ae_lstm"
  config.num_rollout_frames = 500  # Frames rolled out by `tfgen.bin.generate`.

  config.model = ml_collections.ConfigDict(dict(
      name="ae_lstm",
      image_size=64,
      channels=3,
      latent_dim=133,  # DrNET's |h_c| + |h_p|
      encoder="dcgan",
      base_filters=64,
      num_context_frames=5,
      num_future_frames=10,
      hidden_size=256,
      num_layers=2,
      lstm_init="pytorch",
      synchronized_batch_norm=True,
  ))

  config.data = ml_collections.ConfigDict(dict(
      name="mnist",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      num_frames=15,
      options=ml_collections.ConfigDict(dict(num_digits=2, velocities="symmetric")),
  ))

  config.train = ml_collections.ConfigDict(dict(
      batch_size=100,
      steps=200 * 600,
      optimizer="adam",
      learning_rate=0.002,
      beta1=0.5,
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
      num_image_samples=1,  # Unused: deterministic.
  ))

  if variant == "quick":
    config.num_rollout_frames = 100
    config.model.base_filters = 16
    config.train.update(dict(batch_size=16, steps=200, log_every=10, checkpoint_every=100,
                             image_every=200))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
