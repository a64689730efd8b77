"""Tests of `tfgen.layers.fast_conv_transpose.FastConv2DTranspose`."""

from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers import fast_conv_transpose
from tfgen.layers.fast_conv_transpose import FastConv2DTranspose


def _pair(filters, in_channels, seed=0, **kwargs):
  """A Keras `Conv2DTranspose` and a `FastConv2DTranspose` with the same weights."""
  init = keras.initializers.RandomNormal(stddev=0.1, seed=seed)
  bias_init = keras.initializers.RandomNormal(stddev=0.1, seed=seed + 1)
  kwargs.setdefault("kernel_size", 4)
  kwargs.setdefault("strides", 2)
  kwargs.setdefault("padding", "same")
  formulation = kwargs.pop("formulation", "auto")
  reference = keras.layers.Conv2DTranspose(
      filters, kernel_initializer=init, bias_initializer=bias_init, **kwargs)
  fast = FastConv2DTranspose(filters, kernel_initializer=init, bias_initializer=bias_init,
                             formulation=formulation, **kwargs)
  shape = (None, None, None, in_channels)
  reference.build(shape)
  fast.build(shape)
  fast.set_weights(reference.get_weights())
  return reference, fast


def _outputs_and_gradients(layer, x, dy, jit_compile=False):
  """`(y, dy/dx, dy/dkernel, dy/dbias)` with upstream gradient `dy`."""

  @tf.function(jit_compile=jit_compile)
  def run(x):
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = layer(x)
    return [y] + tape.gradient(y, [x, layer.kernel, layer.bias], output_gradients=dy)

  return [t.numpy() for t in run(x)]


def _relative_error(actual, expected):
  return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-12))


class FastConv2DTransposeTest(test_case.TestCase):

  @parameterized.product(
      formulation=fast_conv_transpose.FORMULATIONS,
      shape=[(2, 4, 4, 8, 5), (3, 5, 7, 3, 1), (1, 8, 6, 16, 4), (2, 12, 10, 4, 3)],
      jit_compile=[False, True])
  def test_matches_keras(self, formulation, shape, jit_compile):
    batch, h, w, in_channels, filters = shape
    reference, fast = _pair(filters, in_channels, seed=sum(shape), formulation=formulation)
    rng = np.random.default_rng(sum(shape))
    x = tf.constant(rng.normal(size=(batch, h, w, in_channels)), tf.float32)
    dy = tf.constant(rng.normal(size=(batch, 2 * h, 2 * w, filters)), tf.float32)
    expected = _outputs_and_gradients(reference, x, dy)
    actual = _outputs_and_gradients(fast, x, dy, jit_compile=jit_compile)
    self.assertEqual(actual[0].shape, (batch, 2 * h, 2 * w, filters))
    # The longest sums: the kernel's gradient over batch x output positions, an output
    # over 4 x 4 x in_channels, an input gradient over 4 x 4 x filters.
    n = max(batch * (2 * h) * (2 * w), 16 * in_channels, 16 * filters)
    for name, a, e in zip(("output", "d_input", "d_kernel", "d_bias"), actual, expected):
      self.assertCloseForAccumulation(a, e, n, msg=name)

  @parameterized.product(
      forward=["phase", "reference"], kernel_grad=["phase", "reference"],
      input_grad=["auto", "reference"], jit_compile=[False, True])
  def test_conv_transpose_gradients_match_tf(self, forward, kernel_grad, input_grad,
                                             jit_compile):
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(2, 6, 4, 3)), tf.float32)
    kernel = tf.constant(rng.normal(size=(4, 4, 5, 3)), tf.float32)
    dy = tf.constant(rng.normal(size=(2, 12, 8, 5)), tf.float32)

    def gradients(fn):
      @tf.function(jit_compile=jit_compile)
      def run(x, kernel):
        with tf.GradientTape() as tape:
          tape.watch([x, kernel])
          y = fn(x, kernel)
        return [y] + tape.gradient(y, [x, kernel], output_gradients=dy)
      return [t.numpy() for t in run(x, kernel)]

    expected = gradients(fast_conv_transpose.conv_transpose_reference)
    actual = gradients(lambda x, k: fast_conv_transpose.conv_transpose(
        x, k, forward, kernel_grad, input_grad))
    # The longest sum: the kernel's gradient over 2 x 12 x 8 output positions.
    for name, a, e in zip(("output", "d_input", "d_kernel"), actual, expected):
      self.assertCloseForAccumulation(a, e, 2 * 12 * 8, msg=name)

  @parameterized.parameters(*[(f,) for f in fast_conv_transpose.FORMULATIONS])
  def test_mixed_bfloat16_close_to_keras(self, formulation):
    reference, fast = _pair(6, 8, formulation=formulation, dtype="mixed_bfloat16")
    x = tf.random.normal((2, 4, 4, 8), seed=1)
    y_ref, y_fast = reference(x), fast(x)
    self.assertEqual(y_fast.dtype, tf.bfloat16)
    self.assertLess(_relative_error(tf.cast(y_fast, tf.float32).numpy(),
                                    tf.cast(y_ref, tf.float32).numpy()), 3e-2)

  @parameterized.named_parameters(
      ("valid_1x1_input", dict(kernel_size=4, strides=1, padding="valid"), (2, 1, 1, 6)),
      ("kernel3_stride1", dict(kernel_size=3, strides=1, padding="same"), (2, 5, 5, 6)),
      ("kernel4_stride2_valid", dict(kernel_size=4, strides=2, padding="valid"), (2, 5, 5, 6)),
      ("kernel5_stride2_same", dict(kernel_size=5, strides=2, padding="same"), (2, 5, 5, 6)),
  )
  def test_other_configurations_fall_back_to_keras(self, kwargs, shape):
    reference, fast = _pair(3, shape[-1], **kwargs)
    self.assertFalse(fast.is_fast)
    x = tf.random.normal(shape, seed=2)
    dy = tf.random.normal(reference.compute_output_shape(shape), seed=3)
    for a, e in zip(_outputs_and_gradients(fast, x, dy), _outputs_and_gradients(reference, x, dy)):
      self.assertAllClose(a, e, rtol=1e-5, atol=1e-6)

  def test_same_variables_as_keras(self):
    reference, fast = _pair(256, 1024)
    self.assertTrue(fast.is_fast)
    self.assertEqual([(v.path.split("/")[-1], tuple(v.shape)) for v in fast.weights],
                     [(v.path.split("/")[-1], tuple(v.shape)) for v in reference.weights])
    self.assertEqual([v.name for v in fast.weights], ["kernel", "bias"])
    self.assertEqual(fast.count_params(), reference.count_params())
    self.assertEqual(fast.count_params(), 4 * 4 * 256 * 1024 + 256)

  def test_initializers_are_used(self):
    init = keras.initializers.RandomNormal(stddev=0.02, seed=7)
    reference = keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same",
                                             kernel_initializer=init)
    fast = FastConv2DTranspose(8, 4, strides=2, padding="same", kernel_initializer=init)
    reference.build((None, 4, 4, 16))
    fast.build((None, 4, 4, 16))
    self.assertAllEqual(fast.kernel.numpy(), reference.kernel.numpy())
    self.assertAllEqual(fast.bias.numpy(), np.zeros(8))

  def test_get_config_round_trip(self):
    fast = FastConv2DTranspose(8, 4, strides=2, padding="same", formulation="phase",
                               name="upconv", activation="relu")
    config = fast.get_config()
    self.assertEqual(config["formulation"], "phase")
    clone = FastConv2DTranspose.from_config(config)
    self.assertEqual(clone.get_config(), config)
    keras_config = {k: v for k, v in config.items() if k != "formulation"}
    self.assertEqual(keras.layers.Conv2DTranspose.from_config(keras_config).get_config(),
                     keras_config)

  def test_unknown_formulation_raises(self):
    with self.assertRaisesRegex(ValueError, "formulation"):
      FastConv2DTranspose(8, 4, strides=2, padding="same", formulation="fft")

  def test_serialization_round_trip(self):
    _, fast = _pair(5, 3, name="upconv")
    serialized = keras.saving.serialize_keras_object(fast)
    self.assertEqual(serialized["registered_name"], "tfgen>FastConv2DTranspose")
    clone = keras.saving.deserialize_keras_object(serialized)
    self.assertIsInstance(clone, FastConv2DTranspose)
    clone.set_weights(fast.get_weights())
    x = tf.random.normal((2, 3, 3, 3), seed=4)
    self.assertAllClose(clone(x), fast(x))

  def test_saved_model_file_round_trip(self):
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, FastConv2DTranspose(5, 4, strides=2, padding="same")(inputs))
    path = self.get_temp_dir() + "/model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = tf.random.normal((2, 4, 4, 3), seed=5)
    self.assertAllClose(loaded(x), model(x))

  def test_checkpoint_interchangeable_with_keras(self):
    reference, fast = _pair(5, 3)
    path = tf.train.Checkpoint(layer=reference).save(self.get_temp_dir() + "/ckpt")
    restored = FastConv2DTranspose(5, 4, strides=2, padding="same")
    restored.build((None, None, None, 3))
    tf.train.Checkpoint(layer=restored).restore(path).assert_consumed()
    self.assertAllEqual(restored.kernel.numpy(), reference.kernel.numpy())
    self.assertAllEqual(restored.bias.numpy(), reference.bias.numpy())


if __name__ == "__main__":
  tf.test.main()
