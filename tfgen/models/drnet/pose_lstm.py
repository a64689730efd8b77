"""DrNET's pose LSTM: future frames by predicting only the pose (thesis §5.2.1, SPEC §2.3)."""

import keras
from keras import ops
import tensorflow as tf

from tfgen.layers.lstm_predictor import LSTMPredictor
from tfgen.models.drnet import drnet as drnet_lib
from tfgen.train import gradient_step

ENCODER_BATCH_NORM = ("inference", "training")
# Frames decoded per decoder call in `generate` (whole time steps of every clip, at least
# one step): bounds the decoder's activations however long the rollout and large the batch.
DECODE_FRAMES_PER_CALL = 256


def rollout(step, first, state, num_steps):
  """Feeds a recurrence its own outputs: `(B, D)` codes for `num_steps` steps -> `(B, F, D)`.

  Args:
    step: `step(code (B, D), state) -> (next code (B, D) float32, state)`.
    first: `(B, D)` float32, the input of the first step.
    state: the recurrence's state before the first step.
    num_steps: int or scalar int tensor F (a `tf.while_loop`, so F may be a graph input).
  """
  num_steps = tf.cast(num_steps, tf.int32)
  codes = tf.TensorArray(tf.float32, size=num_steps, element_shape=first.shape)

  def body(t, code, state, codes):
    code, state = step(code, state)
    return t + 1, code, state, codes.write(t, code)

  _, _, _, codes = tf.while_loop(lambda t, *_: t < num_steps, body,
                                 (tf.constant(0), first, state, codes))
  return tf.transpose(codes.stack(), (1, 0, 2))  # (F, B, D) -> (B, F, D)


def decode_in_chunks(decode, codes, frame_shape):
  """Frames of `(B, F, D)` codes, one decoder call per group of time steps of every clip.

  Args:
    decode: `decode(rows (B * n, D), n) -> (B * n, H, W, C)`, rows clip-major (row
      b * n + j is step j of clip b), for the n <= F steps of a group.
    codes: `(B, F, D)`.
    frame_shape: `(H, W, C)`.

  Returns:
    `(B, F, H, W, C)` float32; groups of `max(1, DECODE_FRAMES_PER_CALL // B)` steps.
  """
  batch, num_steps = tf.shape(codes)[0], tf.shape(codes)[1]
  chunk = tf.maximum(1, DECODE_FRAMES_PER_CALL // batch)
  num_chunks = (num_steps + chunk - 1) // chunk
  frame_shape = tuple(frame_shape)
  chunks = tf.TensorArray(tf.float32, size=num_chunks, infer_shape=False,
                          element_shape=(None, None) + frame_shape)

  def body(i, chunks):
    steps = codes[:, i * chunk:(i + 1) * chunk]  # (B, n, D), n <= chunk
    n = tf.shape(steps)[1]
    rows = tf.reshape(steps, (-1, codes.shape[-1]))  # (B*n, D): row b * n + j
    frames = tf.reshape(tf.cast(decode(rows, n), tf.float32), (batch, n) + frame_shape)
    return i + 1, chunks.write(i, tf.transpose(frames, (1, 0, 2, 3, 4)))  # (n, B, ...)

  _, chunks = tf.while_loop(lambda i, _: i < num_chunks, body, (tf.constant(0), chunks))
  return tf.transpose(chunks.concat(), (1, 0, 2, 3, 4))  # (F, B, ...) -> (B, F, ...)


def reference_optimizer(learning_rate=2e-4):
  """drnet-py `train_lstm.py`'s Adam: lr 2e-4, betas (0.9, 0.999), epsilon 1e-8 (torch's)."""
  return keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


@keras.saving.register_keras_serializable(package="tfgen")
class PoseLSTM(keras.Model):
  """The pose LSTM of DrNET on frozen DrNET networks (thesis §5.2.1; DRNET_FACTS §6, §7).

  A trained `DrNet` (`drnet`, its E_c, E_p and D; C is unused) is frozen: none of its
  variables is trained here, and by default it runs in inference mode (batch norm with
  its moving statistics). A 2-layer LSTM of 256 cells (`pose_lstm`, tfgen's
  `LSTMPredictor`: linear embed without activation -> stacked `LSTMCell`s -> linear ->
  tanh, optionally L2-normalised) predicts the next pose from `concat([h_p^t, h_c])`
  (pose first, as drnet-py), where h_c is the content of the LAST OBSERVED frame
  x^{num_context_frames - 1}, fixed for the clip (drnet-py; the Lua code takes the first
  frame).

  Training (`train_step`, drnet-py `train_lstm.py` `train`): for a clip of
  T = num_context_frames + num_future_frames frames, E_p encodes every frame, and with
  teacher forcing over every transition (context and future alike) the LSTM sees the
  encoder's pose of real frame t and predicts that of frame t + 1, t = 0..T-2. The loss is
  the sum over these T - 1 transitions of the mean squared error over (batch, pose_dim),
  prediction `(B, pose_dim)` against target `(B, pose_dim)` (drnet-py's target is
  `(B, pose_dim, 1, 1)`, which current PyTorch broadcasts to `(B, P, B, P)`: not copied).
  One optimiser step per clip, on the LSTM's variables only.

  Prediction (`generate`, drnet-py `plot_gen` without its crash): the LSTM is run over the
  context's poses to set its state; from the real pose of the last context frame it then
  feeds its own predictions back for every future step; each predicted pose is decoded
  with the content and U-Net skips of the last context frame. The rollout of all clips is
  one batched LSTM step per time step, the decoding one decoder call per group of time
  steps of all clips (about `DECODE_FRAMES_PER_CALL` frames).

  Args:
    drnet: dict, the `DrNet` constructor arguments of the trained DrNET run (its
      `config.model` without `name`).
    num_context_frames: int, frames observed (`--n_past`; thesis MNIST 5, KTH 10).
    num_future_frames: int, frames predicted in training (`--n_future`; 10).
    hidden_size: int, LSTM units (`--rnn_size`, 256).
    num_layers: int, stacked LSTM cells (`--rnn_layers`, 2).
    normalize_output: bool or None, L2-normalise the predicted pose (drnet-py
      `--normalize`); None: as the DrNET normalises its poses (`normalize_pose`).
    encoder_batch_norm: str, "inference" (default: the frozen networks use their moving
      statistics, so a pose depends only on its frame) or "training" (drnet-py keeps them
      in train mode: batch statistics of each frame's batch, and the moving statistics keep
      changing; `generate` still uses inference mode).
    lstm_init: str, "pytorch" or "keras" (see `EmbeddedLSTM`).

  Call arguments:
    inputs: `(batch, time, H, W, C)` clip in [0, 1].

  Returns:
    `call`: the teacher-forced predicted poses `(batch, time - 1, pose_dim)`.

  References:
    Denton & Birodkar, NIPS 2017, §4.1; edenton/drnet-py `train_lstm.py`, `models/lstm.py`.
  """

  def __init__(self, drnet=None, num_context_frames=10, num_future_frames=10, hidden_size=256,
               num_layers=2, normalize_output=None, encoder_batch_norm="inference",
               lstm_init="pytorch", **kwargs):
    super().__init__(**kwargs)
    if encoder_batch_norm not in ENCODER_BATCH_NORM:
      raise ValueError(f"Unknown encoder_batch_norm {encoder_batch_norm!r}; valid: "
                       f"{', '.join(ENCODER_BATCH_NORM)}.")
    if num_context_frames < 1 or num_future_frames < 1:
      raise ValueError(f"num_context_frames and num_future_frames must be >= 1, got "
                       f"{num_context_frames} and {num_future_frames}.")
    # The DrNET's constructor arguments (a run's `config.model` may still hold its name).
    self.drnet_config = {k: v for k, v in dict(drnet or {}).items() if k != "name"}
    self.num_context_frames = num_context_frames
    self.num_future_frames = num_future_frames
    self.hidden_size = hidden_size
    self.num_layers = num_layers
    self.normalize_output = normalize_output
    self.encoder_batch_norm = encoder_batch_norm
    self.lstm_init = lstm_init

    self.drnet = drnet_lib.DrNet(**self.drnet_config, name="drnet")
    # Frozen. Keras runs the batch norms of a non-trainable layer in inference mode, so
    # the reference's training-mode batch norm needs the flag on; its variables are still
    # never given to a tape or an optimiser.
    self.drnet.trainable = encoder_batch_norm == "training"
    self.pose_lstm = LSTMPredictor(output_dim=self.drnet.pose_dim, hidden_size=hidden_size,
                                   num_layers=num_layers, output_activation="tanh",
                                   lstm_init=lstm_init, name="pose_lstm")
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.pose_mse_tracker = keras.metrics.Mean(name="pose_mse")

  # ------------------------------------------------------------------ structure

  @property
  def image_size(self):
    return self.drnet.image_size

  @property
  def channels(self):
    return self.drnet.channels

  @property
  def pose_dim(self):
    return self.drnet.pose_dim

  @property
  def content_dim(self):
    return self.drnet.content_dim

  @property
  def num_frames(self):
    """Frames of a training clip: context + future."""
    return self.num_context_frames + self.num_future_frames

  @property
  def stochastic(self):
    """Deterministic: one future per context (best-of-N evaluation uses N = 1)."""
    return False

  @property
  def normalizes_output(self):
    if self.normalize_output is None:
      return bool(self.drnet.normalize_pose)
    return bool(self.normalize_output)

  def submodules_by_name(self):
    """The trained network only (the frozen DrNET has no trainable parameter here)."""
    return {"pose_lstm": self.pose_lstm}

  def optimizers_by_name(self):
    return {"optimizer": self.optimizer}

  def build(self, input_shape=None):
    self.drnet.build()
    self.pose_lstm.build((None, None, self.pose_dim + self.content_dim))
    self.built = True

  def compile(self, optimizer=None, **kwargs):
    """The LSTM's optimiser (default `reference_optimizer()`), built on its variables."""
    super().compile(optimizer=optimizer or reference_optimizer(), **kwargs)
    if not self.built:
      self.build()
    self.optimizer.build(self.pose_lstm.trainable_variables)

  # ------------------------------------------------------------------ encodings

  def encode_clip(self, video, training=False):
    """Poses of every frame and content of the last context frame, no gradient.

    Args:
      video: `(B, T, H, W, C)` with T >= `num_context_frames`.
      training: run the frozen networks' batch norm in training mode (only with
        `encoder_batch_norm="training"`; each frame is then its own batch, as drnet-py
        calls E_p frame by frame).

    Returns:
      `(poses (B, T, pose_dim), content (B, content_dim), skips)`, float32.
    """
    video = tf.convert_to_tensor(video)
    num_frames = video.shape[1]
    training = bool(training) and self.encoder_batch_norm == "training"
    content, skips = self.drnet.encode_content(video[:, self.num_context_frames - 1],
                                               training=training)
    if training:
      poses = ops.stack([self.drnet.encode_pose(video[:, t], training=True)
                         for t in range(num_frames)], axis=1)
    else:
      # Inference mode: a frame's pose does not depend on its batch, so fold time.
      frames = tf.reshape(video, tf.concat([[-1], tf.shape(video)[2:]], 0))  # (B*T, H, W, C)
      poses = self.drnet.encode_pose(frames, training=False)  # (B*T, P), clip-major
      poses = tf.reshape(poses, (-1, num_frames, self.pose_dim))  # (B, T, P)
    return (ops.stop_gradient(poses), ops.stop_gradient(content),
            [ops.stop_gradient(s) for s in skips])

  def _output(self, pose):
    pose = ops.cast(pose, "float32")
    return drnet_lib._l2_normalize(pose) if self.normalizes_output else pose  # pylint: disable=protected-access

  def _lstm_inputs(self, poses, content):
    """`concat([pose, content])` per step: `(B, T, P)`, `(B, C)` -> `(B, T, P + C)`."""
    content = tf.repeat(content[:, None], tf.shape(poses)[1], axis=1)  # (B, T, C)
    inputs = tf.concat([poses, content], axis=-1)  # pose first, as drnet-py
    return ops.cast(inputs, self.pose_lstm.compute_dtype)

  def teacher_forced(self, poses, content):
    """The LSTM on real poses: `(B, T, P)`, `(B, C)` -> predictions of poses 1..T-1 `(B, T-1, P)`."""
    predicted, _ = self.pose_lstm(self._lstm_inputs(poses[:, :-1], content))
    return self._output(predicted)

  def call(self, inputs, training=None):
    poses, content, _ = self.encode_clip(self._unpack(inputs), training=False)
    return self.teacher_forced(poses, content)

  # ------------------------------------------------------------------ training

  @staticmethod
  def _unpack(data):
    if isinstance(data, dict):
      return data["frames"]
    if isinstance(data, (tuple, list)):
      return data[0]
    return data

  @staticmethod
  def pose_loss(predicted, target):
    """Per transition, MSE over (batch, pose_dim) of `(B, T-1, P)` vs `(B, T-1, P)`: `(T-1,)`."""
    return ops.mean(ops.square(predicted - target), axis=(0, 2))

  def compute_losses(self, video, training=None):
    """`loss` (the sum over transitions of the per-transition MSE) and `pose_mse` (their mean)."""
    video = tf.convert_to_tensor(video)
    if video.shape[1] is not None and video.shape[1] < max(2, self.num_context_frames):
      raise ValueError(f"A PoseLSTM clip needs at least max(2, num_context_frames="
                       f"{self.num_context_frames}) frames; got shape {tuple(video.shape)}.")
    poses, content, _ = self.encode_clip(video, training=training)
    per_transition = self.pose_loss(self.teacher_forced(poses, content), poses[:, 1:])
    return {"loss": ops.sum(per_transition), "pose_mse": ops.mean(per_transition)}

  @property
  def metrics(self):
    return [self.loss_tracker, self.pose_mse_tracker]

  def _update_trackers(self, losses):
    self.loss_tracker.update_state(losses["loss"])
    self.pose_mse_tracker.update_state(losses["pose_mse"])
    return {m.name: m.result() for m in self.metrics}

  def train_step(self, data):
    """One Adam step of the LSTM on a clip batch; the DrNET networks stay as they are."""
    video = self._unpack(data)

    def loss_fn():
      losses = self.compute_losses(video, training=True)
      return losses["loss"], losses

    losses = gradient_step.gradient_step(self, loss_fn, self.pose_lstm.trainable_variables,
                                         self.optimizer)
    return self._update_trackers(losses)

  def test_step(self, data):
    return self._update_trackers(self.compute_losses(self._unpack(data), training=False))

  # ------------------------------------------------------------------ prediction

  def rollout_poses(self, context_poses, content, num_future_frames):
    """Predicted poses, own predictions fed back.

    Args:
      context_poses: `(B, n, P)` poses of the context frames (n static, >= 1).
      content: `(B, C)` content vector held fixed.
      num_future_frames: int or scalar int tensor F.

    Returns:
      `(B, F, P)` float32: pose of frame n + t, predicted from that of frame n + t - 1
      (the first from the real pose of the last context frame).
    """
    batch = tf.shape(context_poses)[0]
    state = self.pose_lstm.initial_state(batch)
    if context_poses.shape[1] > 1:
      # Teacher-forced over the context: only the state is kept.
      _, state = self.pose_lstm(self._lstm_inputs(context_poses[:, :-1], content),
                                initial_state=state)
    content_input = ops.cast(content, self.pose_lstm.compute_dtype)

    def step(pose, state):
      inputs = tf.concat([ops.cast(pose, content_input.dtype), content_input], axis=-1)
      predicted, state = self.pose_lstm.step(inputs, state)
      return self._output(predicted), state

    return rollout(step, tf.cast(context_poses[:, -1], tf.float32), state, num_future_frames)

  def decode_poses(self, content, skips, poses):
    """Frames of `(B, F, P)` poses with one content and its skips: `(B, F, H, W, C)`.

    One decoder call per `max(1, DECODE_FRAMES_PER_CALL // B)` steps of every clip,
    inference mode.
    """
    def decode(rows, n):
      return self.drnet.decode(tf.repeat(content, n, axis=0),
                               [tf.repeat(s, n, axis=0) for s in skips], rows, training=False)

    return decode_in_chunks(decode, poses, (self.image_size, self.image_size, self.channels))

  def predict_future(self, context, num_future_frames, return_poses=False):
    """Deterministic prediction: `(B, n, H, W, C)` context -> `(B, F, H, W, C)` frames.

    Content and skips come from the last context frame (`context[:, -1]`); `n` (static)
    may differ from `num_context_frames`. With `return_poses`, returns
    `(frames, poses (B, F, P))`.
    """
    context = tf.convert_to_tensor(context, tf.float32)
    num_context = context.shape[1]
    if num_context is None or num_context < 1:
      raise ValueError(f"The context needs a static number (>= 1) of frames, got {num_context}.")
    content, skips = self.drnet.encode_content(context[:, -1], training=False)
    frames = tf.reshape(context, tf.concat([[-1], tf.shape(context)[2:]], 0))  # (B*n, H, W, C)
    context_poses = tf.reshape(self.drnet.encode_pose(frames, training=False),
                               (-1, num_context, self.pose_dim))  # (B, n, P)
    poses = self.rollout_poses(context_poses, content, num_future_frames)
    frames = self.decode_poses(content, skips, poses)
    return (frames, poses) if return_poses else frames

  def generate(self, context, num_future_frames, num_samples=1, seed=None):
    """The evaluation's prediction contract (as `SVG.generate`), deterministic.

    Returns:
      dict with `samples` `(B, num_samples, F, H, W, C)`: the one prediction, repeated
      `num_samples` times (`seed` is unused).
    """
    del seed
    frames = self.predict_future(context, num_future_frames)
    return {"samples": tf.repeat(frames[:, None], tf.cast(num_samples, tf.int32), axis=1)}

  def picture_rows(self, video, num_samples=None, seed=None):
    """Training pictures (the trainer's hook): per clip its frames over the prediction.

    Rows: ground truth (green), then the context (green) followed by the prediction of
    the remaining frames (red).
    """
    del num_samples, seed
    from tfgen.utils import images  # pylint: disable=g-import-not-at-top
    video = tf.convert_to_tensor(video, tf.float32)
    num_context = self.num_context_frames
    predicted = self.predict_future(video[:, :num_context],
                                    video.shape[1] - num_context).numpy()
    video = video.numpy()
    rows = []
    for truth, future in zip(video, predicted):
      context = [images.framed(f, images.GREEN) for f in truth[:num_context]]
      rows.append([[images.framed(f, images.GREEN) for f in truth],
                   context + [images.framed(f, images.RED) for f in future]])
    return rows

  def get_config(self):
    config = super().get_config()
    config.update(
        drnet=dict(self.drnet_config), num_context_frames=self.num_context_frames,
        num_future_frames=self.num_future_frames, hidden_size=self.hidden_size,
        num_layers=self.num_layers, normalize_output=self.normalize_output,
        encoder_batch_norm=self.encoder_batch_norm, lstm_init=self.lstm_init)
    return config
