"""Tests of `tfgen.layers.dcgan_encoder.DCGANEncoder`."""

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.layers.dcgan_encoder import DCGANEncoder


def _num_trainable(layer):
  return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


class DCGANEncoderTest(tf.test.TestCase, parameterized.TestCase):

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

  def test_config_round_trip(self):
    encoder = DCGANEncoder(output_dim=7, image_size=128, base_filters=3,
                           final_activation="none", synchronized_batch_norm=False)
    clone = DCGANEncoder.from_config(encoder.get_config())
    self.assertEqual(clone.get_config(), encoder.get_config())


if __name__ == "__main__":
  tf.test.main()
