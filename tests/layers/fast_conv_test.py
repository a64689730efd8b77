"""Tests of `tfgen.layers.fast_conv.FastConv2D`."""

from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers import fast_conv
from tfgen.layers.fast_conv import FastConv2D


def _pair(filters, in_channels, seed=0, **kwargs):
  """A Keras `Conv2D` and a `FastConv2D` with the same weights."""
  init = keras.initializers.RandomNormal(stddev=0.1, seed=seed)
  bias_init = keras.initializers.RandomNormal(stddev=0.1, seed=seed + 1)
  kwargs.setdefault("kernel_size", 4)
  kwargs.setdefault("strides", 2)
  kwargs.setdefault("padding", "same")
  formulation = kwargs.pop("formulation", "s2d")
  reference = keras.layers.Conv2D(
      filters, kernel_initializer=init, bias_initializer=bias_init, **kwargs)
  fast = FastConv2D(filters, kernel_initializer=init, bias_initializer=bias_init,
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


class FastConv2DTest(test_case.TestCase):

  @parameterized.product(
      formulation=fast_conv.FORMULATIONS,
      shape=[(2, 8, 8, 8, 5), (3, 6, 10, 1, 3), (1, 4, 2, 16, 4)],
      jit_compile=[False, True])
  def test_matches_keras(self, formulation, shape, jit_compile):
    batch, h, w, in_channels, filters = shape
    reference, fast = _pair(filters, in_channels, seed=sum(shape), formulation=formulation)
    rng = np.random.default_rng(sum(shape))
    x = tf.constant(rng.normal(size=(batch, h, w, in_channels)), tf.float32)
    dy = tf.constant(rng.normal(size=(batch, h // 2, w // 2, filters)), tf.float32)
    expected = _outputs_and_gradients(reference, x, dy)
    actual = _outputs_and_gradients(fast, x, dy, jit_compile=jit_compile)
    self.assertEqual(actual[0].shape, (batch, h // 2, w // 2, filters))
    # The longest sums: the kernel's gradient over batch x output positions, an output
    # over 4 x 4 x in_channels, an input gradient over 4 x 4 x filters.
    n = max(batch * (h // 2) * (w // 2), 16 * in_channels, 16 * filters)
    for name, a, e in zip(("output", "d_input", "d_kernel", "d_bias"), actual, expected):
      self.assertCloseForAccumulation(a, e, n, msg=name)

  @parameterized.named_parameters(("graph", False, False), ("xla", True, True))
  def test_auto_uses_space_to_depth_only_under_xla(self, jit_compile, expect_s2d):
    _, fast = _pair(5, 3, formulation="auto")
    fn = tf.function(lambda x: fast(x), jit_compile=jit_compile)  # pylint: disable=unnecessary-lambda
    graph = fn.get_concrete_function(tf.TensorSpec((2, 8, 8, 3), tf.float32)).graph
    op_types = {op.type for op in graph.get_operations()}
    self.assertEqual("SpaceToDepth" in op_types, expect_s2d, sorted(op_types))
    self.assertFalse(fast_conv.in_xla_context())

  @parameterized.parameters(*[(f,) for f in fast_conv.FORMULATIONS])
  def test_mixed_bfloat16_close_to_keras(self, formulation):
    reference, fast = _pair(6, 8, formulation=formulation, dtype="mixed_bfloat16")
    x = tf.random.normal((2, 8, 8, 8), seed=1)
    y_ref, y_fast = reference(x), fast(x)
    self.assertEqual(y_fast.dtype, tf.bfloat16)
    self.assertLess(_relative_error(tf.cast(y_fast, tf.float32).numpy(),
                                    tf.cast(y_ref, tf.float32).numpy()), 3e-2)

  @parameterized.named_parameters(
      ("valid_4x4_input", dict(kernel_size=4, strides=1, padding="valid"), (2, 4, 4, 6)),
      ("kernel3_stride1", dict(kernel_size=3, strides=1, padding="same"), (2, 5, 5, 6)),
      ("kernel4_stride2_valid", dict(kernel_size=4, strides=2, padding="valid"), (2, 8, 8, 6)),
      ("kernel3_stride2_same", dict(kernel_size=3, strides=2, padding="same"), (2, 6, 6, 6)),
  )
  def test_other_configurations_fall_back_to_keras(self, kwargs, shape):
    reference, fast = _pair(3, shape[-1], **kwargs)
    self.assertFalse(fast.is_fast)
    x = tf.random.normal(shape, seed=2)
    dy = tf.random.normal(reference.compute_output_shape(shape), seed=3)
    for a, e in zip(_outputs_and_gradients(fast, x, dy), _outputs_and_gradients(reference, x, dy)):
      self.assertAllClose(a, e, rtol=1e-5, atol=1e-6)

  def test_odd_input_falls_back_to_keras(self):
    reference, fast = _pair(3, 2)
    self.assertTrue(fast.is_fast)
    x = tf.random.normal((2, 7, 5, 2), seed=2)
    dy = tf.random.normal((2, 4, 3, 3), seed=3)
    for a, e in zip(_outputs_and_gradients(fast, x, dy), _outputs_and_gradients(reference, x, dy)):
      self.assertAllClose(a, e, rtol=1e-5, atol=1e-6)

  def test_same_variables_as_keras(self):
    reference, fast = _pair(512, 256)
    self.assertTrue(fast.is_fast)
    self.assertEqual([(v.path.split("/")[-1], tuple(v.shape)) for v in fast.weights],
                     [(v.path.split("/")[-1], tuple(v.shape)) for v in reference.weights])
    self.assertEqual([v.name for v in fast.weights], ["kernel", "bias"])
    self.assertEqual(fast.count_params(), reference.count_params())
    self.assertEqual(fast.count_params(), 4 * 4 * 256 * 512 + 512)

  def test_initializers_are_used(self):
    init = keras.initializers.RandomNormal(stddev=0.02, seed=7)
    reference = keras.layers.Conv2D(8, 4, strides=2, padding="same",
                                             kernel_initializer=init)
    fast = FastConv2D(8, 4, strides=2, padding="same", kernel_initializer=init)
    reference.build((None, 8, 8, 16))
    fast.build((None, 8, 8, 16))
    self.assertAllEqual(fast.kernel.numpy(), reference.kernel.numpy())
    self.assertAllEqual(fast.bias.numpy(), np.zeros(8))

  def test_get_config_round_trip(self):
    fast = FastConv2D(8, 4, strides=2, padding="same", formulation="reference",
                               name="conv", activation="relu")
    config = fast.get_config()
    self.assertEqual(config["formulation"], "reference")
    clone = FastConv2D.from_config(config)
    self.assertEqual(clone.get_config(), config)
    keras_config = {k: v for k, v in config.items() if k != "formulation"}
    self.assertEqual(keras.layers.Conv2D.from_config(keras_config).get_config(),
                     keras_config)

  def test_unknown_formulation_raises(self):
    with self.assertRaisesRegex(ValueError, "formulation"):
      FastConv2D(8, 4, strides=2, padding="same", formulation="fft")

  def test_serialization_round_trip(self):
    _, fast = _pair(5, 3, name="conv")
    serialized = keras.saving.serialize_keras_object(fast)
    self.assertEqual(serialized["registered_name"], "tfgen>FastConv2D")
    clone = keras.saving.deserialize_keras_object(serialized)
    self.assertIsInstance(clone, FastConv2D)
    clone.set_weights(fast.get_weights())
    x = tf.random.normal((2, 6, 6, 3), seed=4)
    self.assertAllClose(clone(x), fast(x))

  def test_saved_model_file_round_trip(self):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, FastConv2D(5, 4, strides=2, padding="same")(inputs))
    path = self.get_temp_dir() + "/model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = tf.random.normal((2, 8, 8, 3), seed=5)
    self.assertAllClose(loaded(x), model(x))

  def test_checkpoint_interchangeable_with_keras(self):
    reference, fast = _pair(5, 3)
    path = tf.train.Checkpoint(layer=reference).save(self.get_temp_dir() + "/ckpt")
    restored = FastConv2D(5, 4, strides=2, padding="same")
    restored.build((None, None, None, 3))
    tf.train.Checkpoint(layer=restored).restore(path).assert_consumed()
    self.assertAllEqual(restored.kernel.numpy(), reference.kernel.numpy())
    self.assertAllEqual(restored.bias.numpy(), reference.bias.numpy())


if __name__ == "__main__":
  tf.test.main()
