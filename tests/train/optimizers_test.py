"""Tests of the shared optimisers: Torch's SGD against its rule in numpy, the schedules."""

import ml_collections
import numpy as np
import keras
import tensorflow as tf

from tests import test_case
from tfgen.train import optimizers


def torch_sgd_reference(gradients, x0, learning_rates, momenta):
  """torch optim.sgd (dampening = momentum), step by step in float64."""
  x, v = np.array(x0, np.float64), None
  for g, lr, m in zip(gradients, learning_rates, momenta):
    if m != 0:
      v = np.array(g, np.float64) if v is None else m * v + (1 - m) * g
      x = x - lr * v
    else:
      x = x - lr * g
  return x


def run(optimizer, gradients, x0):
  variable = keras.Variable(np.array(x0, np.float32))
  optimizer.build([variable])
  for g in gradients:
    optimizer.apply([tf.constant(g, tf.float32)], [variable])
  return variable.numpy()


class TorchSGDTest(test_case.TestCase):

  def test_unit_gradients_match_the_facts(self):
    # LAPGAN_FACTS §0.5: 10 unit-gradient steps at lr 0.02, m 0.5: torch -0.200, Keras -0.360.
    ones = [np.ones(1)] * 10
    self.assertAllClose(run(optimizers.TorchSGD(0.02, 0.5), ones, [0.0]), [-0.2], atol=1e-6)
    self.assertAllClose(run(keras.optimizers.SGD(0.02, momentum=0.5), ones, [0.0]),
                        [-0.35996], atol=1e-4)

  def test_matches_numpy_rule_with_random_gradients(self):
    rng = np.random.default_rng(0)
    gradients = [rng.normal(size=(3, 2)) for _ in range(7)]
    x0 = rng.normal(size=(3, 2))
    expected = torch_sgd_reference(gradients, x0, [0.1] * 7, [0.7] * 7)
    self.assertAllClose(run(optimizers.TorchSGD(0.1, 0.7), gradients, x0), expected,
                        atol=1e-5)

  def test_schedules_and_velocity_start(self):
    # Momentum ramps from 0 (+0.25 per 2-step epoch, capped at 0.6), learning rate divided
    # by 2 per epoch, floor 0.02: the velocity starts at the first step with m > 0 (step 2).
    rng = np.random.default_rng(1)
    gradients = [rng.normal(size=(4,)) for _ in range(9)]
    x0 = rng.normal(size=(4,))
    epochs = np.arange(9) // 2
    learning_rates = np.maximum(0.1 / 2.0 ** epochs, 0.02)
    momenta = np.minimum(0.25 * epochs, 0.6)
    expected = torch_sgd_reference(gradients, x0, learning_rates, momenta)
    config = ml_collections.ConfigDict(dict(
        optimizer="torch_sgd", learning_rate=0.1, momentum=0.0, momentum_increment=0.25,
        momentum_max=0.6, learning_rate_divisor=2.0, learning_rate_min=0.02,
        steps_per_epoch=2))
    optimizer = optimizers.make_optimizer(config)
    self.assertIsInstance(optimizer, optimizers.TorchSGD)
    self.assertAllClose(run(optimizer, gradients, x0), expected, atol=1e-5)
    self.assertAllClose(float(optimizer.learning_rate), 0.02)  # after 9 steps: epoch 4
    self.assertAllClose(float(optimizer.momentum_at(optimizer.iterations)), 0.6)

  def test_per_epoch_schedule(self):
    schedule = optimizers.PerEpochSchedule(0.02, 704, multiplier=1 / 1.000004, minimum=1e-6)
    self.assertAllClose(float(schedule(703)), 0.02)
    self.assertAllClose(float(schedule(704 * 3)), 0.02 / 1.000004**3, rtol=1e-6)
    clone = optimizers.PerEpochSchedule.from_config(schedule.get_config())
    self.assertEqual(clone.get_config(), schedule.get_config())

  def test_serialization(self):
    optimizer = optimizers.TorchSGD(
        optimizers.PerEpochSchedule(0.02, 10), optimizers.PerEpochSchedule(
            0.5, 10, increment=0.0008, maximum=0.7))
    clone = optimizers.TorchSGD.from_config(optimizer.get_config())
    self.assertEqual(clone.momentum.get_config(), optimizer.momentum.get_config())

  def test_bad_input(self):
    with self.assertRaisesRegex(ValueError, r"momentum must be in \[0, 1\)"):
      optimizers.TorchSGD(0.1, 1.5)
    with self.assertRaisesRegex(ValueError, "must not decrease"):
      optimizers.TorchSGD(0.1, optimizers.PerEpochSchedule(0.5, 10, increment=-0.1))
    with self.assertRaisesRegex(ValueError, "steps_per_epoch"):
      optimizers.make_optimizer(ml_collections.ConfigDict(dict(
          optimizer="torch_sgd", learning_rate=0.1, learning_rate_divisor=1.1)))
    with self.assertRaisesRegex(ValueError, "Unknown optimizer 'lbfgs'.*torch_sgd"):
      optimizers.make_optimizer(ml_collections.ConfigDict(dict(optimizer="lbfgs",
                                                               learning_rate=0.1)))


if __name__ == "__main__":
  tf.test.main()
