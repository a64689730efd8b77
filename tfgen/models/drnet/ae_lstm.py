"""The autoencoder-LSTM baseline of DrNET's KTH comparison (thesis §5.3.3, Fig. 5.6, 5.8)."""

import keras
from keras import ops
import tensorflow as tf

from tfgen.layers.lstm_predictor import LSTMPredictor
from tfgen.models.drnet import drnet as drnet_lib
from tfgen.models.drnet import pose_lstm as pose_lstm_lib
from tfgen.train import gradient_step


@keras.saving.register_keras_serializable(package="tfgen")
class AELSTM(keras.Model):
  """AE-LSTM: DrNET's prediction with ONE encoder whose vector mixes content and pose.

  "Essentially the same as ours, but with a single encoder whose features thus combine
  content and pose" (thesis §5.3.3; the thesis gives no other detail, and neither released
  code has it). tfgen's reading, as close to `PoseLSTM` on DrNET as one encoder allows:

  - encoder E (`encoder`: one of DrNET's content encoders, with the same architectures)
    maps a frame to h `(latent_dim,)`, by default |h_c| + |h_p| of DrNET (128 + 5), tanh;
  - decoder D renders h, with U-Net skips (the "*_unet" encoders) from the LAST CONTEXT
    frame, as DrNET's decoder takes them from the content frame, so that a future frame
    cannot be copied through the skips of its own frame;
  - the same LSTM (`LSTMPredictor`, 2 x 256, tanh) predicts h^{t+1} from h^t, teacher
    forced over every transition, loss summed over transitions of the MSE over (batch,
    latent_dim), as `PoseLSTM`.

  One training step trains both parts on one clip (so one command trains the baseline): E
  and D minimise the reconstruction MSE of every frame of the clip; the LSTM minimises its
  prediction loss on `stop_gradient(h)`, so the latent space is the autoencoder's alone
  (the prediction loss would otherwise pull every h towards a constant). The frames are
  folded into one encoder call (batch norm statistics over the clip's frames).

  Prediction (`predict_future`) is `PoseLSTM`'s: the LSTM over the context's codes, then
  its own codes fed back, each decoded with the last context frame's skips.

  Args:
    image_size: int, 64 or 128.
    channels: int, frame channels.
    latent_dim: int, size of h (133 = DrNET's 128 + 5).
    encoder: str, "dcgan", "dcgan_unet" or "vgg_unet" (DrNET's content encoders) and the
      matching decoder.
    base_filters: int, width of the encoder and decoder (64; tests shrink it).
    num_context_frames: int, frames observed (MNIST 5, KTH 10).
    num_future_frames: int, frames predicted in training (10).
    hidden_size: int, LSTM units (256).
    num_layers: int, LSTM cells (2).
    lstm_init: str, "pytorch" or "keras".
    synchronized_batch_norm: bool, batch statistics over the global batch.

  Call arguments:
    inputs: `(batch, time, H, W, C)` clip in [0, 1].

  Returns:
    `call`: the reconstructions `(batch, time, H, W, C)`.
  """

  def __init__(self, image_size=64, channels=3, latent_dim=133, encoder="dcgan",
               base_filters=64, num_context_frames=10, num_future_frames=10, hidden_size=256,
               num_layers=2, lstm_init="pytorch", synchronized_batch_norm=True, **kwargs):
    super().__init__(**kwargs)
    if encoder not in drnet_lib.CONTENT_ENCODERS:
      raise ValueError(f"Unknown encoder {encoder!r}; valid: "
                       f"{', '.join(drnet_lib.CONTENT_ENCODERS)}.")
    if num_context_frames < 1 or num_future_frames < 1:
      raise ValueError(f"num_context_frames and num_future_frames must be >= 1, got "
                       f"{num_context_frames} and {num_future_frames}.")
    self.image_size = image_size
    self.channels = channels
    self.latent_dim = latent_dim
    self.encoder_name = encoder
    self.base_filters = base_filters
    self.num_context_frames = num_context_frames
    self.num_future_frames = num_future_frames
    self.hidden_size = hidden_size
    self.num_layers = num_layers
    self.lstm_init = lstm_init
    self.synchronized_batch_norm = synchronized_batch_norm
    encoder_cls, decoder_cls, self.use_skips = drnet_lib._CONTENT_CODECS[encoder]  # pylint: disable=protected-access
    self.encoder = encoder_cls(output_dim=latent_dim, image_size=image_size,
                               base_filters=base_filters,
                               synchronized_batch_norm=synchronized_batch_norm, name="encoder")
    self.decoder = decoder_cls(channels=channels, image_size=image_size,
                               base_filters=base_filters, use_skips=self.use_skips,
                               synchronized_batch_norm=synchronized_batch_norm, name="decoder")
    self.latent_lstm = LSTMPredictor(output_dim=latent_dim, hidden_size=hidden_size,
                                     num_layers=num_layers, output_activation="tanh",
                                     lstm_init=lstm_init, name="latent_lstm")
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
    self.prediction_tracker = keras.metrics.Mean(name="prediction_loss")

  @property
  def num_frames(self):
    return self.num_context_frames + self.num_future_frames

  @property
  def stochastic(self):
    return False

  def submodules_by_name(self):
    return {"encoder": self.encoder, "decoder": self.decoder, "latent_lstm": self.latent_lstm}

  def optimizers_by_name(self):
    return {"optimizer": self.optimizer}

  def build(self, input_shape=None):
    frame_shape = (None, self.image_size, self.image_size, self.channels)
    self.encoder.build(frame_shape)
    skip_shapes = []
    if self.use_skips:
      _, skips = self.encoder.compute_output_spec(keras.KerasTensor(frame_shape))
      skip_shapes = [tuple(s.shape) for s in skips]
    self.decoder.build(((None, self.latent_dim), skip_shapes))
    self.latent_lstm.build((None, None, self.latent_dim))
    self.built = True

  def compile(self, optimizer=None, **kwargs):
    """One optimiser for E, D and the LSTM (each minimises its own loss; Adam is
    per-parameter). Default: DrNET's Adam (lr 0.002, betas (0.5, 0.999), epsilon 1e-8)."""
    super().compile(optimizer=optimizer or drnet_lib.reference_optimizer(), **kwargs)
    if not self.built:
      self.build()
    self.optimizer.build(self.trainable_variables)

  # ------------------------------------------------------------------ networks

  def encode(self, frames, training=None):
    """E: `(N, H, W, C)` -> `(h (N, latent_dim) float32, skips)` (`[]` without U-Net)."""
    h, skips = self.encoder(frames, training=training)
    return ops.cast(h, "float32"), (list(skips) if self.use_skips else [])

  def decode(self, h, skips, training=None):
    return self.decoder((ops.cast(h, self.decoder.compute_dtype), skips), training=training)

  def encode_clip(self, video, training=None):
    """`(B, T, H, W, C)` -> codes `(B, T, L)` and the skips of the last context frame."""
    video = tf.convert_to_tensor(video)
    num_frames = video.shape[1]
    frames = tf.reshape(video, tf.concat([[-1], tf.shape(video)[2:]], 0))  # (B*T, H, W, C)
    h, skips = self.encode(frames, training=training)  # clip-major rows
    codes = tf.reshape(h, (-1, num_frames, self.latent_dim))
    index = tf.range(tf.shape(video)[0]) * num_frames + self.num_context_frames - 1
    return codes, [tf.gather(s, index) for s in skips]

  def _lstm_output(self, h):
    return ops.cast(h, "float32")

  def teacher_forced(self, codes):
    """`(B, T, L)` real codes -> predictions of codes 1..T-1 `(B, T-1, L)`."""
    predicted, _ = self.latent_lstm(ops.cast(codes[:, :-1], self.latent_lstm.compute_dtype))
    return self._lstm_output(predicted)

  def reconstruct(self, codes, skips, training=None):
    """Every frame of `(B, T, L)` codes with the skips of one frame per clip: `(B, T, ...)`."""
    num_frames = codes.shape[1]
    rows = tf.reshape(codes, (-1, self.latent_dim))  # (B*T, L)
    frames = self.decode(rows, [tf.repeat(s, num_frames, axis=0) for s in skips],
                         training=training)
    return tf.reshape(frames, (-1, num_frames) + tuple(frames.shape[1:]))

  def call(self, inputs, training=None):
    codes, skips = self.encode_clip(inputs, training=training)
    return self.reconstruct(codes, skips, training=training)

  # ------------------------------------------------------------------ training

  def compute_losses(self, video, training=None):
    """`reconstruction_loss` (MSE over every pixel of every frame), `prediction_loss`
    (summed per-transition MSE of the LSTM on the fixed codes) and their sum `loss`."""
    video = tf.convert_to_tensor(video)
    codes, skips = self.encode_clip(video, training=training)
    reconstruction = self.reconstruct(codes, skips, training=training)
    reconstruction_loss = ops.mean(ops.square(ops.cast(reconstruction, "float32")
                                              - ops.cast(video, "float32")))
    targets = ops.stop_gradient(codes)
    per_transition = pose_lstm_lib.PoseLSTM.pose_loss(self.teacher_forced(targets),
                                                      targets[:, 1:])
    prediction_loss = ops.sum(per_transition)
    return {"loss": reconstruction_loss + prediction_loss,
            "reconstruction_loss": reconstruction_loss, "prediction_loss": prediction_loss}

  @property
  def metrics(self):
    return [self.loss_tracker, self.reconstruction_tracker, self.prediction_tracker]

  def train_step(self, data):
    video = data[0] if isinstance(data, (tuple, list)) else data

    def loss_fn():
      losses = self.compute_losses(video, training=True)
      return losses["loss"], losses

    losses = gradient_step.gradient_step(self, loss_fn, self.trainable_variables,
                                         self.optimizer)
    self.loss_tracker.update_state(losses["loss"])
    self.reconstruction_tracker.update_state(losses["reconstruction_loss"])
    self.prediction_tracker.update_state(losses["prediction_loss"])
    return {m.name: m.result() for m in self.metrics}

  # ------------------------------------------------------------------ prediction

  def predict_future(self, context, num_future_frames, return_poses=False):
    """As `PoseLSTM.predict_future`, with the mixed codes; `return_poses` returns them."""
    context = tf.convert_to_tensor(context, tf.float32)
    num_context = context.shape[1]
    if num_context is None or num_context < 1:
      raise ValueError(f"The context needs a static number (>= 1) of frames, got {num_context}.")
    frames = tf.reshape(context, tf.concat([[-1], tf.shape(context)[2:]], 0))  # (B*n, ...)
    h, skips = self.encode(frames, training=False)
    codes = tf.reshape(h, (-1, num_context, self.latent_dim))  # (B, n, L)
    index = tf.range(tf.shape(context)[0]) * num_context + num_context - 1
    skips = [tf.gather(s, index) for s in skips]  # the last context frame's
    state = self.latent_lstm.initial_state(tf.shape(context)[0])
    if num_context > 1:
      _, state = self.latent_lstm(ops.cast(codes[:, :-1], self.latent_lstm.compute_dtype),
                                  initial_state=state)

    def step(code, state):
      predicted, state = self.latent_lstm.step(
          ops.cast(code, self.latent_lstm.compute_dtype), state)
      return self._lstm_output(predicted), state

    predicted = pose_lstm_lib.rollout(step, codes[:, -1], state, num_future_frames)

    def decode(rows, n):
      return self.decode(rows, [tf.repeat(s, n, axis=0) for s in skips], training=False)

    frames = pose_lstm_lib.decode_in_chunks(
        decode, predicted, (self.image_size, self.image_size, self.channels))
    return (frames, predicted) if return_poses else frames

  def generate(self, context, num_future_frames, num_samples=1, seed=None):
    """The evaluation's contract, deterministic (see `PoseLSTM.generate`)."""
    del seed
    frames = self.predict_future(context, num_future_frames)
    return {"samples": tf.repeat(frames[:, None], tf.cast(num_samples, tf.int32), axis=1)}

  def picture_rows(self, video, num_samples=None, seed=None):
    """Training pictures: per clip its frames (green) over context + prediction (red)."""
    del num_samples, seed
    from tfgen.utils import images  # pylint: disable=g-import-not-at-top
    video = tf.convert_to_tensor(video, tf.float32)
    n = self.num_context_frames
    predicted = self.predict_future(video[:, :n], video.shape[1] - n).numpy()
    video = video.numpy()
    return [[[images.framed(f, images.GREEN) for f in truth],
             [images.framed(f, images.GREEN) for f in truth[:n]]
             + [images.framed(f, images.RED) for f in future]]
            for truth, future in zip(video, predicted)]

  def get_config(self):
    config = super().get_config()
    config.update(
        image_size=self.image_size, channels=self.channels, latent_dim=self.latent_dim,
        encoder=self.encoder_name, base_filters=self.base_filters,
        num_context_frames=self.num_context_frames, num_future_frames=self.num_future_frames,
        hidden_size=self.hidden_size, num_layers=self.num_layers, lstm_init=self.lstm_init,
        synchronized_batch_norm=self.synchronized_batch_norm)
    return config
