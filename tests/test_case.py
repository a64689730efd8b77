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


def float_tolerance(scale, accumulation_length, dtype="float32", factor=16.0):
  """The absolute tolerance for comparing two computations of the same float result.

  The one rule every numerical comparison of tfgen's tests follows. Two implementations of
  the same sums of products (a convolution, a matmul, a batch-norm reduction, their
  gradients) that accumulate in different orders or kernels (XLA or not, oneDNN's AVX2 or
  AVX-512 code paths, one device or two) differ by rounding. A sum of `n` terms of
  magnitude `s` carries an error of about `eps * sqrt(n) * s` (rounding errors add like a
  random walk; `eps` is the dtype's machine epsilon). So the tolerance is

      factor * eps(dtype) * sqrt(accumulation_length) * scale

  with:
    scale: the magnitude of what is compared: the largest |value| of the whole expected
      tensor (not of each element: an element that is small because its terms cancelled
      carries the absolute error of those terms), or, for a quantity whose true value is 0
      by cancellation (a conv bias feeding a batch norm), the magnitude of the terms summed.
    accumulation_length: the longest reduction the compared values depend on, e.g.
      batch x height x width for a weight gradient or a batch norm over those axes,
      kernel_h x kernel_w x in_channels for a convolution's output.
    factor: headroom over the random-walk estimate (measured errors are 2-5x it across
      chains of layers on AVX2 and AVX-512 CPUs); a real bug, such as a 0.1% error in one
      layer, is still ~10x above the tolerance at the default.
  """
  eps = float(np.finfo(np.dtype(tf.as_dtype(dtype).as_numpy_dtype)).eps) \
      if tf.as_dtype(dtype) != tf.bfloat16 else 2.0**-7
  return factor * eps * float(np.sqrt(max(accumulation_length, 1))) * float(scale)


def count_parameters(layer):
  return int(sum(np.prod(v.shape) for v in layer.trainable_variables))


class TestCase(tf.test.TestCase, parameterized.TestCase):
  """`tf.test.TestCase` + parameterisation + helper batteries."""

  def setUp(self):
    super().setUp()
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy("float32")

  def assertCloseForAccumulation(self, actual, expected, accumulation_length, scale=None,
                                 dtype="float32", factor=16.0, msg=None):
    """`actual` equals `expected` within `float_tolerance` (the rule above).

    `scale` defaults to the largest |expected| of the tensor.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    self.assertEqual(actual.shape, expected.shape, msg)
    if scale is None:
      scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    tolerance = float_tolerance(scale, accumulation_length, dtype=dtype, factor=factor)
    error = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    self.assertLessEqual(
        error, tolerance,
        f"{msg + ': ' if msg else ''}max |actual - expected| = {error:.3g} exceeds the "
        f"tolerance {tolerance:.3g} (scale {scale:.3g}, accumulation length "
        f"{accumulation_length}, {dtype})")

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
