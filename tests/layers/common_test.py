"""Tests of `tfgen.layers.common`'s layer factories."""

import keras
import tensorflow as tf

from tfgen.layers import common
from tfgen.layers.fast_conv import FastConv2D
from tfgen.layers.fast_conv_transpose import FastConv2DTranspose


class FactoriesTest(tf.test.TestCase):

  def test_dcgan_shapes_build_the_fast_layers(self):
    self.assertIsInstance(common.conv2d(4, 4, strides=2), FastConv2D)
    self.assertIsInstance(common.conv2d_transpose(4, 4, strides=2), FastConv2DTranspose)
    self.assertNotIsInstance(common.conv2d(4, 3), FastConv2D)  # Other shapes: Keras.

  def test_keras_layers_builds_keras_own_layers_and_restores(self):
    with common.keras_layers():
      conv = common.conv2d(4, 4, strides=2)
      transpose = common.conv2d_transpose(4, 4, strides=2)
    self.assertIs(type(conv), keras.layers.Conv2D)
    self.assertIs(type(transpose), keras.layers.Conv2DTranspose)
    self.assertIsInstance(common.conv2d(4, 4, strides=2), FastConv2D)


if __name__ == "__main__":
  tf.test.main()
