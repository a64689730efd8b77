"""One level of a LAPGAN: a conditional GAN on the Laplacian coefficient, or the
coarsest level's unconditional GAN on the small image."""

import keras
from keras import ops
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen.layers import pyramid as pyramid_lib
from tfgen.layers.mlp import MLP
from tfgen.models.adversarial_model import AdversarialModel
from tfgen.models.lapgan.conditional_discriminator import ConditionalDiscriminator
from tfgen.models.lapgan.conditional_generator import ConditionalGenerator

tfd = tfp.distributions

NORMALIZATIONS = ("pixel", "channel", "none")
DISCRIMINATOR_BATCHES = ("half", "coin")
COARSEST_INITS = ("torch", "normal")
# The released code divides by (std + 1e-7) on 0-255 values: the same in [0, 1] units.
STD_EPSILON = 1e-7 / 255.0


@keras.saving.register_keras_serializable(package="tfgen")
class PyramidLevel(AdversarialModel):
  """Level k of a LAPGAN (thesis §4.2; LAPGAN_FACTS §1-3), trained on its own.

  A level takes batches of whole images in [0, 1] (`{"image": (B, H, W, C), "label":
  (B,)}`, H = W = `sizes[0]`), z-scores them with the data statistics it stores
  (`data_mean`, `data_std`, non-trainable weights, so checkpoints and exports carry them)
  and makes its own pyramid pieces (`tfgen.layers.pyramid.LaplacianPyramid`): the image
  x_k at size F = sizes[k], its low-pass l_k = u(x_{k+1}) and h_k = x_k - l_k.

  - Level k < K ("conditional"): G_k(z_k, [y,] l_k) outputs a residual h~, and the level's
    sample is l_k + h~; noise z_k ~ U(-1, 1) is one extra input plane (channel 0). D_k
    sees the full image at that scale, l_k + h or l_k + h~ (T:528-534).
  - Level K (coarsest): an unconditional fully connected GAN on x_K (or conditioned on the
    label only): G(z [, y]) with z ~ U(-1, 1)^noise_dim, D(flatten(x) [, y]).
  A plain GAN (the Parzen table's baseline) is a one-level pyramid: its only level is the
  coarsest, at the images' full size.

  One training step (`train_step`; conditional_adversarial.lua:109-150): the batch is
  split in two. The first half is D's batch: with `discriminator_batch="half"` (the code)
  its first half are real images and its second half generated ones, conditioned on the
  low-pass (and labels) of those other real images; with "coin" (the thesis) a fair coin
  per example decides real or generated (generated from its own low-pass). One step of
  D on the mean binary cross-entropy `-log Bernoulli(logits=D(x)).prob(label)`. Then one
  step of G on the second half of the batch (fresh images, fresh noise), non-saturating
  loss `-log D(G(z))`, D in training mode (its dropout on, as in the code) and frozen.
  So `config.train.batch_size` 256 gives the code's 64 real + 64 generated for D and 128
  for G.

  Args:
    sizes: tuple of ints, the whole pyramid's sizes, finest first (e.g. (28, 14, 8)).
    level: int, which level this is (0 = finest, len(sizes) - 1 = coarsest).
    channels: int, image channels.
    pyramid_method: "released" or "burt_adelson" (`tfgen.layers.pyramid`).
    coarse_from: "original" (code) or "previous" (thesis).
    num_classes: int, 0 for an unconditional model, else class-conditional
      (`train_cifar_*classcond.lua`): conditional levels add a label plane, the coarsest
      level concatenates the one-hot to z and to D's flattened image.
    architecture: "cifar" or "lsun" (conditional levels; see `ConditionalGenerator`).
    hidden_generator, hidden_discriminator: ints, "cifar" widths (`--hidden_G/D`, 64).
    noise_dim: int, the coarsest level's z (100).
    coarsest_generator_units: int, G's hidden width at the coarsest level (thesis 1200;
      code 8000; the surviving demo model 600).
    coarsest_discriminator_units: int, D's (thesis 600; code 1600).
    coarsest_generator_activations: tuple, G's two hidden activations: ("relu", "relu")
      (thesis, class-conditional code) or ("relu", "sigmoid") (unconditional code).
    coarsest_init: "torch" (Torch's default init) or "normal" (`train_cifar.lua`'s
      N(0, 0.05) G and N(0, 0.005) D kernels, zero biases).
    normalization: "pixel" (mean and std image, CIFAR / STL), "channel" (LSUN) or "none".
    discriminator_batch: "half" (code) or "coin" (thesis).
    seed: int, base of the stateless seeds of noise and coins.

  Call arguments:
    inputs: a batch dict (or its "image" tensor); `call` draws one sample per image
      (conditioned on its low-pass at conditional levels), in z-scored units.

  References:
    Denton, Chintala, Szlam & Fergus, "Deep generative image models using a Laplacian
    pyramid of adversarial networks", NIPS 2015; facebookarchive/eyescream.
  """

  def __init__(self, sizes, level, channels=3, pyramid_method="released",
               coarse_from="original", num_classes=0, architecture="cifar",
               hidden_generator=64, hidden_discriminator=64, noise_dim=100,
               coarsest_generator_units=1200, coarsest_discriminator_units=600,
               coarsest_generator_activations=("relu", "relu"), coarsest_init="torch",
               normalization="pixel", discriminator_batch="half", seed=1, **kwargs):
    super().__init__(seed=seed, **kwargs)
    self.pyramid = pyramid_lib.LaplacianPyramid(sizes, pyramid_method, coarse_from)
    self.pyramid.check_level(level)
    for name, value, valid in (("normalization", normalization, NORMALIZATIONS),
                               ("discriminator_batch", discriminator_batch,
                                DISCRIMINATOR_BATCHES),
                               ("coarsest_init", coarsest_init, COARSEST_INITS)):
      if value not in valid:
        raise ValueError(f"Unknown {name} {value!r}; valid: {', '.join(valid)}.")
    self.sizes = self.pyramid.sizes
    self.level = int(level)
    self.channels = int(channels)
    self.pyramid_method = pyramid_method
    self.coarse_from = coarse_from
    self.num_classes = int(num_classes)
    self.architecture = architecture
    self.hidden_generator = int(hidden_generator)
    self.hidden_discriminator = int(hidden_discriminator)
    self.noise_dim = int(noise_dim)
    self.coarsest_generator_units = int(coarsest_generator_units)
    self.coarsest_discriminator_units = int(coarsest_discriminator_units)
    self.coarsest_generator_activations = tuple(coarsest_generator_activations)
    self.coarsest_init = coarsest_init
    self.normalization = normalization
    self.discriminator_batch = discriminator_batch
    self.size = self.sizes[self.level]
    self.is_coarsest = self.level == len(self.sizes) - 1

    if self.is_coarsest:
      pixels = self.size * self.size * self.channels
      normal = coarsest_init == "normal"
      self.generator = MLP(
          (self.coarsest_generator_units,) * 2, pixels, self.noise_dim + self.num_classes,
          activations=self.coarsest_generator_activations,
          kernel_stddev=0.05 if normal else None, name="generator")
      self.discriminator = MLP(
          (self.coarsest_discriminator_units,) * 2, 1, pixels + self.num_classes,
          dropout=0.5, kernel_stddev=0.005 if normal else None, name="discriminator")
    else:
      self.generator = ConditionalGenerator(
          self.size, self.channels, architecture, self.hidden_generator, self.num_classes,
          name="generator")
      self.discriminator = ConditionalDiscriminator(
          self.size, self.channels, architecture, self.hidden_discriminator,
          self.num_classes, name="discriminator")

    self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
    self.discriminator_loss_tracker = keras.metrics.Mean(name="discriminator_loss")
    self.real_accuracy_tracker = keras.metrics.Mean(name="discriminator_accuracy_real")
    self.fake_accuracy_tracker = keras.metrics.Mean(name="discriminator_accuracy_generated")

  # ------------------------------------------------------------------ structure

  @property
  def statistics_shape(self):
    if self.normalization == "pixel":
      return (self.sizes[0], self.sizes[0], self.channels)
    return (self.channels,)

  def build(self, input_shape=None):
    """Creates every variable: G, D and the data statistics."""
    self.data_mean = self.add_weight(shape=self.statistics_shape, initializer="zeros",
                                     trainable=False, name="data_mean")
    self.data_std = self.add_weight(shape=self.statistics_shape, initializer="ones",
                                    trainable=False, name="data_std")
    if self.is_coarsest:
      pixels = self.size * self.size * self.channels
      self.generator.build((None, self.noise_dim + self.num_classes))
      self.discriminator.build((None, pixels + self.num_classes))
    else:
      self.generator.build()
      self.discriminator.build()
    self.built = True

  def submodules_by_name(self):
    return {"generator": self.generator, "discriminator": self.discriminator}

  @property
  def generator_variables(self):
    return self.generator.trainable_variables

  @property
  def discriminator_variables(self):
    return self.discriminator.trainable_variables

  def set_data_statistics(self, mean, std):
    """Stores the training data's mean and std (in [0, 1] units) used for z-scoring."""
    if self.normalization == "none":
      return
    mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
    for name, value in (("mean", mean), ("std", std)):
      if value.shape != self.statistics_shape:
        raise ValueError(f"Data {name} of shape {value.shape} does not fit a level with "
                         f"normalization {self.normalization!r}: expected "
                         f"{self.statistics_shape}.")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0)):
      raise ValueError("Data statistics must be finite with std >= 0.")
    self.data_mean.assign(mean)
    self.data_std.assign(std)

  # ------------------------------------------------------------------ units

  def normalize(self, images):
    """[0, 1] images at the full size -> z-scored (x - mean) / (std + eps)."""
    images = ops.convert_to_tensor(images, "float32")
    return (images - self.data_mean) / (self.data_std + STD_EPSILON)

  def _statistics_at(self, size):
    mean, std = ops.convert_to_tensor(self.data_mean), ops.convert_to_tensor(self.data_std)
    if self.normalization == "pixel" and size != self.sizes[0]:
      mean = self.pyramid.shrink(mean[None], size)[0]
      std = self.pyramid.shrink(std[None], size)[0]
    return mean, std

  def to_display(self, images):
    """z-scored images at any pyramid size -> [0, 1] (statistics resampled), clipped."""
    mean, std = self._statistics_at(images.shape[1])
    return ops.clip(images * (std + STD_EPSILON) + mean, 0.0, 1.0)

  def from_display(self, images):
    """[0, 1] images at any pyramid size -> z-scored units."""
    mean, std = self._statistics_at(images.shape[1])
    return (ops.convert_to_tensor(images, "float32") - mean) / (std + STD_EPSILON)

  # ------------------------------------------------------------------ networks

  def one_hot(self, labels):
    if not self.num_classes:
      return None
    return tf.one_hot(tf.cast(labels, tf.int32), self.num_classes, dtype=tf.float32)

  def noise_shape(self, batch):
    if self.is_coarsest:
      return tf.stack([batch, self.noise_dim])
    return tf.stack([batch, self.size, self.size, 1])

  def sample_noise(self, batch, seed):
    """z ~ U(-1, 1): `(batch, noise_dim)` (coarsest) or `(batch, F, F, 1)`; stateless."""
    seed = tf.cast(seed, tf.int32)  # TFP's stateless seeds are int32 pairs.
    return tfd.Uniform(low=-1.0, high=1.0).sample(self.noise_shape(batch), seed=seed)

  def generate(self, noise, low_pass=None, one_hot=None, training=None):
    """The level's sample in z-scored units: l + G(z, [y,] l), or G(z [, y]) (coarsest)."""
    if self.is_coarsest:
      z = noise if one_hot is None else ops.concatenate([noise, one_hot], axis=-1)
      flat = self.generator(z, training=training)  # (B, F * F * C)
      return ops.reshape(flat, (-1, self.size, self.size, self.channels))
    return low_pass + self.generator((noise, low_pass, one_hot), training=training)

  def discriminate(self, images, one_hot=None, training=None):
    """D's logits `(B,)` of "real" for images at this level (l + h)."""
    if self.is_coarsest:
      flat = ops.reshape(images, (-1, self.size * self.size * self.channels))
      if one_hot is not None:
        flat = ops.concatenate([flat, one_hot], axis=-1)
      return ops.squeeze(self.discriminator(flat, training=training), axis=-1)
    return self.discriminator((images, one_hot), training=training)

  def level_inputs(self, data):
    """`(x_k, l_k or None, one_hot or None)` of a batch of [0, 1] images."""
    images, labels = self.unpack(data)
    pieces = self.pyramid.level(self.normalize(images), self.level)
    return pieces["image"], pieces["low_pass"], self.one_hot(labels)

  def unpack(self, data):
    """`(images, labels or None)` of a batch dict, a `(x, y)` tuple or an image tensor."""
    if isinstance(data, dict):
      images, labels = data["image"], data.get("label")
    elif isinstance(data, (tuple, list)):
      images, labels = data[0], (data[1] if len(data) > 1 else None)
    else:
      images, labels = data, None
    shape = tuple(images.shape)
    expected = (self.sizes[0], self.sizes[0], self.channels)
    if len(shape) != 4 or tuple(shape[1:]) != expected:
      raise ValueError(f"A LAPGAN level with sizes {self.sizes} takes images of shape "
                       f"(batch, {', '.join(map(str, expected))}); got {shape}.")
    if self.num_classes and labels is None:
      raise ValueError("A class-conditional LAPGAN level needs labels (data['label']).")
    return images, labels

  def call(self, inputs, training=None):
    image, low_pass, one_hot = self.level_inputs(inputs)
    noise = self.sample_noise(tf.shape(image)[0], self.step_seed(offset=7))
    return self.generate(noise, low_pass, one_hot, training=training)

  # ------------------------------------------------------------------ training

  def _take(self, x, index):
    return None if x is None else tf.gather(x, index)

  def discriminator_terms(self, image, low_pass, one_hot, seed, training=True):
    """D's batch (real and generated) and its loss: dict of `discriminator_loss`,
    `real_correct`, `fake_correct` (per row), `is_real` (per row)."""
    batch = tf.shape(image)[0]
    noise_seed, coin_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    if self.discriminator_batch == "half":
      real_rows = batch // 2
      is_real = tf.range(batch) < real_rows
      fake_index = tf.range(real_rows, batch)
      fakes = self.generate(self.sample_noise(batch - real_rows, noise_seed),
                            self._take(low_pass, fake_index), self._take(one_hot, fake_index),
                            training=training)
      inputs = tf.concat([image[:real_rows], tf.cast(fakes, image.dtype)], axis=0)
    else:
      is_real = tf.random.stateless_uniform([batch], coin_seed) < 0.5
      fakes = self.generate(self.sample_noise(batch, noise_seed), low_pass, one_hot,
                            training=training)
      inputs = tf.where(is_real[:, None, None, None], image, tf.cast(fakes, image.dtype))
    inputs = tf.stop_gradient(inputs)
    logits = self.discriminate(inputs, one_hot, training=training)
    labels = tf.cast(is_real, tf.float32)
    return {"discriminator_loss": self.discriminator_loss(logits, labels),
            "correct": tf.cast(tf.equal(logits > 0, is_real), tf.float32),
            "is_real": labels}

  def generator_terms(self, image, low_pass, one_hot, seed, training=True):
    noise = self.sample_noise(tf.shape(image)[0], seed)
    fakes = self.generate(noise, low_pass, one_hot, training=training)
    logits = self.discriminate(fakes, one_hot, training=training)
    return {"generator_loss": self.non_saturating_generator_loss(logits)}

  def _split(self, data):
    image, low_pass, one_hot = self.level_inputs(data)
    half = tf.shape(image)[0] // 2
    first = (image[:half], None if low_pass is None else low_pass[:half],
             None if one_hot is None else one_hot[:half])
    second = (image[half:], None if low_pass is None else low_pass[half:],
              None if one_hot is None else one_hot[half:])
    return first, second

  def _update_trackers(self, discriminator, generator):
    self.discriminator_loss_tracker.update_state(discriminator["discriminator_loss"])
    self.generator_loss_tracker.update_state(generator["generator_loss"])
    is_real = discriminator["is_real"]
    self.real_accuracy_tracker.update_state(discriminator["correct"], sample_weight=is_real)
    self.fake_accuracy_tracker.update_state(discriminator["correct"],
                                            sample_weight=1.0 - is_real)
    return {m.name: m.result() for m in self.metrics}

  @property
  def metrics(self):
    return [self.discriminator_loss_tracker, self.generator_loss_tracker,
            self.real_accuracy_tracker, self.fake_accuracy_tracker]

  def train_step(self, data):
    """One D step on the first half of the batch, then one G step on the second."""
    for_discriminator, for_generator = self._split(data)
    seed = self.step_seed()
    d_seed, g_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    discriminator = self.player_step(
        lambda: (lambda t: (t["discriminator_loss"], t))(
            self.discriminator_terms(*for_discriminator, d_seed)),
        self.discriminator_variables, self.discriminator_optimizer)
    generator = self.player_step(
        lambda: (lambda t: (t["generator_loss"], t))(
            self.generator_terms(*for_generator, g_seed)),
        self.generator_variables, self.optimizer)
    return self._update_trackers(discriminator, generator)

  def test_step(self, data):
    for_discriminator, for_generator = self._split(data)
    d_seed, g_seed = tf.unstack(tf.random.experimental.stateless_split(
        self.step_seed(offset=1), 2))
    discriminator = self.discriminator_terms(*for_discriminator, d_seed, training=False)
    generator = self.generator_terms(*for_generator, g_seed, training=False)
    return self._update_trackers(discriminator, generator)

  # ------------------------------------------------------------------ pictures

  def picture_rows(self, batch, num_samples=3, seed=None):
    """Rows of the training pictures (the trainer's hook), in display units.

    Conditional level: per image, `[x_k, l_k, l_k + G(z_1), ..., l_k + G(z_n)]`.
    Coarsest level: a row of real x_K, then `num_samples` rows of samples.

    Returns:
      `[[row, ...]]`: one group of rows, each row a list of `(F, F, C)` numpy images.
    """
    seed = tf.constant(seed if seed is not None else (0, 0), tf.int64)
    image, low_pass, one_hot = self.level_inputs(batch)
    count = image.shape[0]
    num_samples = max(int(num_samples or 1), 1)
    samples = []
    for i in range(num_samples):
      noise = self.sample_noise(count, tf.random.experimental.stateless_fold_in(seed, i))
      samples.append(self.to_display(self.generate(noise, low_pass, one_hot,
                                                   training=False)).numpy())
    real = self.to_display(image).numpy()
    if self.is_coarsest:
      return [[list(real)] + [list(s) for s in samples]]
    low = self.to_display(low_pass).numpy()
    return [[[real[i], low[i]] + [s[i] for s in samples] for i in range(count)]]

  def get_config(self):
    config = super().get_config()
    config.update(
        sizes=self.sizes, level=self.level, channels=self.channels,
        pyramid_method=self.pyramid_method, coarse_from=self.coarse_from,
        num_classes=self.num_classes, architecture=self.architecture,
        hidden_generator=self.hidden_generator,
        hidden_discriminator=self.hidden_discriminator, noise_dim=self.noise_dim,
        coarsest_generator_units=self.coarsest_generator_units,
        coarsest_discriminator_units=self.coarsest_discriminator_units,
        coarsest_generator_activations=self.coarsest_generator_activations,
        coarsest_init=self.coarsest_init, normalization=self.normalization,
        discriminator_batch=self.discriminator_batch, seed=self.seed)
    return config
