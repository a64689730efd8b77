"""Tests of `tfgen.layers.batch_normalization.BatchNormalization`."""

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers import common
from tfgen.layers.batch_normalization import BatchNormalization
from tfgen.train import trainer

# Batch 4 x 3 x 5 positions x 6 channels: 60 values per channel.
SHAPE = (4, 3, 5, 6)
COUNT = 4 * 3 * 5


def _inputs(shift=0.0, spread=1.0, seed=1):
  x = np.random.default_rng(seed).normal(size=SHAPE)
  return (shift + spread * x).astype(np.float32)


class BatchNormalizationTest(test_case.TestCase):

  def test_moving_variance_is_unbiased_as_pytorch(self):
    x = _inputs(shift=0.5, spread=2.0)
    layer = common.batch_norm()
    layer(x, training=True)
    # PyTorch: running_var = (1 - 0.1) * 1 + 0.1 * var(x, unbiased); running_mean likewise.
    expected_var = 0.9 + 0.1 * x.reshape(-1, 6).astype(np.float64).var(0, ddof=1)
    expected_mean = 0.1 * x.reshape(-1, 6).astype(np.float64).mean(0)
    self.assertCloseForAccumulation(layer.moving_variance, expected_var, COUNT)
    self.assertCloseForAccumulation(layer.moving_mean, expected_mean, COUNT)
    # The unbiased rule is what is tested: the biased one is 1/60 smaller in the update.
    biased = 0.9 + 0.1 * x.reshape(-1, 6).astype(np.float64).var(0)
    self.assertGreater(np.max(np.abs(layer.moving_variance.numpy() - biased)), 1e-3)

  def test_biased_rule_is_keras(self):
    x = _inputs(shift=0.5, spread=2.0)
    with common.batch_norm_moving_variance("biased"):
      layer = common.batch_norm()
    keras_layer = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    layer.build(SHAPE)
    keras_layer.build(SHAPE)
    keras_layer.set_weights(layer.get_weights())
    self.assertAllClose(layer(x, training=True), keras_layer(x, training=True), atol=1e-5)
    self.assertCloseForAccumulation(layer.moving_variance, keras_layer.moving_variance, COUNT)

  def test_normalises_with_the_biased_batch_variance(self):
    # Training output: (x - mean) / sqrt(var_biased + eps) * gamma + beta, as PyTorch.
    x = _inputs(shift=-1.0, spread=3.0)
    layer = common.batch_norm()
    y = layer(x, training=True).numpy()
    x64 = x.astype(np.float64).reshape(-1, 6)
    gamma = layer.gamma.numpy().astype(np.float64)
    expected = (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-5) * gamma
    self.assertCloseForAccumulation(y.reshape(-1, 6), expected, COUNT)
    # Inference uses the moving statistics.
    y_inference = layer(x, training=False).numpy().reshape(-1, 6)
    moving = (x64 - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + 1e-5)
    self.assertCloseForAccumulation(y_inference, moving * gamma, COUNT)

  def test_variance_is_exact_when_the_mean_dominates(self):
    # A large mean against a small spread: E[x^2] - E[x]^2 cancels in float32 (Keras's
    # synchronized layer computes that even on one device); the two-pass variance does not.
    x = _inputs(shift=300.0, spread=0.05)
    x64 = x.astype(np.float64).reshape(-1, 6)
    expected = (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-5)
    for synchronized in (True, False):
      layer = BatchNormalization(synchronized=synchronized, epsilon=1e-5)
      y = layer(x, training=True).numpy().reshape(-1, 6)
      # Scale: the normalised values are O(1) but computed from inputs of size 300 with a
      # spread of 0.05, so each carries an input rounding error of 300 eps / 0.05.
      self.assertCloseForAccumulation(y, expected, COUNT, scale=300.0 / 0.05,
                                      msg=f"synchronized={synchronized}")
    keras_synchronized = keras.layers.BatchNormalization(synchronized=True, epsilon=1e-5)
    y_keras = keras_synchronized(x, training=True).numpy().reshape(-1, 6)
    self.assertGreater(np.max(np.abs(y_keras - expected)), 1e-2)

  def test_synchronized_across_replicas_equals_one_device(self):
    devices = tf.config.list_logical_devices("CPU")
    self.assertGreaterEqual(len(devices), 2)
    strategy = trainer.mirrored_strategy([d.name for d in devices[:2]])
    x = _inputs(shift=2.0, spread=0.5)
    single = common.batch_norm()
    y_single = single(x, training=True)
    with strategy.scope():
      mirrored = common.batch_norm()
      mirrored.build(SHAPE)
    mirrored.set_weights(single.get_weights()[:2] + [np.zeros(6), np.ones(6)])

    @tf.function
    def step(batch):
      return mirrored(batch, training=True)

    # Each replica sees half of the batch; the statistics are the global batch's.
    halves = strategy.experimental_distribute_values_from_function(
        lambda context: x[context.replica_id_in_sync_group * 2:][:2])
    outputs = strategy.run(step, args=(halves,))
    y_mirrored = np.concatenate([t.numpy() for t in strategy.experimental_local_results(outputs)])
    self.assertCloseForAccumulation(y_mirrored, y_single, COUNT)
    self.assertCloseForAccumulation(mirrored.moving_variance, single.moving_variance, COUNT)
    self.assertCloseForAccumulation(mirrored.moving_mean, single.moving_mean, COUNT)
    unsynchronized = BatchNormalization(synchronized=False, epsilon=1e-5)
    self.assertNotAllClose(unsynchronized(x[:2], training=True), y_single[:2], atol=1e-3)

  def test_mixed_bfloat16(self):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    layer = common.batch_norm()
    y = layer(tf.cast(_inputs(), tf.bfloat16), training=True)
    self.assertEqual(y.dtype, tf.bfloat16)
    self.assertEqual(layer.moving_variance.dtype, "float32")

  def test_config_round_trip_and_bad_rule(self):
    layer = BatchNormalization(moving_variance="biased", synchronized=True, momentum=0.8)
    self.run_config_round_trip(layer)
    self.run_serialization_round_trip(layer)
    with self.assertRaisesRegex(ValueError, "moving_variance 'pytorch'.*'unbiased', 'biased'"):
      BatchNormalization(moving_variance="pytorch")
    with self.assertRaisesRegex(ValueError, "'unbiased', 'biased'"):
      with common.batch_norm_moving_variance("sample"):
        pass


if __name__ == "__main__":
  tf.test.main()
