"""Tests of `tfgen.layers.vgg_encoder.VGGEncoder`."""

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.layers.vgg_encoder import VGGEncoder


def _num_trainable(layer):
  return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


class VGGEncoderTest(tf.test.TestCase, parameterized.TestCase):

  @parameterized.named_parameters(
      # SPEC.md §1.1 table: KTH (c 1) and BAIR (c 3), g_dim 128.
      ("kth_64", 64, 1, 8_688_448),
      ("bair_64", 64, 3, 8_689_600),
      # Not in the SPEC table; measured on edenton/svg `vgg_128.py`'s architecture: the 64
      # counts plus one block of three 512 convs (3 x (3*3*512*512 + 512 + 2*512)).
      ("kth_128", 128, 1, 15_770_944),
      ("bair_128", 128, 3, 15_772_096),
  )
  def test_trainable_parameter_count(self, image_size, channels, expected):
    encoder = VGGEncoder(output_dim=128, image_size=image_size)
    encoder.build((None, image_size, image_size, channels))
    self.assertEqual(_num_trainable(encoder), expected)

  @parameterized.named_parameters(("64", 64, 4), ("128", 128, 5))
  def test_output_and_skip_shapes(self, image_size, num_skips):
    base_filters, output_dim, batch, channels = 2, 5, 3, 1
    encoder = VGGEncoder(output_dim=output_dim, image_size=image_size, base_filters=base_filters)
    frames = tf.random.uniform((batch, image_size, image_size, channels))
    h, skips = encoder(frames, training=True)
    self.assertEqual(h.shape, (batch, output_dim))
    self.assertEqual(h.dtype, tf.float32)
    self.assertAllInRange(h, -1.0, 1.0)
    multipliers = [1, 2, 4, 8, 8][:num_skips]
    expected = [(batch, image_size // 2**i, image_size // 2**i, base_filters * m)
                for i, m in enumerate(multipliers)]
    self.assertEqual([tuple(s.shape) for s in skips], expected)

  def test_config_round_trip(self):
    encoder = VGGEncoder(output_dim=7, image_size=128, base_filters=3, final_activation="none",
                         synchronized_batch_norm=False)
    clone = VGGEncoder.from_config(encoder.get_config())
    self.assertEqual(clone.get_config(), encoder.get_config())

  def test_bad_options_raise(self):
    with self.assertRaisesRegex(ValueError, "image_size 32"):
      VGGEncoder(image_size=32)
    with self.assertRaisesRegex(ValueError, "final_activation 'relu'"):
      VGGEncoder(final_activation="relu")


if __name__ == "__main__":
  tf.test.main()
