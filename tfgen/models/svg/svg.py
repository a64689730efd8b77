"""SVG: stochastic video generation with a learned or fixed prior, and its deterministic baseline."""

import keras
from keras import ops
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen.layers import codecs
from tfgen.layers import common
from tfgen.layers.gaussian_lstm import GaussianLSTM
from tfgen.layers.lstm_predictor import LSTMPredictor
from tfgen.train import gradient_step

tfd = tfp.distributions

PRIORS = ("none", "fixed", "learned")
SKIP_MODES = ("last_context", "reference", "last_frame")


@keras.saving.register_keras_serializable(package="tfgen")
class SVG(keras.Model):
  """Stochastic video generation (Denton & Fergus 2018; thesis ch. 6).

  One model for the three variants: `prior="learned"` (SVG-LP, p_psi(z_t | x_{1:t-1})),
  `prior="fixed"` (SVG-FP, N(0, I)) and `prior="none"` (the deterministic baseline of
  §6.3.1: no latent variable, no posterior).

  Training (eq. 6.5, 6.6; SPEC §1.2) scores every transition t = 2..T: z_t is drawn from
  the posterior q_phi(z_t | x_{1:t}), g_t = LSTM_theta(Enc(x_{t-1}), z_t), x_hat_t =
  Dec(g_t, skips); the loss is the sum over t of the per-pixel MSE plus `beta` times
  KL(q || p) summed over z. Every frame is encoded once per step (all T frames in one
  batched encoder call), and all predicted frames are decoded in one batched call; only
  the LSTMs step through time.

  Args:
    prior: str, "learned" (SVG-LP), "fixed" (SVG-FP) or "none" (deterministic).
    architecture: str, frame encoder/decoder, "dcgan" or "vgg" (reference `--model`).
    image_size: int, 64 or 128 (`--image_width`).
    channels: int, frame channels (`--channels`).
    g_dim: int, frame encoding size (`--g_dim`, 128).
    z_dim: int, latent size (`--z_dim`; 10 SM-MNIST, 32 KTH, 64 BAIR).
    rnn_size: int, LSTM units (`--rnn_size`, 256).
    predictor_layers: int, cells of LSTM_theta (`--predictor_rnn_layers`, 2).
    posterior_layers: int, cells of LSTM_phi (`--posterior_rnn_layers`, 1).
    prior_layers: int, cells of LSTM_psi (`--prior_rnn_layers`, 1).
    num_context_frames: int, frames conditioned on (`--n_past`).
    num_future_frames: int, frames predicted in training (`--n_future`).
    beta: float, KL weight (`--beta`).
    skip_mode: str, which encoder skips the decoder uses for predicted frames (SPEC §1.3):
      "last_context" (thesis: the last ground-truth frame, default), "reference" (the
      released code: the second-to-last context frame, edenton/svg #1) or "last_frame"
      (the previous frame; the reference's `--last_frame_skip`).
    base_filters: int, encoder/decoder width (64 in the reference; tests shrink it).
    lstm_init: str, "pytorch" or "keras", see `EmbeddedLSTM`.
    synchronized_batch_norm: bool, batch statistics over the global batch when a strategy
      has several replicas.
    batch_norm_moving_variance: str, "unbiased" (PyTorch's running variance, default) or
      "biased" (Keras's rule); see `tfgen.layers.batch_normalization`.
    seed: int, base of the stateless seeds of the training noise.

  Call arguments:
    video: `(batch, time, height, width, channels)` in [0, 1].

  Returns:
    `call`: the posterior reconstruction of frames 2..T, `(batch, time - 1, height, width,
    channels)` (the prior's prediction for the deterministic model).

  References:
    Denton & Fergus, "Stochastic Video Generation with a Learned Prior", ICML 2018;
    edenton/svg `train_svg_lp.py`, `train_svg_fp.py`, `generate_svg_lp.py`.
  """

  def __init__(self, prior="learned", architecture="dcgan", image_size=64, channels=1,
               g_dim=128, z_dim=10, rnn_size=256, predictor_layers=2, posterior_layers=1,
               prior_layers=1, num_context_frames=5, num_future_frames=10, beta=1e-4,
               skip_mode="last_context", base_filters=64, lstm_init="pytorch",
               synchronized_batch_norm=True, batch_norm_moving_variance="unbiased", seed=1,
               **kwargs):
    super().__init__(**kwargs)
    if prior not in PRIORS:
      raise ValueError(f"Unknown prior {prior!r}; valid: {', '.join(PRIORS)}.")
    if skip_mode not in SKIP_MODES:
      raise ValueError(f"Unknown skip_mode {skip_mode!r}; valid: {', '.join(SKIP_MODES)}.")
    if num_context_frames < 1 or (skip_mode == "reference" and num_context_frames < 2):
      raise ValueError(f"num_context_frames must be >= 1 (>= 2 with skip_mode='reference'), "
                       f"got {num_context_frames}.")
    self.prior = prior
    self.architecture = architecture
    self.image_size = image_size
    self.channels = channels
    self.g_dim = g_dim
    self.z_dim = z_dim
    self.rnn_size = rnn_size
    self.predictor_layers = predictor_layers
    self.posterior_layers = posterior_layers
    self.prior_layers = prior_layers
    self.num_context_frames = num_context_frames
    self.num_future_frames = num_future_frames
    self.beta = beta
    self.skip_mode = skip_mode
    self.base_filters = base_filters
    self.lstm_init = lstm_init
    self.synchronized_batch_norm = synchronized_batch_norm
    self.batch_norm_moving_variance = batch_norm_moving_variance
    self.seed = seed

    with common.batch_norm_moving_variance(batch_norm_moving_variance):
      self.encoder, self.decoder = codecs.encoder_decoder(
          architecture, image_size=image_size, output_dim=g_dim, channels=channels,
          base_filters=base_filters, synchronized_batch_norm=synchronized_batch_norm)
    self.frame_predictor = LSTMPredictor(
        output_dim=g_dim, hidden_size=rnn_size, num_layers=predictor_layers,
        lstm_init=lstm_init, name="frame_predictor")
    self.posterior = None
    self.learned_prior = None
    if self.stochastic:
      self.posterior = GaussianLSTM(z_dim, rnn_size, posterior_layers, lstm_init=lstm_init,
                                    name="posterior")
    if prior == "learned":
      self.learned_prior = GaussianLSTM(z_dim, rnn_size, prior_layers, lstm_init=lstm_init,
                                        name="prior")
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.mse_tracker = keras.metrics.Mean(name="mse")
    self.kl_tracker = keras.metrics.Mean(name="kl")

  # ------------------------------------------------------------------ structure

  @property
  def stochastic(self):
    return self.prior != "none"

  @property
  def num_frames(self):
    """Frames per training clip: context + future (`n_past + n_future`)."""
    return self.num_context_frames + self.num_future_frames

  def submodules_by_name(self):
    """The model's parts as the reference names them, for summaries and tests."""
    parts = {"encoder": self.encoder, "decoder": self.decoder,
             "frame_predictor": self.frame_predictor}
    if self.posterior is not None:
      parts["posterior"] = self.posterior
    if self.learned_prior is not None:
      parts["prior"] = self.learned_prior
    return parts

  def optimizers_by_name(self):
    """The model's optimisers by checkpoint name (the trainer's hook): its one optimiser."""
    return {"optimizer": self.optimizer}

  def build(self, input_shape=None):
    """Creates every variable (all parts, whatever the call path) for frames of this size."""
    frame_shape = (None, self.image_size, self.image_size, self.channels)
    self.encoder.build(frame_shape)
    skip_shapes = [tuple(s.shape) for s in self.encoder(
        ops.zeros((1,) + frame_shape[1:]), training=False)[1]]
    self.decoder.build(((None, self.g_dim), skip_shapes))
    self.frame_predictor.build((None, None, self.g_dim + (self.z_dim if self.stochastic else 0)))
    if self.posterior is not None:
      self.posterior.build((None, None, self.g_dim))
    if self.learned_prior is not None:
      self.learned_prior.build((None, None, self.g_dim))
    self.built = True

  # ------------------------------------------------------------------ shared pieces

  def encode(self, video, training=None):
    """Encodes every frame once: `(B, T, H, W, C)` -> `h (B, T, g)`, skips `[(B, T, h, w, c)]`."""
    batch, time = ops.shape(video)[0], video.shape[1]
    frames = ops.reshape(video, (-1,) + tuple(video.shape[2:]))  # (B*T, H, W, C)
    h, skips = self.encoder(frames, training=training)
    h = ops.reshape(h, (batch, time, self.g_dim))
    skips = [ops.reshape(s, (batch, time) + tuple(s.shape[1:])) for s in skips]
    return h, skips

  def decode(self, g, skips, training=None):
    """Decodes `g (B, T', g_dim)` with skips `[(B, T', h, w, c)]` -> `(B, T', H, W, C)`."""
    batch, time = ops.shape(g)[0], g.shape[1]
    folded_skips = [ops.reshape(s, (-1,) + tuple(s.shape[2:])) for s in skips]
    frames = self.decoder((ops.reshape(g, (-1, self.g_dim)), folded_skips), training=training)
    return ops.reshape(frames, (batch, time) + tuple(frames.shape[1:]))

  def skip_source_indices(self, num_frames):
    """Index of the frame whose skips decode frame t, for t = 1..num_frames-1 (0-based).

    While t < num_context_frames the previous (ground-truth) frame is used in every mode;
    afterwards the thesis uses the last context frame, the released code the one before it.
    """
    indices = []
    for t in range(1, num_frames):
      if t < self.num_context_frames or self.skip_mode == "last_frame":
        indices.append(t - 1)
      elif self.skip_mode == "last_context":
        indices.append(self.num_context_frames - 1)
      else:  # "reference"
        indices.append(self.num_context_frames - 2)
    return indices

  def fixed_prior(self, batch_shape):
    zeros = tf.zeros(tf.concat([batch_shape, [self.z_dim]], axis=0), tf.float32)
    return tfd.MultivariateNormalDiag(loc=zeros, scale_diag=tf.ones_like(zeros))

  @staticmethod
  def sample(distribution, noise):
    """Reparameterised sample `mean + stddev * noise` with externally drawn N(0, 1) noise."""
    return distribution.mean() + distribution.stddev() * noise

  def kl_divergence(self, posterior, prior):
    """KL(q || p) between diagonal Gaussians, summed over z: batch shape of the inputs."""
    return tfd.kl_divergence(posterior, prior)

  # ------------------------------------------------------------------ training maths

  def compute_losses(self, video, noise=None, training=None, return_frames=False):
    """Per-example terms of the objective (SPEC §1.2).

    Args:
      video: `(B, T, H, W, C)` in [0, 1].
      noise: `(B, T - 1, z_dim)` N(0, 1) noise of the posterior samples (stochastic models).
      training: batch-norm mode.
      return_frames: also return the reconstructed frames 2..T.

    Returns:
      dict of `(B,)` tensors: `loss` = sum_t MSE_t + beta * sum_t KL_t, `mse` and `kl`
      (per predicted frame, for logging); with `return_frames`, `frames` `(B, T-1, H, W, C)`.
    """
    video = ops.convert_to_tensor(video)
    num_frames = video.shape[1]
    h, skips = self.encode(video, training=training)
    h_previous, h_target = h[:, :-1], h[:, 1:]  # (B, T-1, g) each

    kl = ops.zeros((ops.shape(video)[0], num_frames - 1), dtype="float32")
    if self.stochastic:
      posterior, _ = self.posterior(h_target)
      z = self.sample(posterior, noise)  # (B, T-1, z)
      if self.prior == "learned":
        prior, _ = self.learned_prior(h_previous)
      else:
        prior = self.fixed_prior(tf.shape(z)[:-1])
      kl = self.kl_divergence(posterior, prior)  # (B, T-1)
      predictor_inputs = ops.concatenate([h_previous, ops.cast(z, h_previous.dtype)], axis=-1)
    else:
      predictor_inputs = h_previous
    g, _ = self.frame_predictor(predictor_inputs)  # (B, T-1, g)

    indices = self.skip_source_indices(num_frames)
    decoder_skips = [ops.take(s, indices, axis=1) for s in skips]  # (B, T-1, h, w, c)
    frames = ops.cast(self.decode(g, decoder_skips, training=training), "float32")
    target = ops.cast(video[:, 1:], "float32")
    mse = ops.mean(ops.square(frames - target), axis=(2, 3, 4))  # (B, T-1)
    per_example = {
        "loss": ops.sum(mse, axis=1) + self.beta * ops.sum(kl, axis=1),
        "mse": ops.mean(mse, axis=1),
        "kl": ops.mean(kl, axis=1),
    }
    if return_frames:
      per_example["frames"] = frames
    return per_example

  def training_noise(self, local_batch, num_frames, seed):
    """N(0, 1) posterior noise for this replica's slice of the global batch.

    The noise of the whole global batch is drawn from one stateless seed and sliced by
    replica, so one step on N replicas draws exactly what one device would: distributed
    and single-device training compute the same loss for the same batch.
    """
    context = tf.distribute.get_replica_context()
    replica_id = context.replica_id_in_sync_group if context is not None else 0
    num_replicas = context.num_replicas_in_sync if context is not None else 1
    global_batch = local_batch * num_replicas
    noise = tf.random.stateless_normal((global_batch, num_frames - 1, self.z_dim), seed)
    start = replica_id * local_batch
    return noise[start:start + local_batch]

  def step_seed(self, offset=0):
    """The stateless seed of the current training step (from the optimiser's step)."""
    step = tf.cast(self.optimizer.iterations, tf.int64) if self.optimizer is not None else 0
    return tf.stack([tf.constant(self.seed, tf.int64) + offset, step])

  @staticmethod
  def _unpack(data):
    if isinstance(data, dict):
      return data["frames"]
    if isinstance(data, (tuple, list)):
      return data[0]
    return data

  def _losses_for_step(self, video, training):
    video = ops.convert_to_tensor(video)
    noise = None
    if self.stochastic:
      noise = self.training_noise(tf.shape(video)[0], video.shape[1],
                                  self.step_seed(0 if training else 1))
    return self.compute_losses(video, noise, training=training)

  def _update_trackers(self, per_example):
    self.loss_tracker.update_state(per_example["loss"])
    self.mse_tracker.update_state(per_example["mse"])
    self.kl_tracker.update_state(per_example["kl"])
    return {m.name: m.result() for m in self.metrics}

  @property
  def metrics(self):
    return [self.loss_tracker, self.mse_tracker, self.kl_tracker]

  def train_step(self, data):
    video = self._unpack(data)

    def loss_fn():
      per_example = self._losses_for_step(video, training=True)
      # The mean over this replica's clips; `gradient_step` divides it by the number of
      # replicas (gradients are summed over them): the mean over the global batch.
      local_batch = tf.cast(tf.shape(per_example["loss"])[0], tf.float32)
      return ops.sum(per_example["loss"]) / local_batch, per_example

    per_example = gradient_step.gradient_step(self, loss_fn, self.trainable_variables,
                                              self.optimizer)
    return self._update_trackers(per_example)

  def test_step(self, data):
    per_example = self._losses_for_step(self._unpack(data), training=False)
    return self._update_trackers(per_example)

  def call(self, video, training=None):
    noise = None
    if self.stochastic:
      video = ops.convert_to_tensor(video)
      noise = tf.random.stateless_normal(
          (tf.shape(video)[0], video.shape[1] - 1, self.z_dim), (self.seed, 2))
    return self.compute_losses(video, noise, training=training, return_frames=True)["frames"]

  # ------------------------------------------------------------------ generation

  def generate(self, context, num_future_frames, num_samples=1, seed=(0, 0),
               return_prior_scale=False):
    """Samples `num_samples` futures of each context clip (SPEC §1.4).

    The samples are folded into the batch: one encoder / LSTM / decoder call per time
    step serves every sample of every clip. Batch norm runs in inference mode. During the
    context the posterior provides z (the learned prior is stepped too so its state is in
    sync); afterwards z comes from the prior and each generated frame is re-encoded as the
    next input. All randomness is stateless from `seed`, so a seed reproduces its samples.

    Args:
      context: `(batch, num_context, H, W, C)` float in [0, 1]; `num_context` may differ
        from `num_context_frames` (skips then come from the last context frame, or the one
        before it in "reference" mode).
      num_future_frames: int or scalar int tensor, frames to generate.
      num_samples: int or scalar int tensor, futures per clip.
      seed: shape-[2] int seed of the stateless random ops.
      return_prior_scale: also return the prior's standard deviation per generated step.

    Returns:
      dict with `samples` `(batch, num_samples, num_future_frames, H, W, C)` and, with
      `return_prior_scale`, `prior_scale` `(batch, num_samples, num_future_frames, z_dim)`
      (ones for SVG-FP, zeros-width for the deterministic model).
    """
    context = tf.convert_to_tensor(context, tf.float32)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    num_context = context.shape[1]
    if num_context is None or num_context < 1:
      raise ValueError(f"The context needs a static number (>= 1) of frames, got {num_context}.")
    batch = tf.shape(context)[0]
    num_samples = tf.cast(num_samples, tf.int32)
    num_future_frames = tf.cast(num_future_frames, tf.int32)
    rows = batch * num_samples

    h, skips = self.encode(context, training=False)  # h (B, n, g); skips [(B, n, ...)]
    # Fold samples into the batch: row b * num_samples + s is sample s of clip b.
    tile = lambda x: tf.repeat(x, num_samples, axis=0)
    h = tile(h)
    skips = [tile(s) for s in skips]

    seeds = tf.random.experimental.stateless_split(seed, 2)
    predictor_state = self.frame_predictor.initial_state(rows)
    prior_state = self.learned_prior.initial_state(rows) if self.learned_prior else None
    if num_context > 1:
      if self.stochastic:
        posterior, _ = self.posterior(h[:, 1:])
        noise = tf.random.stateless_normal((rows, num_context - 1, self.z_dim), seeds[0])
        z = self.sample(posterior, noise)
        predictor_inputs = tf.concat([h[:, :-1], tf.cast(z, h.dtype)], axis=-1)
        if self.learned_prior is not None:
          _, prior_state = self.learned_prior(h[:, :-1])
      else:
        predictor_inputs = h[:, :-1]
      _, predictor_state = self.frame_predictor(predictor_inputs)

    if self.skip_mode == "reference" and num_context > 1:
      fixed_skips = [s[:, num_context - 2] for s in skips]
    else:
      fixed_skips = [s[:, num_context - 1] for s in skips]
    future_noise = tf.random.stateless_normal(
        tf.stack([num_future_frames, rows, self.z_dim]), seeds[1])

    frames_array = tf.TensorArray(tf.float32, size=num_future_frames)
    scale_array = tf.TensorArray(tf.float32, size=num_future_frames)
    h_previous = h[:, -1]
    step_skips = fixed_skips

    def body(t, h_previous, step_skips, predictor_state, prior_state, frames_array,
             scale_array):
      if self.prior == "learned":
        prior, prior_state = self.learned_prior.step(h_previous, prior_state)
        z = self.sample(prior, future_noise[t])
        scale = prior.stddev()
      elif self.prior == "fixed":
        z = future_noise[t]
        scale = tf.ones_like(z)
      else:
        scale = tf.zeros((rows, self.z_dim))
      inputs = tf.concat([h_previous, tf.cast(z, h_previous.dtype)], -1) \
          if self.stochastic else h_previous
      g, predictor_state = self.frame_predictor.step(inputs, predictor_state)
      frame = self.decoder((g, step_skips), training=False)
      h_next, new_skips = self.encoder(frame, training=False)
      if self.skip_mode == "last_frame":
        step_skips = new_skips
      frames_array = frames_array.write(t, tf.cast(frame, tf.float32))
      scale_array = scale_array.write(t, tf.cast(scale, tf.float32))
      return (t + 1, h_next, step_skips, predictor_state, prior_state, frames_array,
              scale_array)

    loop_vars = (tf.constant(0), h_previous, step_skips, predictor_state,
                 prior_state if prior_state is not None else (), frames_array, scale_array)
    *_, frames_array, scale_array = tf.while_loop(
        lambda t, *_: t < num_future_frames, body, loop_vars)

    image_shape = tf.shape(context)[2:]
    # (F, B*S, H, W, C) -> (B, S, F, H, W, C)
    frames = tf.transpose(frames_array.stack(), [1, 0, 2, 3, 4])
    frames = tf.reshape(frames, tf.concat(
        [[batch, num_samples, num_future_frames], image_shape], 0))
    outputs = {"samples": frames}
    if return_prior_scale:
      scale = tf.transpose(scale_array.stack(), [1, 0, 2])
      outputs["prior_scale"] = tf.reshape(scale, [batch, num_samples, num_future_frames,
                                                  self.z_dim])
    return outputs

  def picture_rows(self, video, num_samples=3, seed=(0, 0)):
    """Per clip, rows of frames for the training pictures (see `sample_rows`)."""
    rows = sample_rows(self, video, num_samples, seed)
    per_clip = 2 + num_samples
    return [rows[i:i + per_clip] for i in range(0, len(rows), per_clip)]

  def reconstruct(self, video, seed=(0, 0)):
    """Posterior reconstruction of frames 2..T: `(B, T, ...)` -> `(B, T - 1, ...)`."""
    video = tf.convert_to_tensor(video, tf.float32)
    noise = None
    if self.stochastic:
      noise = tf.random.stateless_normal(
          (tf.shape(video)[0], video.shape[1] - 1, self.z_dim), seed)
    return self.compute_losses(video, noise, training=False, return_frames=True)["frames"]

  def get_config(self):
    config = super().get_config()
    config.update(
        prior=self.prior, architecture=self.architecture, image_size=self.image_size,
        channels=self.channels, g_dim=self.g_dim, z_dim=self.z_dim, rnn_size=self.rnn_size,
        predictor_layers=self.predictor_layers, posterior_layers=self.posterior_layers,
        prior_layers=self.prior_layers, num_context_frames=self.num_context_frames,
        num_future_frames=self.num_future_frames, beta=self.beta, skip_mode=self.skip_mode,
        base_filters=self.base_filters, lstm_init=self.lstm_init,
        synchronized_batch_norm=self.synchronized_batch_norm,
        batch_norm_moving_variance=self.batch_norm_moving_variance, seed=self.seed)
    return config


def sample_rows(model, video, num_samples=3, seed=(0, 0)):
  """Rows of frames for a picture: per clip, ground truth | posterior reconstruction | samples.

  Args:
    model: an `SVG`.
    video: `(batch, time, H, W, C)` numpy or tensor clips of the training length.
    num_samples: prior samples shown per clip.
    seed: stateless seed.

  Returns:
    list of rows, each a list of `(H, W, C)` numpy frames (ground-truth context frames
    start the reconstruction and sample rows).
  """
  video = tf.convert_to_tensor(video, tf.float32)
  num_context = model.num_context_frames
  num_future = video.shape[1] - num_context
  reconstruction = model.reconstruct(video, seed=seed).numpy()
  samples = model.generate(video[:, :num_context], num_future, num_samples, seed=seed)
  samples = samples["samples"].numpy()
  video = video.numpy()
  rows = []
  for b in range(video.shape[0]):
    rows.append(list(video[b]))
    rows.append([video[b, 0]] + list(reconstruction[b]))
    for s in range(num_samples):
      rows.append(list(video[b, :num_context]) + list(samples[b, s]))
  return rows
