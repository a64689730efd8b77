"""Tests of `tfgen.layers.dcgan_decoder.DCGANDecoder`."""

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.layers.dcgan_decoder import DCGANDecoder
from tfgen.layers.dcgan_encoder import DCGANEncoder


def _num_trainable(layer):
  return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


def _skip_shapes(image_size, base_filters, batch=None):
  multipliers = [1, 2, 4, 8] + ([8] if image_size == 128 else [])
  return [(batch, image_size // 2**(i + 1), image_size // 2**(i + 1), base_filters * m)
          for i, m in enumerate(multipliers)]


class DCGANDecoderTest(tf.test.TestCase, parameterized.TestCase):

  @parameterized.named_parameters(
      # SPEC.md §1.1 table: SM-MNIST (DCGAN-64, g_dim 128, c 1).
      ("smmnist_64", 64, 1, 6_558_529),
      # Not in the SPEC table; measured on edenton/svg `dcgan_128.py`'s architecture.
      ("grey_128", 128, 1, 14_948_673),
  )
  def test_trainable_parameter_count(self, image_size, channels, expected):
    decoder = DCGANDecoder(channels=channels, image_size=image_size)
    decoder.build(((None, 128), _skip_shapes(image_size, 64)))
    self.assertEqual(_num_trainable(decoder), expected)

  @parameterized.named_parameters(("64_grey", 64, 1), ("128_rgb", 128, 3))
  def test_round_trip_shapes(self, image_size, channels):
    base_filters, output_dim, batch = 2, 5, 3
    encoder = DCGANEncoder(output_dim=output_dim, image_size=image_size,
                           base_filters=base_filters)
    decoder = DCGANDecoder(channels=channels, image_size=image_size, base_filters=base_filters)
    h, skips = encoder(tf.random.uniform((batch, image_size, image_size, channels)))
    out = decoder((h, skips), training=True)
    self.assertEqual(out.shape, (batch, image_size, image_size, channels))
    self.assertAllInRange(out, 0.0, 1.0)

  def test_config_round_trip(self):
    decoder = DCGANDecoder(channels=3, image_size=128, base_filters=3, use_skips=False,
                           synchronized_batch_norm=False)
    clone = DCGANDecoder.from_config(decoder.get_config())
    self.assertEqual(clone.get_config(), decoder.get_config())


if __name__ == "__main__":
  tf.test.main()
