"""Tests of `tfgen.layers.resnet_encoder.ResNetEncoder`."""

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers.resnet_encoder import ResNetEncoder


class ResNetEncoderTest(test_case.TestCase):

  @test_case.parameterized.named_parameters(
      # DRNET_FACTS.md §3, netEP of the KTH rows (pose_dim 5), measured on drnet-py's
      # `models/resnet_64.py` / `resnet_128.py` (the 128 one has a fifth, 1024-filter stage).
      ("kth64_rgb", 64, 3, 11_199_759),
      ("kth64_grey", 64, 1, 11_196_559),
      ("kth128_rgb", 128, 3, 44_792_591),
      ("kth128_grey", 128, 1, 44_789_391),
  )
  def test_trainable_parameter_count(self, image_size, channels, expected):
    encoder = ResNetEncoder(output_dim=5, image_size=image_size)
    encoder.build((None, image_size, image_size, channels))
    self.assertEqual(test_case.count_parameters(encoder), expected)

  @test_case.parameterized.named_parameters(
      # torch: conv 5x5 s2 p3 (64 -> 33), max-pool 3 s2 p1 (-> 17), stages at 17, 9, 5, 3.
      ("64", 64, [17, 9, 5, 3], [1, 2, 4, 8]),
      ("128", 128, [33, 17, 9, 5, 3], [1, 2, 4, 8, 16]),
  )
  def test_output_and_stage_shapes(self, image_size, sizes, multipliers):
    batch, channels, base_filters, output_dim = 3, 2, 2, 5
    encoder = ResNetEncoder(output_dim=output_dim, image_size=image_size,
                            base_filters=base_filters)
    frames = tf.random.stateless_uniform((batch, image_size, image_size, channels), (1, 2))
    h, skips = encoder(frames, training=True)
    self.assertEqual(h.shape, (batch, output_dim))
    self.assertAllInRange(h, -1.0, 1.0)
    self.assertEqual([tuple(s.shape) for s in skips],
                     [(batch, s, s, base_filters * m) for s, m in zip(sizes, multipliers)])

  def test_projection_shortcuts_only_where_shape_changes(self):
    encoder = ResNetEncoder(output_dim=5, image_size=64, base_filters=2)
    projections = [[block.project for block in stage] for stage in encoder.stages]
    self.assertEqual(projections, [[False, False], [True, False], [True, False],
                                   [True, False]])
    strides = [[block.strides for block in stage] for stage in encoder.stages]
    self.assertEqual(strides, [[1, 1], [2, 1], [2, 1], [2, 1]])

  def test_block_adds_its_shortcut(self):
    # With the residual branch zeroed (conv2 and bn2's beta 0, inference-mode batch norm),
    # an identity block returns relu(x): its input passes through the shortcut.
    encoder = ResNetEncoder(output_dim=5, image_size=64, base_filters=3)
    encoder.build((None, 64, 64, 1))
    block = encoder.stages[0][1]
    block.conv2.kernel.assign(tf.zeros_like(block.conv2.kernel))
    block.conv2.bias.assign(tf.zeros_like(block.conv2.bias))
    block.bn2.beta.assign(tf.zeros_like(block.bn2.beta))
    x = tf.random.stateless_normal((2, 17, 17, 3), (3, 4))
    self.assertAllClose(block(x, training=False), tf.nn.relu(x), atol=1e-6)

  def test_initialisation_as_reference(self):
    # drnet-py overwrites the ResNet's He init with N(0, 0.02): conv kernels and BN gamma.
    encoder = ResNetEncoder(output_dim=5, image_size=64)
    encoder.build((None, 64, 64, 1))
    kernel = encoder.stages[2][0].conv2.kernel
    self.assertAllClose(np.std(kernel), 0.02, atol=1e-3)
    self.assertAllEqual(encoder.stages[2][0].conv2.bias, np.zeros(256))
    self.assertAllClose(np.mean(encoder.stages[3][1].bn1.gamma), 1.0, atol=5e-3)

  def test_config_round_trip(self):
    encoder = ResNetEncoder(output_dim=7, image_size=128, base_filters=3, blocks_per_stage=1,
                            final_activation="none", synchronized_batch_norm=False)
    self.run_config_round_trip(encoder)
    self.run_serialization_round_trip(encoder)

  def test_bad_options_raise(self):
    with self.assertRaisesRegex(ValueError, "image_size 96.*64, 128"):
      ResNetEncoder(image_size=96)
    with self.assertRaisesRegex(ValueError, "final_activation 'relu'.*'tanh', 'none'"):
      ResNetEncoder(final_activation="relu")


if __name__ == "__main__":
  tf.test.main()
