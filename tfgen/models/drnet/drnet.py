"""DrNET: content / pose disentanglement of video frames with an adversarial scene discriminator."""

import keras
from keras import ops
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen.layers import common
from tfgen.layers.dcgan_decoder import DCGANDecoder
from tfgen.layers.dcgan_encoder import DCGANEncoder
from tfgen.layers.resnet_encoder import ResNetEncoder
from tfgen.layers.scene_discriminator import SceneDiscriminator
from tfgen.layers.vgg_decoder import VGGDecoder
from tfgen.layers.vgg_encoder import VGGEncoder
from tfgen.models.adversarial_model import AdversarialModel

tfd = tfp.distributions

CONTENT_ENCODERS = ("dcgan", "dcgan_unet", "vgg_unet")
POSE_ENCODERS = ("dcgan", "resnet")
DISCRIMINATOR_LABELS = ("thesis", "reference")
# The four frames of a training example, in drnet-py's order x[0], x[1], x[2], x[3].
FRAME_KEYS = ("content", "content_target", "pose", "pose_partner")

# content_encoder -> (encoder class, decoder class, U-Net skips from E_c into D).
_CONTENT_CODECS = {
    "dcgan": (DCGANEncoder, DCGANDecoder, False),
    "dcgan_unet": (DCGANEncoder, DCGANDecoder, True),
    "vgg_unet": (VGGEncoder, VGGDecoder, True),
}
_POSE_ENCODERS = {"dcgan": DCGANEncoder, "resnet": ResNetEncoder}


def reference_optimizer(learning_rate=0.002):
  """drnet-py's Adam: lr 0.002, betas (0.5, 0.999), epsilon 1e-8 (torch's; Keras's is 1e-7).

  drnet-py builds one such Adam per network (C, E_c, E_p, D); Adam is per-parameter, so one
  instance over E_c, E_p and D together takes the same steps. One difference remains, in
  Keras's Adam itself: it adds epsilon to sqrt(v) before the bias correction, torch after,
  so torch's epsilon is Keras's times 1 / sqrt(1 - beta_2^t) (x31.6 at step 1, x1.0 after a
  few thousand steps); it only matters for gradients of order 1e-8.
  """
  return keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.999, epsilon=1e-8)


def _l2_normalize(x):
  # torch's F.normalize(p=2, eps=1e-12): x / max(||x||, 1e-12).
  return tf.math.l2_normalize(x, axis=-1, epsilon=1e-24)


def _rank(x):
  return len(x.shape) if hasattr(x, "shape") else None


@keras.saving.register_keras_serializable(package="tfgen")
class DrNet(AdversarialModel):
  """DrNET (Denton & Birodkar 2017; thesis ch. 5): disentangled content and pose.

  Four networks: the content encoder E_c (`content_net`), the pose encoder E_p (`pose_net`),
  the decoder D (`decoder`) of `concat([h_c, h_p])` (content first) with U-Net skips from the
  content frame for the "*_unet" content encoders, and the scene discriminator C
  (`scene_discriminator`), which sees a pair of pose vectors and says whether they come from
  the same clip.

  A training example is four frames of one clip (`FRAME_KEYS`, drnet-py's x[0..3]):
  - `content` (x_c1, x[0]): its content h_c1 and skips are decoded;
  - `content_target` (x_c2, x[1]): its content h_c2 is the similarity target;
  - `pose` (x_p1, x[2]): its pose h_p1 is decoded, and it is the reconstruction target;
  - `pose_partner` (x_p2, x[3]): its pose h_p2 is h_p1's partner in the adversarial loss.
  C's own step pairs the poses of `content` and `content_target` (drnet-py's x[0], x[1]).
  drnet-py takes four consecutive frames on Moving MNIST / SUNCG and four independent
  uniform draws from a clip on KTH; the thesis's random offset k in [0, K] is the data
  pipeline's choice, not the model's.

  One training step (`train_step`; DRNET_FACTS §4) is one discriminator step then one main
  step:
  1. `discriminator_step`: E_p encodes `content` and `content_target` outside the tape
     (E_p frozen; in training mode, so its batch-norm moving statistics update, as in
     drnet-py). The first half of the batch of the second poses is permuted within itself
     (`discriminator_pairs`: rows [0, B // 2) are "different clip" pairs; the permutation's
     fixed points, about one per batch, leave same-clip pairs labelled "different", as
     drnet-py's `randperm` does), the second half stays "same clip". C minimises the
     binary cross-entropy `-log Bernoulli(logits=C(h_p1, h_p2)).log_prob(label)`,
     unweighted, with its own optimiser. Labels (`discriminator_labels`): "thesis" (the
     thesis and the Lua original): same clip 1, different clip 0; "reference" (drnet-py):
     same clip 0, different clip 1.
     The two are a symmetric relabelling (C' = 1 - C) and train identically. The Lua code
     shuffles the second half instead of the first, which is also equivalent.
  2. `main_step`: E_c, E_p and D minimise
     `reconstruction + alpha * similarity + beta * adversarial`, where reconstruction is
     the MSE (mean over pixels and batch) of D(h_c1, skips of x_c1, h_p1) against x_p1,
     similarity the MSE (mean over batch and content_dim) of h_c1 against the fixed target
     stop_gradient(h_c2), and adversarial the cross-entropy of C(h_p1, stop_gradient(h_p2))
     against 1/2, `-(0.5 log p + 0.5 log(1 - p))`: E_p makes same-clip pairs
     indistinguishable. C is frozen: its variables are not watched by this step's tape nor
     passed to its optimiser. `beta` weighs only this term (drnet-py#8).

  Batch norm and frame folding: drnet-py calls each network on its own (B, ...) batch of
  one frame, so batch statistics are per frame. With `fold_frames=False` (default) tfgen
  does the same (two E_c calls and two E_p calls in the main step, two E_p calls in the
  discriminator step). `fold_frames=True` encodes the two frames of each pair in one
  (2B, ...) call, which is faster, but batch-norm statistics are then pooled over both
  frames: a departure from the reference.

  Under a `tf.distribute` strategy the halves are those of each replica's batch, and each
  replica draws its own permutation.

  Args:
    image_size: int, 64 or 128 (drnet-py `--image_width`).
    channels: int, frame channels (`--channels`; 3 in drnet-py, 1 in the Lua KTH code).
    content_dim: int, size of h_c (`--content_dim`; 128 drnet-py and thesis, 64 Lua).
    pose_dim: int, size of h_p (`--pose_dim`; 10 drnet-py, 5 thesis MNIST / KTH).
    content_encoder: str, E_c and the matching decoder (`--content_model`): "dcgan" (no
      skips), "dcgan_unet" (drnet-py default) or "vgg_unet" (KTH); the decoder mirrors it,
      with U-Net skips for the "*_unet" variants.
    pose_encoder: str, E_p (`--pose_model`): "dcgan" (drnet-py default) or "resnet".
    sd_nf: int, hidden units of C (`--sd_nf`, 100).
    normalize_pose: bool, L2-normalise h_p (drnet-py `--normalize` does only this).
    normalize_content: bool, L2-normalise h_c (the Lua `-normalize` does both; the thesis
      normalises both for MNIST).
    alpha: float, weight of the similarity loss (1; unweighted in both codes).
    beta: float, weight of E_p's adversarial loss (`--sd_weight` 1e-4 drnet-py, thesis 0.1
      MNIST / NORB / SUNCG and 1e-4 KTH; Lua `--advWeight`, default 0).
    discriminator_labels: str, "thesis" (same clip = 1) or "reference" (drnet-py: same
      clip = 0).
    fold_frames: bool, encode the two frames of a pair in one call (see above).
    base_filters: int, width of the encoders and the decoder (64; tests shrink it).
    synchronized_batch_norm: bool, batch statistics over the global batch when a strategy
      has several replicas.
    batch_norm_moving_variance: str, "unbiased" (PyTorch's running variance, default) or
      "biased" (Keras's rule); see `tfgen.layers.batch_normalization`.
    seed: int, base of the stateless seeds of the discriminator's permutation.

  Call arguments:
    inputs: a `(content_frames, pose_frames)` pair of `(batch, H, W, C)` tensors, or a
      training example (see `unpack_frames`), whose `content` and `pose` frames are used.
    training: bool, batch-norm mode.

  Returns:
    `call`: `(batch, H, W, C)` frames in [0, 1], D(E_c(content_frames), E_p(pose_frames)).

  References:
    Denton & Birodkar, "Unsupervised learning of disentangled representations from video",
    NIPS 2017; edenton/drnet-py `train_drnet.py`; edenton/drnet (Lua) `train_drnet.lua`.
  """

  def __init__(self, image_size=64, channels=3, content_dim=128, pose_dim=10,
               content_encoder="dcgan_unet", pose_encoder="dcgan", sd_nf=100,
               normalize_pose=False, normalize_content=False, alpha=1.0, beta=1e-4,
               discriminator_labels="thesis", fold_frames=False, base_filters=64,
               synchronized_batch_norm=True, batch_norm_moving_variance="unbiased", seed=1,
               **kwargs):
    super().__init__(seed=seed, **kwargs)
    if content_encoder not in CONTENT_ENCODERS:
      raise ValueError(f"Unknown content_encoder {content_encoder!r}; valid: "
                       f"{', '.join(CONTENT_ENCODERS)}.")
    if pose_encoder not in POSE_ENCODERS:
      raise ValueError(f"Unknown pose_encoder {pose_encoder!r}; valid: "
                       f"{', '.join(POSE_ENCODERS)}.")
    if discriminator_labels not in DISCRIMINATOR_LABELS:
      raise ValueError(f"Unknown discriminator_labels {discriminator_labels!r}; valid: "
                       f"{', '.join(DISCRIMINATOR_LABELS)}.")
    self.image_size = image_size
    self.channels = channels
    self.content_dim = content_dim
    self.pose_dim = pose_dim
    self.content_encoder = content_encoder
    self.pose_encoder = pose_encoder
    self.sd_nf = sd_nf
    self.normalize_pose = normalize_pose
    self.normalize_content = normalize_content
    self.alpha = alpha
    self.beta = beta
    self.discriminator_labels = discriminator_labels
    self.fold_frames = fold_frames
    self.base_filters = base_filters
    self.synchronized_batch_norm = synchronized_batch_norm
    self.batch_norm_moving_variance = batch_norm_moving_variance

    encoder_cls, decoder_cls, self.use_skips = _CONTENT_CODECS[content_encoder]
    with common.batch_norm_moving_variance(batch_norm_moving_variance):
      self.content_net = encoder_cls(
          output_dim=content_dim, image_size=image_size, base_filters=base_filters,
          synchronized_batch_norm=synchronized_batch_norm, name="content_encoder")
      self.pose_net = _POSE_ENCODERS[pose_encoder](
          output_dim=pose_dim, image_size=image_size, base_filters=base_filters,
          synchronized_batch_norm=synchronized_batch_norm, name="pose_encoder")
      self.decoder = decoder_cls(
          channels=channels, image_size=image_size, base_filters=base_filters,
          use_skips=self.use_skips, synchronized_batch_norm=synchronized_batch_norm,
          name="decoder")
    self.scene_discriminator = SceneDiscriminator(hidden_units=sd_nf,
                                                  name="scene_discriminator")

    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
    self.similarity_tracker = keras.metrics.Mean(name="similarity_loss")
    self.adversarial_tracker = keras.metrics.Mean(name="adversarial_loss")
    self.discriminator_loss_tracker = keras.metrics.Mean(name="discriminator_loss")
    self.discriminator_accuracy_tracker = keras.metrics.Mean(name="discriminator_accuracy")

  # ------------------------------------------------------------------ structure

  def submodules_by_name(self):
    """The four networks under the thesis's names, for summaries and tests."""
    return {"content_encoder": self.content_net, "pose_encoder": self.pose_net,
            "decoder": self.decoder, "scene_discriminator": self.scene_discriminator}

  @property
  def main_variables(self):
    """Trainable variables of E_c, E_p and D: what the main step updates."""
    return (self.content_net.trainable_variables + self.pose_net.trainable_variables
            + self.decoder.trainable_variables)

  @property
  def generator_variables(self):
    """The adversarial base's name for the main player's variables (`main_variables`)."""
    return self.main_variables

  @property
  def discriminator_variables(self):
    """Trainable variables of C: what the discriminator step updates."""
    return self.scene_discriminator.trainable_variables

  def build(self, input_shape=None):
    """Creates every variable of the four networks for frames of this size."""
    frame_shape = (None, self.image_size, self.image_size, self.channels)
    self.content_net.build(frame_shape)
    self.pose_net.build(frame_shape)
    skip_shapes = []
    if self.use_skips:
      # Traced symbolically: no convolution runs.
      _, skips = self.content_net.compute_output_spec(keras.KerasTensor(frame_shape))
      skip_shapes = [tuple(s.shape) for s in skips]
    self.decoder.build(((None, self.content_dim + self.pose_dim), skip_shapes))
    self.scene_discriminator.build(((None, self.pose_dim), (None, self.pose_dim)))
    self.built = True

  def compile(self, discriminator_optimizer=None, optimizer=None, **kwargs):
    """One optimiser per player (keras-io GAN idiom), both built here.

    Call it inside the strategy scope: both optimisers create their variables here.

    Args:
      discriminator_optimizer: optimiser of C; default `reference_optimizer()`.
      optimizer: optimiser of E_c, E_p and D (`self.optimizer`, whose `iterations` count
        training steps); default `reference_optimizer()`.
      **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`, `auto_scale_loss`).
        Under a "mixed_float16" policy both optimisers get a `LossScaleOptimizer`.
    """
    super().compile(
        discriminator_optimizer=discriminator_optimizer or reference_optimizer(),
        optimizer=optimizer or reference_optimizer(), **kwargs)

  # ------------------------------------------------------------------ networks

  def encode_content(self, frames, training=None):
    """E_c: `(B, H, W, C)` -> `(h_c (B, content_dim) float32, skips)`; skips `[]` without U-Net."""
    h, skips = self.content_net(frames, training=training)
    h = ops.cast(h, "float32")
    if self.normalize_content:
      h = _l2_normalize(h)
    return h, (list(skips) if self.use_skips else [])

  def encode_pose(self, frames, training=None):
    """E_p: `(B, H, W, C)` -> `h_p (B, pose_dim)` float32."""
    h, _ = self.pose_net(frames, training=training)
    h = ops.cast(h, "float32")
    if self.normalize_pose:
      h = _l2_normalize(h)
    return h

  def encode(self, frames, training=None):
    """Both encoders on the same frames: `(B, H, W, C)` -> `(content, skips, pose)`.

    `content` is `(B, content_dim)`, `skips` the content encoder's U-Net skips (highest
    resolution first; `[]` for the "dcgan" content encoder), `pose` is `(B, pose_dim)`.
    """
    content, skips = self.encode_content(frames, training=training)
    return content, skips, self.encode_pose(frames, training=training)

  def decode(self, content, skips, pose, training=None):
    """D: content `(B, content_dim)`, skips, pose `(B, pose_dim)` -> `(B, H, W, C)` in [0, 1]."""
    g = ops.concatenate([content, pose], axis=-1)  # (B, content_dim + pose_dim), content first
    return self.decoder((g, skips), training=training)

  def call(self, inputs, training=None):
    if (isinstance(inputs, (tuple, list)) and len(inputs) == 2
        and all(_rank(x) == 4 for x in inputs)):
      content_frames, pose_frames = inputs
    else:
      frames = self.unpack_frames(inputs)
      content_frames, pose_frames = frames["content"], frames["pose"]
    content, skips = self.encode_content(content_frames, training=training)
    pose = self.encode_pose(pose_frames, training=training)
    return self.decode(content, skips, pose, training=training)

  def _encode_content_pair(self, first, second, training):
    """`(h_c, skips)` of `first` and `h_c` of `second`: two calls, or one folded call."""
    if not self.fold_frames:
      content, skips = self.encode_content(first, training=training)
      return content, skips, self.encode_content(second, training=training)[0]
    batch = ops.shape(first)[0]
    content, skips = self.encode_content(
        ops.concatenate([first, second], axis=0), training=training)  # (2B, ...)
    return content[:batch], [s[:batch] for s in skips], content[batch:]

  def _encode_pose_pair(self, first, second, training):
    """`h_p` of `first` and of `second`: two calls, or one folded call."""
    if not self.fold_frames:
      return (self.encode_pose(first, training=training),
              self.encode_pose(second, training=training))
    batch = ops.shape(first)[0]
    pose = self.encode_pose(ops.concatenate([first, second], axis=0),
                            training=training)  # (2B, pose_dim)
    return pose[:batch], pose[batch:]

  # ------------------------------------------------------------------ losses

  def reconstruction_loss(self, reconstruction, target):
    """MSE, mean over batch and pixels (drnet-py `MSELoss()(rec, x_p1)`)."""
    diff = ops.cast(reconstruction, "float32") - ops.cast(target, "float32")
    return ops.mean(ops.square(diff))

  def similarity_loss(self, content, content_target):
    """MSE between h_c of the content frame and the fixed target h_c of another frame."""
    return ops.mean(ops.square(content - ops.stop_gradient(content_target)))

  def adversarial_pose_loss(self, logits):
    """E_p's loss: cross-entropy of C's output against 1/2, `-(0.5 log p + 0.5 log(1 - p))`.

    Minimal (log 2) when C cannot tell the pair's origin. Mean over the batch.
    """
    scene = tfd.Bernoulli(logits=logits, dtype=tf.float32)
    return -ops.mean(0.5 * scene.log_prob(1.0) + 0.5 * scene.log_prob(0.0))

  @staticmethod
  def discriminator_accuracy(logits, labels):
    """Per pair, 1.0 where C's decision (p > 0.5) matches the label: `(B,)`."""
    return ops.cast(ops.equal(logits > 0, labels > 0.5), "float32")

  def discriminator_pairs(self, pose_partner, seed):
    """C's training pairs: permutes the first half of `pose_partner`, labels every pair.

    Args:
      pose_partner: `(B, pose_dim)`, the second pose of each same-clip pair.
      seed: shape-[2] int stateless seed of the permutation.

    Returns:
      `(partner, labels)`: `partner` is `pose_partner` with rows [0, B // 2) permuted among
      themselves (different-clip pairs) and rows [B // 2, B) unchanged (same-clip pairs);
      `labels` `(B,)` float32: 1 for same clip and 0 for different clip under "thesis",
      the reverse under "reference" (drnet-py).
    """
    batch = tf.shape(pose_partner)[0]
    half = batch // 2
    # A uniform random permutation of [0, half), like torch.randperm (fixed points allowed).
    permutation = tf.argsort(tf.random.stateless_uniform(tf.reshape(half, [1]), seed))
    index = tf.concat([permutation, tf.range(half, batch)], axis=0)  # (B,)
    partner = tf.gather(pose_partner, index)
    different = 1.0 if self.discriminator_labels == "reference" else 0.0
    labels = tf.where(tf.range(batch) < half, different, 1.0 - different)
    return partner, labels

  # ------------------------------------------------------------------ training

  @staticmethod
  def unpack_frames(data):
    """The four frames of a training example as a dict keyed by `FRAME_KEYS`.

    Accepts a dict with the `FRAME_KEYS`; a dict with "frames"; a tuple / list of four
    `(B, H, W, C)` frames in `FRAME_KEYS` order; a `(B, T, H, W, C)` clip with T >= 4, whose
    frames 0..3 are taken in `FRAME_KEYS` order (drnet-py on Moving MNIST / SUNCG); or
    Keras's `(x,)` / `(x, y)` wrapping of any of these.
    """
    if isinstance(data, dict):
      if all(key in data for key in FRAME_KEYS):
        return {key: data[key] for key in FRAME_KEYS}
      if "frames" in data:
        return DrNet.unpack_frames(data["frames"])
      raise ValueError(f"A DrNet example dict needs the keys {FRAME_KEYS} or 'frames'; got "
                       f"{sorted(data)}.")
    if isinstance(data, (tuple, list)):
      if len(data) == len(FRAME_KEYS) and all(_rank(x) == 4 for x in data):
        return dict(zip(FRAME_KEYS, data))
      return DrNet.unpack_frames(data[0])
    clip = ops.convert_to_tensor(data)
    if len(clip.shape) != 5 or (clip.shape[1] is not None and clip.shape[1] < 4):
      raise ValueError(f"A DrNet clip is (batch, time >= 4, height, width, channels); got "
                       f"shape {tuple(clip.shape)}.")
    return {key: clip[:, i] for i, key in enumerate(FRAME_KEYS)}

  def discriminator_inputs(self, frames, seed, training=None):
    """C's pairs: E_p of `content` and `content_target`, the second half-permuted.

    Returns:
      `(pose_1, pose_2, labels)`: `(B, pose_dim)`, `(B, pose_dim)`, `(B,)` (see
      `discriminator_pairs`).
    """
    pose_1, pose_2 = self._encode_pose_pair(frames["content"], frames["content_target"],
                                            training)
    pose_2, labels = self.discriminator_pairs(pose_2, seed)
    return pose_1, pose_2, labels

  def discriminator_terms(self, pose_1, pose_2, labels):
    """C on the pairs: dict of scalars `discriminator_loss`, `discriminator_accuracy`."""
    logits = self.scene_discriminator((pose_1, pose_2))  # (B,)
    return {"discriminator_loss": self.discriminator_loss(logits, labels),
            "discriminator_accuracy": ops.mean(self.discriminator_accuracy(logits, labels))}

  def compute_discriminator_losses(self, frames, seed, training=None):
    """C's loss and accuracy on this example's pairs (no update)."""
    return self.discriminator_terms(*self.discriminator_inputs(frames, seed, training))

  def compute_losses(self, frames, training=None, return_reconstruction=False):
    """The main objective's terms (scalars): `loss`, `reconstruction_loss`,
    `similarity_loss`, `adversarial_loss`; with `return_reconstruction`, also
    `reconstruction` `(B, H, W, C)`, D(h_c of `content`, h_p of `pose`)."""
    content, skips, content_target = self._encode_content_pair(
        frames["content"], frames["content_target"], training)
    pose, pose_partner = self._encode_pose_pair(frames["pose"], frames["pose_partner"],
                                                training)
    # drnet-py detaches the partner: the adversarial gradient reaches E_p through h_p1,
    # the decoded pose, only.
    pose_partner = ops.stop_gradient(pose_partner)
    reconstruction = self.decode(content, skips, pose, training=training)
    reconstruction_loss = self.reconstruction_loss(reconstruction, frames["pose"])
    similarity_loss = self.similarity_loss(content, content_target)
    adversarial_loss = self.adversarial_pose_loss(
        self.scene_discriminator((pose, pose_partner)))
    losses = {
        "loss": (reconstruction_loss + self.alpha * similarity_loss
                 + self.beta * adversarial_loss),
        "reconstruction_loss": reconstruction_loss,
        "similarity_loss": similarity_loss,
        "adversarial_loss": adversarial_loss,
    }
    if return_reconstruction:
      losses["reconstruction"] = reconstruction
    return losses

  def discriminator_step(self, frames):
    """One optimiser step of C on its unweighted cross-entropy; E_p is frozen.

    E_p runs before the tape opens and the tape watches only C's variables. Returns the
    dict of `discriminator_terms` (before the update).
    """
    frames = self.unpack_frames(frames)
    pose_1, pose_2, labels = self.discriminator_inputs(frames, self.step_seed(), training=True)

    def loss_fn():
      terms = self.discriminator_terms(pose_1, pose_2, labels)
      return terms["discriminator_loss"], terms

    return self.player_step(loss_fn, self.discriminator_variables,
                            self.discriminator_optimizer)

  def main_step(self, frames):
    """One optimiser step of E_c, E_p and D on the main objective; C is frozen.

    The tape watches only E_c's, E_p's and D's variables. Returns `compute_losses`'s dict.
    """
    frames = self.unpack_frames(frames)

    def loss_fn():
      losses = self.compute_losses(frames, training=True)
      return losses["loss"], losses

    return self.player_step(loss_fn, self.main_variables, self.optimizer)

  def _update_trackers(self, losses):
    self.loss_tracker.update_state(losses["loss"])
    self.reconstruction_tracker.update_state(losses["reconstruction_loss"])
    self.similarity_tracker.update_state(losses["similarity_loss"])
    self.adversarial_tracker.update_state(losses["adversarial_loss"])
    self.discriminator_loss_tracker.update_state(losses["discriminator_loss"])
    self.discriminator_accuracy_tracker.update_state(losses["discriminator_accuracy"])
    return {m.name: m.result() for m in self.metrics}

  @property
  def metrics(self):
    return [self.loss_tracker, self.reconstruction_tracker, self.similarity_tracker,
            self.adversarial_tracker, self.discriminator_loss_tracker,
            self.discriminator_accuracy_tracker]

  def train_step(self, data):
    """One discriminator step, then one main step (drnet-py's per-iteration order)."""
    frames = self.unpack_frames(data)
    discriminator = self.discriminator_step(frames)
    losses = self.main_step(frames)
    return self._update_trackers({**discriminator, **losses})

  def test_step(self, data):
    frames = self.unpack_frames(data)
    discriminator = self.compute_discriminator_losses(frames, self.step_seed(offset=1),
                                                      training=False)
    losses = self.compute_losses(frames, training=False)
    return self._update_trackers({**discriminator, **losses})

  # ------------------------------------------------------------------ pictures

  def picture_rows(self, video, num_samples=None, seed=None):
    """Rows of frames for the training pictures (the trainer's hook), inference mode.

    Column 0 holds the frame whose content is decoded, column 1 + t the result for frame
    t of the pose clip:
    - per clip i, its frames `[None, x_i^0, ..., x_i^{T-1}]` above their reconstructions
      `[x_i^0, D(E_c(x_i^0), E_p(x_i^0)), ..., D(E_c(x_i^0), E_p(x_i^{T-1}))]`: frame
      k = 0..T-1 rendered from the content of the first frame and its own pose (thesis
      eq. 5.1 with t = 0; drnet-py `plot_rec`'s D(E_c(x[0]), E_p(x[k])) for every k);
    - the analogy grid (thesis Fig. 5.3 and 5.4; drnet-py `plot_analogy`): a header row
      `[None, x_0^0, ..., x_0^{T-1}]`, the pose source, then per clip i the row
      `[x_i^0, D(E_c(x_i^0), E_p(x_0^0)), ..., D(E_c(x_i^0), E_p(x_0^{T-1}))]`: the content
      of clip i's first frame moving with clip 0's poses.

    Args:
      video: `(clips, time, H, W, C)` frames in [0, 1].
      num_samples: unused (DrNET is deterministic); part of the hook's signature.
      seed: unused, as `num_samples`.

    Returns:
      A list of groups of rows, each row a list of `(H, W, C)` numpy frames or None:
      `[[frames_0, reconstructions_0], ..., [header, analogy_0, ..., analogy_{N-1}]]`.
    """
    del num_samples, seed
    video = tf.convert_to_tensor(video, tf.float32)
    num_clips, num_frames = video.shape[0], video.shape[1]
    content, skips = self.encode_content(video[:, 0], training=False)  # (N, content_dim)
    frames = tf.reshape(video, (-1,) + tuple(video.shape[2:]))  # (N*T, H, W, C), clip-major
    pose = self.encode_pose(frames, training=False)  # (N*T, pose_dim)
    # Clip i's content and skips for each of the T decoded frames: (N*T, ...).
    content = tf.repeat(content, num_frames, axis=0)
    skips = [tf.repeat(s, num_frames, axis=0) for s in skips]
    shape = (num_clips, num_frames) + tuple(video.shape[2:])
    reconstructions = tf.reshape(self.decode(content, skips, pose, training=False), shape)
    first_clip_poses = tf.tile(pose[:num_frames], [num_clips, 1])  # (N*T, pose_dim)
    analogies = tf.reshape(self.decode(content, skips, first_clip_poses, training=False),
                           shape)
    video, reconstructions, analogies = (
        tf.cast(x, tf.float32).numpy() for x in (video, reconstructions, analogies))
    groups = [[[None] + list(video[i]), [video[i, 0]] + list(reconstructions[i])]
              for i in range(num_clips)]
    grid = [[None] + list(video[0])]
    grid += [[video[i, 0]] + list(analogies[i]) for i in range(num_clips)]
    return groups + [grid]

  def get_config(self):
    config = super().get_config()
    config.update(
        image_size=self.image_size, channels=self.channels, content_dim=self.content_dim,
        pose_dim=self.pose_dim, content_encoder=self.content_encoder,
        pose_encoder=self.pose_encoder, sd_nf=self.sd_nf, normalize_pose=self.normalize_pose,
        normalize_content=self.normalize_content, alpha=self.alpha, beta=self.beta,
        discriminator_labels=self.discriminator_labels, fold_frames=self.fold_frames,
        base_filters=self.base_filters, synchronized_batch_norm=self.synchronized_batch_norm,
        batch_norm_moving_variance=self.batch_norm_moving_variance, seed=self.seed)
    return config
