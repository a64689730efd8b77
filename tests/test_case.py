"""Shared test base with the batteries every layer and model test uses (keras-hub style)."""

import os
import tempfile

from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf


def run_binary(module, *args, timeout=600):
  """Runs `python -m <module> <args>` as a user would; returns the `CompletedProcess`."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                        env=env, timeout=timeout)


def test_data_dir():
  """The real-data folder CI exports as `TFGEN_TEST_DATA` (None when unset)."""
  return os.environ.get("TFGEN_TEST_DATA")


def count_parameters(layer):
  return int(sum(np.prod(v.shape) for v in layer.trainable_variables))


class TestCase(tf.test.TestCase, parameterized.TestCase):
  """`tf.test.TestCase` + parameterisation + helper batteries."""

  def setUp(self):
    super().setUp()
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy("float32")

  def make_temp_dir(self):
    """A fresh directory (works under pytest, where absl flags are not parsed)."""
    return tempfile.mkdtemp(dir=self.get_temp_dir())

  def run_config_round_trip(self, layer):
    """`from_config(get_config())` rebuilds a layer with the same config."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    self.assertEqual(clone.get_config(), config)
    return clone

  def run_serialization_round_trip(self, layer):
    """Keras serialisation (registered class) rebuilds the same config."""
    serialized = keras.saving.serialize_keras_object(layer)
    clone = keras.saving.deserialize_keras_object(serialized)
    self.assertEqual(type(clone), type(layer))
    self.assertEqual(clone.get_config(), layer.get_config())

  def run_fit_lowers_loss(self, model, data, epochs=3, batch_size=None):
    """A real `fit()` on a fixed batch lowers the training loss."""
    history = model.fit(data, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=False)
    losses = history.history["loss"]
    self.assertTrue(all(np.isfinite(losses)), losses)
    self.assertLess(losses[-1], losses[0])
    return losses

  def run_save_load(self, model, inputs, call=None, directory=None):
    """`model.save` / `keras.saving.load_model` give identical outputs."""
    call = call or (lambda m: m(inputs, training=False))
    path = os.path.join(directory or self.get_temp_dir(), "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    self.assertAllClose(call(model), call(restored), atol=1e-6)
    return restored
