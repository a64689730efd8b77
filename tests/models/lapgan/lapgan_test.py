"""Tests of the LAPGAN sampler: coarse to fine (eq. 4.7), seeds, labels, coarse images."""

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.models.lapgan.lapgan import LAPGAN

SMALL = dict(hidden_generator=3, hidden_discriminator=4, coarsest_generator_units=6,
             coarsest_discriminator_units=5, noise_dim=3, channels=2)


def built(**kwargs):
  model = LAPGAN(**dict(dict(sizes=(28, 14, 8)), **SMALL, **kwargs))
  model.build()
  return model


class LAPGANTest(test_case.TestCase):

  def test_sample_is_the_chain_of_eq_4_7(self):
    model = built()
    seed = tf.constant([3, 4], tf.int64)
    chain = model.sample(5, seed, return_chain=True)
    self.assertEqual([c.shape for c in chain],
                     [(5, 8, 8, 2), (5, 14, 14, 2), (5, 28, 28, 2)])
    # By hand: x~_2 = G_2(z_2); x~_k = u(x~_{k+1}) + G_k(z_k, u(x~_{k+1})), with the
    # released enlarge (align-corners bilinear).
    x = model.levels[2].generate(model.level_noise(2, 5, seed))
    self.assertAllClose(chain[0], x)
    for k, size in ((1, 14), (0, 28)):
      low = tf.compat.v1.image.resize_bilinear(x, (size, size), align_corners=True)
      residual = model.levels[k].generator((model.level_noise(k, 5, seed), low, None))
      x = low + residual
      self.assertAllClose(chain[2 - k], x, atol=1e-4)
    self.assertAllClose(model.sample(5, seed), chain[-1])

  def test_seeds(self):
    model = built()
    a = model.sample(3, tf.constant([1, 2], tf.int64))
    b = model.sample(3, tf.constant([1, 2], tf.int64))
    c = model.sample(3, tf.constant([1, 3], tf.int64))
    self.assertAllEqual(a, b)
    self.assertGreater(float(tf.reduce_max(tf.abs(a - c))), 1e-3)

  def test_start_from_a_coarse_image(self):
    model = built()
    coarse = tf.random.stateless_normal((2, 8, 8, 2), (5, 6))
    chain = model.sample(2, tf.constant([1, 2], tf.int64), coarse=coarse, return_chain=True)
    self.assertAllEqual(chain[0], coarse)
    self.assertEqual(chain[-1].shape, (2, 28, 28, 2))

  def test_class_conditional_labels_change_samples(self):
    model = built(num_classes=4)
    seed = tf.constant([1, 2], tf.int64)
    zeros = model.sample(3, seed, labels=tf.zeros([3], tf.int32))
    threes = model.sample(3, seed, labels=tf.fill([3], 3))
    self.assertGreater(float(tf.reduce_max(tf.abs(zeros - threes))), 1e-4)
    labels = model.random_labels(50, seed).numpy()
    self.assertTrue(set(labels) <= {0, 1, 2, 3} and len(set(labels)) > 1)

  def test_display_units(self):
    model = built()
    rng = np.random.default_rng(0)
    for level in model.levels:
      level.set_data_statistics(rng.uniform(0.2, 0.5, (28, 28, 2)),
                                rng.uniform(0.1, 0.2, (28, 28, 2)))
    images = rng.uniform(size=(2, 28, 28, 2)).astype(np.float32)
    self.assertAllClose(model.to_display(model.from_display(images)), images, atol=1e-5)
    shown = model.to_display(model.sample(4, tf.constant([1, 1], tf.int64)))
    self.assertBetween(float(tf.reduce_min(shown)), 0.0, 1.0)
    self.assertBetween(float(tf.reduce_max(shown)), 0.0, 1.0)

  def test_levels_have_distinct_variable_paths(self):
    model = built()
    paths = [v.path for v in model.variables]
    self.assertLen(set(paths), len(paths))
    self.assertEqual(len(model.submodules_by_name()), 6)

  def test_plain_gan_is_one_level(self):
    model = LAPGAN(sizes=(8,), **SMALL)
    model.build()
    self.assertEqual(model.sample(2, tf.constant([1, 2], tf.int64)).shape, (2, 8, 8, 2))


if __name__ == "__main__":
  tf.test.main()
