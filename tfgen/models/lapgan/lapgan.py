"""LAPGAN: the levels of a Laplacian pyramid of GANs, sampled coarse to fine."""

import keras
from keras import ops
import tensorflow as tf

from tfgen.models.lapgan.pyramid_level import PyramidLevel


@keras.saving.register_keras_serializable(package="tfgen")
class LAPGAN(keras.Model):
  """Every level of a LAPGAN (`PyramidLevel`), and the coarse-to-fine sampler (eq. 4.7).

      x~_K = G_K(z_K [, y])
      x~_k = u(x~_{k+1}) + G_k(z_k, [y,] u(x~_{k+1}))      for k = K-1, ..., 0

  Each level is trained on its own (`tfgen.models.lapgan.training`); this model holds
  them for sampling, pictures and export. Images are z-scored (the levels' statistics);
  `to_display` maps them to [0, 1].

  Args:
    sizes: tuple of ints, the pyramid's sizes, finest first; a one-level pyramid is a
      plain GAN.
    **level_fields: every other `PyramidLevel` argument, shared by all levels.

  Call arguments:
    inputs: int, the number of samples (random labels for class-conditional models).

  Returns:
    `(num_samples, sizes[0], sizes[0], channels)` samples in z-scored units.
  """

  def __init__(self, sizes, name="lapgan", **level_fields):
    super().__init__(name=name)
    self.sizes = tuple(int(s) for s in sizes)
    self.level_fields = dict(level_fields)
    self.levels = [PyramidLevel(self.sizes, level=k, name=f"level_{k}", **self.level_fields)
                   for k in range(len(self.sizes))]

  @property
  def num_levels(self):
    return len(self.levels)

  @property
  def coarsest(self):
    return self.levels[-1]

  @property
  def num_classes(self):
    return self.coarsest.num_classes

  @property
  def channels(self):
    return self.coarsest.channels

  def build(self, input_shape=None):
    for level in self.levels:
      level.build()
    self.built = True

  def submodules_by_name(self):
    parts = {}
    for k, level in enumerate(self.levels):
      parts.update({f"level_{k}/{name}": part
                    for name, part in level.submodules_by_name().items()})
    return parts

  def level_noise(self, level, num_samples, seed):
    """z_k for `num_samples` images; `seed` a shape-[2] int stateless seed."""
    seed = tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), level)
    return self.levels[level].sample_noise(num_samples, seed)

  def random_labels(self, num_samples, seed):
    """Uniform class labels `(num_samples,)` int32 (class-conditional models)."""
    seed = tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), 10_000)
    return tf.random.stateless_uniform([num_samples], seed, 0, max(self.num_classes, 1),
                                       dtype=tf.int32)

  def chain(self, coarse, noises, labels=None, start_level=None):
    """Refines `coarse` to the finest level: `[x~_start, ..., x~_0]` (z-scored).

    Args:
      coarse: `(B, sizes[start], sizes[start], C)` z-scored image of level `start_level`
        (default the coarsest).
      noises: `{level: z_k}` for every level below `start_level` (`level_noise`).
      labels: `(B,)` int labels (class-conditional models) or None.
      start_level: int, the level `coarse` belongs to.
    """
    start = self.num_levels - 1 if start_level is None else start_level
    images = [coarse]
    for k in range(start - 1, -1, -1):
      level = self.levels[k]
      low_pass = level.pyramid.enlarge(images[-1], level.size)
      images.append(level.generate(noises[k], low_pass, level.one_hot(labels),
                                   training=False))
    return images

  def sample(self, num_samples, seed, labels=None, coarse=None, return_chain=False):
    """Coarse-to-fine samples (eq. 4.7), z-scored, deterministic given `seed`.

    Args:
      num_samples: int (or scalar tensor).
      seed: shape-[2] int stateless seed.
      labels: `(num_samples,)` int labels, or None (random for class-conditional models).
      coarse: `(num_samples, sizes[-1], sizes[-1], C)` z-scored coarsest images to start
        from, or None (drawn from G_K).
      return_chain: return `[x~_K, ..., x~_0]` instead of x~_0.
    """
    if self.num_classes and labels is None:
      labels = self.random_labels(num_samples, seed)
    if coarse is None:
      coarsest = self.coarsest
      coarse = coarsest.generate(self.level_noise(self.num_levels - 1, num_samples, seed),
                                 one_hot=coarsest.one_hot(labels), training=False)
    noises = {k: self.level_noise(k, num_samples, seed) for k in range(self.num_levels - 1)}
    images = self.chain(coarse, noises, labels)
    return images if return_chain else images[-1]

  def to_display(self, images):
    """z-scored images of any level -> [0, 1] (the finest level's statistics, resampled)."""
    return self.levels[0].to_display(images)

  def from_display(self, images):
    return self.levels[0].from_display(images)

  def call(self, inputs, training=None):
    del training
    return self.sample(inputs, tf.constant([0, 0], tf.int64))

  def get_config(self):
    return {"name": self.name, "sizes": self.sizes, **self.level_fields}
