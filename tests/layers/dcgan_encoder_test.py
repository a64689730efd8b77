"""Tests of `tfgen.layers.dcgan_encoder.DCGANEncoder`."""

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers import common
from tfgen.layers.dcgan_encoder import DCGANEncoder
from tfgen.layers.fast_conv import FastConv2D


def _num_trainable(layer):
  return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


class DCGANEncoderTest(test_case.TestCase):

  @parameterized.named_parameters(
      # SPEC.md §1.1 table: SM-MNIST (DCGAN-64, g_dim 128, c 1).
      ("smmnist_64", 64, 1, 3_805_376),
      # Not in the SPEC table; measured on edenton/svg `dcgan_128.py`'s architecture.
      ("grey_128", 128, 1, 8_001_216),
  )
  def test_trainable_parameter_count(self, image_size, channels, expected):
    encoder = DCGANEncoder(output_dim=128, image_size=image_size)
    encoder.build((None, image_size, image_size, channels))
    self.assertEqual(_num_trainable(encoder), expected)

  @parameterized.named_parameters(("64", 64, 4), ("128", 128, 5))
  def test_output_and_skip_shapes(self, image_size, num_skips):
    base_filters, output_dim, batch, channels = 2, 5, 3, 1
    encoder = DCGANEncoder(output_dim=output_dim, image_size=image_size,
                           base_filters=base_filters)
    frames = tf.random.uniform((batch, image_size, image_size, channels))
    h, skips = encoder(frames, training=True)
    self.assertEqual(h.shape, (batch, output_dim))
    self.assertAllInRange(h, -1.0, 1.0)
    multipliers = [1, 2, 4, 8, 8][:num_skips]
    expected = [(batch, image_size // 2**(i + 1), image_size // 2**(i + 1), base_filters * m)
                for i, m in enumerate(multipliers)]
    self.assertEqual([tuple(s.shape) for s in skips], expected)

  @parameterized.named_parameters(("eager", False), ("xla", True))
  def test_fast_convolutions_compute_what_keras_computes(self, jit_compile):
    # The downsampling convs are `FastConv2D`s (space-to-depth under XLA); with the weights
    # of an encoder built from Keras's `Conv2D` they give the same outputs, skips and
    # gradients.
    fast = DCGANEncoder(output_dim=6, base_filters=4)
    with common.keras_layers():
      reference = DCGANEncoder(output_dim=6, base_filters=4)
    self.assertTrue(all(isinstance(conv, FastConv2D) for conv, _, _ in fast.blocks))
    self.assertFalse(any(isinstance(conv, FastConv2D) for conv, _, _ in reference.blocks))
    frames = tf.random.stateless_uniform((3, 64, 64, 1), seed=(1, 2))
    fast.build(frames.shape)
    reference.build(frames.shape)
    reference.set_weights(fast.get_weights())

    def run(encoder):
      def step(x):
        with tf.GradientTape() as tape:
          tape.watch(x)
          h, skips = encoder(x, training=True)
          loss = tf.reduce_sum(h**2) + sum(tf.reduce_mean(s**2) for s in skips)
        return (h, skips), tape.gradient(loss, [x] + encoder.trainable_variables)
      return tf.function(step, jit_compile=jit_compile)(frames)

    (h_fast, skips_fast), grads_fast = run(fast)
    (h_ref, skips_ref), grads_ref = run(reference)
    # Tolerances (test_case.float_tolerance): every value here depends on the first batch
    # norm's reduction over batch x 32 x 32 positions, the longest in the network.
    n = 3 * 32 * 32
    self.assertCloseForAccumulation(h_fast, h_ref, n, msg="h")
    for i, (s_fast, s_ref) in enumerate(zip(skips_fast, skips_ref)):
      self.assertCloseForAccumulation(s_fast, s_ref, n, msg=f"skip {i}")
    names = ["input"] + [v.path for v in reference.trainable_variables]
    grads_ref = dict(zip(names, grads_ref))
    for name, g_fast in zip(names, grads_fast):
      scale = None
      if name.endswith("/bias"):
        # A conv bias feeding a batch norm has a true gradient of 0 (the batch mean removes
        # it): what remains is rounding of terms as large as the batch norm's input
        # gradient, whose sum is that batch norm's beta gradient.
        prefix, conv, _ = name.rsplit("/", 2)  # ".../conv2/bias" -> ".../bn2/beta".
        beta = f"{prefix}/{conv.replace('conv', 'bn')}/beta"
        scale = float(np.max(np.abs(grads_ref[beta])))
      self.assertCloseForAccumulation(g_fast, grads_ref[name], n, scale=scale, msg=name)

  def test_config_round_trip(self):
    encoder = DCGANEncoder(output_dim=7, image_size=128, base_filters=3,
                           final_activation="none", synchronized_batch_norm=False)
    clone = DCGANEncoder.from_config(encoder.get_config())
    self.assertEqual(clone.get_config(), encoder.get_config())


if __name__ == "__main__":
  tf.test.main()
