"""Tests of `tfgen.layers.vgg_decoder.VGGDecoder`."""

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.layers.vgg_decoder import VGGDecoder
from tfgen.layers.vgg_encoder import VGGEncoder


def _num_trainable(layer):
  return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


def _skip_shapes(image_size, base_filters, batch=None):
  multipliers = [1, 2, 4, 8] + ([8] if image_size == 128 else [])
  return [(batch, image_size // 2**i, image_size // 2**i, base_filters * m)
          for i, m in enumerate(multipliers)]


class VGGDecoderTest(tf.test.TestCase, parameterized.TestCase):

  @parameterized.named_parameters(
      # SPEC.md §1.1 table: KTH (c 1) and BAIR (c 3), g_dim 128.
      ("kth_64", 64, 1, 11_821_505),
      ("bair_64", 64, 3, 11_822_659),
      # Not in the SPEC table; measured on edenton/svg `vgg_128.py`'s architecture.
      ("kth_128", 128, 1, 21_263_297),
      ("bair_128", 128, 3, 21_264_451),
  )
  def test_trainable_parameter_count(self, image_size, channels, expected):
    decoder = VGGDecoder(channels=channels, image_size=image_size)
    decoder.build(((None, 128), _skip_shapes(image_size, 64)))
    self.assertEqual(_num_trainable(decoder), expected)

  @parameterized.named_parameters(("64_grey", 64, 1), ("128_rgb", 128, 3))
  def test_round_trip_shapes(self, image_size, channels):
    base_filters, output_dim, batch = 2, 5, 3
    encoder = VGGEncoder(output_dim=output_dim, image_size=image_size, base_filters=base_filters)
    decoder = VGGDecoder(channels=channels, image_size=image_size, base_filters=base_filters)
    frames = tf.random.uniform((batch, image_size, image_size, channels))
    h, skips = encoder(frames)
    out = decoder((h, skips), training=True)
    self.assertEqual(out.shape, (batch, image_size, image_size, channels))
    self.assertEqual(out.dtype, tf.float32)
    self.assertAllInRange(out, 0.0, 1.0)

  def test_without_skips(self):
    decoder = VGGDecoder(channels=2, image_size=64, base_filters=2, use_skips=False)
    out = decoder((tf.zeros((3, 5)), None))
    self.assertEqual(out.shape, (3, 64, 64, 2))

  def test_config_round_trip(self):
    decoder = VGGDecoder(channels=3, image_size=128, base_filters=3, use_skips=False,
                         synchronized_batch_norm=False)
    clone = VGGDecoder.from_config(decoder.get_config())
    self.assertEqual(clone.get_config(), decoder.get_config())

  def test_bad_image_size_raises(self):
    with self.assertRaisesRegex(ValueError, "image_size 96"):
      VGGDecoder(image_size=96)


if __name__ == "__main__":
  tf.test.main()
