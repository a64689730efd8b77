"""Tests of one LAPGAN level: parameter counts of LAPGAN_FACTS §2, losses, training."""

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.models.lapgan.pyramid_level import PyramidLevel
from tfgen.train import optimizers


def count(layer):
  return test_case.count_parameters(layer)


def built(**kwargs):
  level = PyramidLevel(**kwargs)
  level.build()
  return level


def batch(size=16, channels=3, n=8, seed=0):
  rng = np.random.default_rng(seed)
  return {"image": rng.uniform(size=(n, size, size, channels)).astype(np.float32),
          "label": rng.integers(0, 10, size=(n,)).astype(np.int32)}


class ParameterCountTest(test_case.TestCase):
  """Trainable parameters of every G_k and D_k equal LAPGAN_FACTS §2."""

  @test_case.parameterized.parameters(
      # (sizes, level, G, D): §2.1 CIFAR / STL conditional levels at hidden 64.
      ((28, 14, 8), 1, 218_179, 107_905), ((28, 14, 8), 0, 218_179, 113_729),
      ((32, 16), 0, 218_179, 116_545), ((16, 8), 0, 218_179, 108_353),
      ((64, 32), 0, 218_179, 157_505), ((96, 64), 0, 218_179, 231_233))
  def test_cifar_levels(self, sizes, level, generator, discriminator):
    model = built(sizes=sizes, level=level)
    self.assertEqual(count(model.generator), generator)
    self.assertEqual(count(model.discriminator), discriminator)

  def test_cifar_hidden_128(self):
    model = built(sizes=(28, 14, 8), level=0, hidden_generator=128, hidden_discriminator=128)
    self.assertEqual((count(model.generator), count(model.discriminator)), (837_763, 432_257))

  @test_case.parameterized.parameters(((28, 14, 8), 1, 223_471, 111_661),
                                      ((28, 14, 8), 0, 229_939, 123_953),
                                      ((32, 16), 0, 232_579, 129_409))
  def test_class_conditional_levels(self, sizes, level, generator, discriminator):
    model = built(sizes=sizes, level=level, num_classes=10)
    self.assertEqual((count(model.generator), count(model.discriminator)),
                     (generator, discriminator))

  @test_case.parameterized.parameters(
      # §2.3: (size, G units, D units, classes, G, D).
      (8, 1200, 600, 0, 1_792_992, 477_001), (4, 1200, 600, 0, 1_620_048, 390_601),
      (8, 1200, 600, 10, 1_804_992, 483_001), (8, 8000, 1600, 0, 66_352_192, 2_872_001),
      (32, 8000, 1600, 0, 89_395_072, 7_480_001), (8, 8000, 1600, 10, 66_432_192, 2_888_001))
  def test_coarsest_levels(self, size, g_units, d_units, classes, generator, discriminator):
    model = built(sizes=(size,), level=0, coarsest_generator_units=g_units,
                  coarsest_discriminator_units=d_units, num_classes=classes)
    self.assertEqual((count(model.generator), count(model.discriminator)),
                     (generator, discriminator))

  def test_demo_model_generator(self):
    # The surviving trained class-conditional 8x8 G: 600 units, 542,592 parameters.
    model = built(sizes=(8,), level=0, coarsest_generator_units=600, num_classes=10)
    self.assertEqual(count(model.generator), 542_592)

  @test_case.parameterized.parameters((16, 714_017), (32, 873_761), (64, 1_832_225))
  def test_lsun_levels(self, size, discriminator):
    model = built(sizes=(size, size // 2), level=0, architecture="lsun")
    self.assertEqual(count(model.generator), 1_090_995)
    self.assertEqual(count(model.discriminator), discriminator)
    # Affine-free batch norm: only moving statistics.
    norms = [layer for layer in model.generator.norms]
    self.assertTrue(all(not n.trainable_weights for n in norms))


class PyramidLevelTest(test_case.TestCase):

  def test_torch_default_init_bounds(self):
    model = built(sizes=(16, 8), level=0, hidden_discriminator=6)
    conv = model.generator.convs[0]  # fan_in = 4 planes x 7 x 7
    bound = 1.0 / np.sqrt(4 * 49)
    for weight in (conv.kernel, conv.bias):
      values = np.asarray(weight)
      self.assertLessEqual(np.abs(values).max(), bound)
      self.assertGreater(np.abs(values).max(), 0.8 * bound)

  def test_conditional_generator_input_order_and_residual(self):
    # The sample is l + G(z, l): with G's output zeroed it is the low-pass exactly.
    model = built(sizes=(16, 8), level=0, hidden_generator=4, hidden_discriminator=5)
    last = model.generator.convs[-1]
    last.kernel.assign(np.zeros(last.kernel.shape, np.float32))
    last.bias.assign(np.zeros(last.bias.shape, np.float32))
    data = batch()
    image, low_pass, _ = model.level_inputs(data)
    noise = model.sample_noise(8, tf.constant([1, 2], tf.int64))
    self.assertAllClose(model.generate(noise, low_pass), low_pass)
    self.assertEqual(noise.shape, (8, 16, 16, 1))
    self.assertBetween(float(tf.reduce_min(noise)), -1.0, 0.0)
    self.assertBetween(float(tf.reduce_max(noise)), 0.0, 1.0)
    # The first convolution sees the noise plane as channel 0: changing the noise changes
    # the output only through those kernel weights.
    first = model.generator.convs[0]
    kernel = np.asarray(first.kernel).copy()
    kernel[:, :, 0, :] = 0.0
    first.kernel.assign(kernel)
    a = model.generator((noise, low_pass, None))
    b = model.generator((-noise, low_pass, None))
    self.assertAllClose(a, b)

  def test_normalization_round_trip(self):
    model = built(sizes=(16, 8), level=1, hidden_generator=4, hidden_discriminator=5,
                  coarsest_generator_units=7, coarsest_discriminator_units=6, noise_dim=3)
    rng = np.random.default_rng(1)
    mean = rng.uniform(0.3, 0.6, size=(16, 16, 3)).astype(np.float32)
    std = rng.uniform(0.1, 0.3, size=(16, 16, 3)).astype(np.float32)
    model.set_data_statistics(mean, std)
    images = batch()["image"]
    normalized = model.normalize(images)
    self.assertAllClose(normalized, (images - mean) / (std + 1e-7 / 255), atol=1e-5)
    self.assertAllClose(model.to_display(normalized), images, atol=1e-5)
    with self.assertRaisesRegex(ValueError, r"shape \(3,\).*expected \(16, 16, 3\)"):
      model.set_data_statistics(mean[0, 0], std[0, 0])

  def test_losses_are_bernoulli_cross_entropies(self):
    logits = tf.constant([-2.0, 0.5, 3.0])
    labels = tf.constant([1.0, 0.0, 1.0])
    p = 1 / (1 + np.exp(-logits.numpy()))
    expected = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    self.assertAllClose(PyramidLevel.discriminator_loss(logits, labels), expected, atol=1e-6)
    self.assertAllClose(PyramidLevel.non_saturating_generator_loss(logits),
                        -np.mean(np.log(p)), atol=1e-6)

  @test_case.parameterized.named_parameters(
      ("conditional_half", 0, "half", 0), ("conditional_coin_classes", 0, "coin", 10),
      ("coarsest_half", 1, "half", 0), ("coarsest_classes", 1, "half", 10))
  def test_train_step_updates_each_player_with_its_optimizer(self, level, mode, classes):
    model = built(sizes=(16, 8), level=level, hidden_generator=4, hidden_discriminator=5,
                  coarsest_generator_units=7, coarsest_discriminator_units=6, noise_dim=3,
                  discriminator_batch=mode, num_classes=classes)
    model.compile(discriminator_optimizer=optimizers.TorchSGD(0.02, 0.5),
                  optimizer=optimizers.TorchSGD(0.02, 0.5))
    g_before = [np.asarray(v) for v in model.generator_variables]
    d_before = [np.asarray(v) for v in model.discriminator_variables]
    metrics = {k: float(v) for k, v in model.train_step(batch()).items()}
    self.assertEqual(set(metrics), {"generator_loss", "discriminator_loss",
                                    "discriminator_accuracy_real",
                                    "discriminator_accuracy_generated"})
    self.assertTrue(all(np.isfinite(list(metrics.values()))), metrics)
    self.assertTrue(any(np.any(a != np.asarray(b))
                        for a, b in zip(g_before, model.generator_variables)))
    self.assertTrue(any(np.any(a != np.asarray(b))
                        for a, b in zip(d_before, model.discriminator_variables)))
    self.assertEqual(int(model.optimizer.iterations), 1)
    self.assertEqual(int(model.discriminator_optimizer.iterations), 1)

  def test_discriminator_batch_is_half_real_half_generated(self):
    model = built(sizes=(16, 8), level=0, hidden_generator=4, hidden_discriminator=5)
    image, low_pass, one_hot = model.level_inputs(batch(n=6))
    terms = model.discriminator_terms(image, low_pass, one_hot, tf.constant([3, 4], tf.int64))
    self.assertAllEqual(terms["is_real"], [1, 1, 1, 0, 0, 0])
    coin = built(sizes=(16, 8), level=0, hidden_generator=4, hidden_discriminator=5,
                 discriminator_batch="coin")
    image, low_pass, one_hot = coin.level_inputs(batch(n=64))
    is_real = coin.discriminator_terms(image, low_pass, one_hot,
                                       tf.constant([3, 4], tf.int64))["is_real"].numpy()
    self.assertBetween(is_real.mean(), 0.25, 0.75)
    self.assertNotEqual(list(is_real[:32]), [1.0] * 32)

  def test_fit_runs(self):
    model = built(sizes=(16, 8), level=0, hidden_generator=4, hidden_discriminator=5)
    model.compile()
    data = tf.data.Dataset.from_tensors(batch())
    history = model.fit(data, epochs=2, verbose=0)
    self.assertTrue(np.all(np.isfinite(history.history["generator_loss"])))

  def test_picture_rows(self):
    model = built(sizes=(16, 8), level=0, hidden_generator=4, hidden_discriminator=5)
    rows = model.picture_rows(batch(n=3), num_samples=2, seed=(1, 2))
    self.assertLen(rows, 1)
    self.assertLen(rows[0], 3)
    self.assertLen(rows[0][0], 4)  # real, low-pass, 2 samples
    self.assertEqual(rows[0][0][0].shape, (16, 16, 3))
    self.assertBetween(float(np.min(rows[0][0][2])), 0.0, 1.0)

  def test_bad_input(self):
    model = built(sizes=(16, 8), level=0, hidden_generator=4, hidden_discriminator=5)
    with self.assertRaisesRegex(ValueError, r"sizes \(16, 8\).*\(batch, 16, 16, 3\).*32"):
      model.level_inputs(batch(size=32))
    with self.assertRaisesRegex(ValueError, "Unknown pyramid level 2"):
      PyramidLevel(sizes=(16, 8), level=2)
    with self.assertRaisesRegex(ValueError, "Unknown architecture 'vgg'"):
      PyramidLevel(sizes=(16, 8), level=0, architecture="vgg")
    with self.assertRaisesRegex(ValueError, "Unknown discriminator_batch 'all'"):
      PyramidLevel(sizes=(16, 8), level=0, discriminator_batch="all")
    with self.assertRaisesRegex(ValueError, "at least 9x9"):
      PyramidLevel(sizes=(8, 4), level=0)
    with self.assertRaisesRegex(ValueError, "at least 13x13"):
      PyramidLevel(sizes=(8, 4), level=0, architecture="lsun")

  def test_config_round_trip(self):
    model = PyramidLevel(sizes=(16, 8), level=1, num_classes=10, noise_dim=3)
    clone = self.run_config_round_trip(model)
    self.assertEqual(clone.sizes, (16, 8))


if __name__ == "__main__":
  tf.test.main()
