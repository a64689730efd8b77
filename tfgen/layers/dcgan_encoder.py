"""DCGAN frame encoder with skip connections (SVG, DrNET content/pose encoders)."""

import keras

from tfgen.layers import common

_NUM_BLOCKS = {64: 4, 128: 5}


@keras.saving.register_keras_serializable(package="tfgen")
class DCGANEncoder(keras.layers.Layer):
  """DCGAN encoder: stride-2 conv blocks, then a 4x4 valid conv to a vector.

  64x64: four blocks [conv 4x4 stride 2 -> batch norm -> leaky ReLU 0.2] with 64, 128, 256,
  512 filters (64 -> 32 -> 16 -> 8 -> 4), then conv 4x4 valid to `output_dim` -> batch
  norm -> tanh. 128x128 adds a fifth block of 512 filters. The block outputs are the skips.

  Args:
    output_dim: int, size of the output vector (`g_dim` in the reference, 128).
    image_size: int, 64 or 128.
    base_filters: int, filters of the first block (`nf`, 64); later blocks double it,
      capped at 8x. Tests shrink it; the reference uses 64.
    final_activation: str, "tanh" (SVG, DrNET content) or "none".
    synchronized_batch_norm: bool, all-reduce batch statistics across replicas.

  Call arguments:
    frames: `(batch, image_size, image_size, channels)` float in [0, 1].
    training: bool, batch-norm mode.

  Returns:
    `(h, skips)`: `h` is `(batch, output_dim)`; `skips` is a list of the block outputs,
    highest resolution first (`(batch, image_size/2, image_size/2, base_filters)`, ...).

  References:
    Radford et al., "Unsupervised representation learning with deep convolutional GANs";
    edenton/svg `models/dcgan_64.py`, `models/dcgan_128.py`.
  """

  def __init__(self, output_dim=128, image_size=64, base_filters=64, final_activation="tanh",
               synchronized_batch_norm=True, **kwargs):
    super().__init__(**kwargs)
    if image_size not in _NUM_BLOCKS:
      raise ValueError(f"Unknown image_size {image_size!r}; valid: 64, 128.")
    if final_activation not in ("tanh", "none"):
      raise ValueError(
          f"Unknown final_activation {final_activation!r}; valid: 'tanh', 'none'.")
    self.output_dim = output_dim
    self.image_size = image_size
    self.base_filters = base_filters
    self.final_activation = final_activation
    self.synchronized_batch_norm = synchronized_batch_norm
    self.blocks = []
    for i in range(_NUM_BLOCKS[image_size]):
      filters = base_filters * min(2**i, 8)
      self.blocks.append([
          common.conv2d(filters, 4, strides=2, padding="same", name=f"conv{i + 1}"),
          common.batch_norm(name=f"bn{i + 1}", synchronized=synchronized_batch_norm),
          common.leaky_relu(name=f"lrelu{i + 1}"),
      ])
    self.out_conv = common.conv2d(output_dim, 4, padding="valid", name="out_conv")
    self.out_bn = common.batch_norm(name="out_bn", synchronized=synchronized_batch_norm)

  def build(self, input_shape):
    shape = tuple(input_shape)
    for conv, bn, _ in self.blocks:
      conv.build(shape)
      shape = conv.compute_output_shape(shape)
      bn.build(shape)
    self.out_conv.build(shape)
    self.out_bn.build(self.out_conv.compute_output_shape(shape))
    self.built = True

  def call(self, frames, training=None):
    x = frames
    skips = []
    for conv, bn, act in self.blocks:
      x = act(bn(conv(x), training=training))
      skips.append(x)
    x = self.out_bn(self.out_conv(x), training=training)  # (batch, 1, 1, output_dim)
    if self.final_activation == "tanh":
      x = keras.ops.tanh(x)
    h = keras.ops.reshape(x, (-1, self.output_dim))
    return h, skips

  def get_config(self):
    config = super().get_config()
    config.update(
        output_dim=self.output_dim, image_size=self.image_size, base_filters=self.base_filters,
        final_activation=self.final_activation,
        synchronized_batch_norm=self.synchronized_batch_norm)
    return config
