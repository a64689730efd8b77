"""VGG frame encoder with skip connections (SVG on KTH and BAIR)."""

import keras

from tfgen.layers import common

# (filter multiplier of `base_filters`, number of 3x3 convs) of each block, shallowest
# first; 128x128 adds a fifth block of three 8x convs (edenton/svg `vgg_128.py`).
_BLOCKS = {
    64: ((1, 2), (2, 2), (4, 3), (8, 3)),
    128: ((1, 2), (2, 2), (4, 3), (8, 3), (8, 3)),
}


def block_specs(image_size, base_filters):
  """Returns `[(filters, num_convs), ...]` of the encoder blocks, shallowest first.

  Shared with `VGGDecoder`, which mirrors the same blocks deepest first.
  """
  if image_size not in _BLOCKS:
    raise ValueError(f"Unknown image_size {image_size!r}; valid: 64, 128.")
  return [(base_filters * mult, num_convs) for mult, num_convs in _BLOCKS[image_size]]


@keras.saving.register_keras_serializable(package="tfgen")
class VGGEncoder(keras.layers.Layer):
  """VGG encoder: blocks of 3x3 convs with max-pooling, then a 4x4 valid conv to a vector.

  64x64: blocks of [conv 3x3 same -> batch norm -> leaky ReLU 0.2] with filters (64, 64) at
  64x64, (128, 128) at 32x32, (256, 256, 256) at 16x16 and (512, 512, 512) at 8x8, a 2x2
  max-pool after each block (down to 4x4), then conv 4x4 valid to `output_dim` -> batch
  norm -> tanh. 128x128 adds a fifth block of (512, 512, 512). The block outputs, before
  pooling, are the skips.

  Args:
    output_dim: int, size of the output vector (`g_dim` in the reference, 128).
    image_size: int, 64 or 128.
    base_filters: int, filters of the first block (64 in the reference); later blocks use
      2x, 4x, 8x (and 8x) of it. Tests shrink it.
    final_activation: str, "tanh" (SVG) or "none".
    synchronized_batch_norm: bool, all-reduce batch statistics across replicas.

  Call arguments:
    frames: `(batch, image_size, image_size, channels)` float in [0, 1].
    training: bool, batch-norm mode.

  Returns:
    `(h, skips)`: `h` is `(batch, output_dim)`; `skips` is a list of the block outputs,
    highest resolution first: `(batch, image_size, image_size, base_filters)`,
    `(batch, image_size/2, image_size/2, 2 * base_filters)`, ...,
    `(batch, 8, 8, 8 * base_filters)`.

  References:
    Simonyan & Zisserman, "Very deep convolutional networks for large-scale image
    recognition"; edenton/svg `models/vgg_64.py`, `models/vgg_128.py`.
  """

  def __init__(self, output_dim=128, image_size=64, base_filters=64, final_activation="tanh",
               synchronized_batch_norm=True, **kwargs):
    super().__init__(**kwargs)
    specs = block_specs(image_size, base_filters)
    if final_activation not in ("tanh", "none"):
      raise ValueError(
          f"Unknown final_activation {final_activation!r}; valid: 'tanh', 'none'.")
    self.output_dim = output_dim
    self.image_size = image_size
    self.base_filters = base_filters
    self.final_activation = final_activation
    self.synchronized_batch_norm = synchronized_batch_norm
    # self.blocks[i] is the list of [conv, bn, lrelu] layers of block i.
    self.blocks = []
    for i, (filters, num_convs) in enumerate(specs):
      block = []
      for j in range(num_convs):
        block.append([
            common.conv2d(filters, 3, padding="same", name=f"conv{i + 1}_{j + 1}"),
            common.batch_norm(name=f"bn{i + 1}_{j + 1}", synchronized=synchronized_batch_norm),
            common.leaky_relu(name=f"lrelu{i + 1}_{j + 1}"),
        ])
      self.blocks.append(block)
    self.pool = keras.layers.MaxPooling2D(2, name="pool")
    self.out_conv = common.conv2d(output_dim, 4, padding="valid", name="out_conv")
    self.out_bn = common.batch_norm(name="out_bn", synchronized=synchronized_batch_norm)

  def build(self, input_shape):
    shape = tuple(input_shape)
    for block in self.blocks:
      for conv, bn, _ in block:
        conv.build(shape)
        shape = conv.compute_output_shape(shape)
        bn.build(shape)
      shape = self.pool.compute_output_shape(shape)
    self.out_conv.build(shape)
    self.out_bn.build(self.out_conv.compute_output_shape(shape))
    self.built = True

  def call(self, frames, training=None):
    x = frames
    skips = []
    for i, block in enumerate(self.blocks):
      if i > 0:
        x = self.pool(x)  # halves height and width between blocks
      for conv, bn, act in block:
        x = act(bn(conv(x), training=training))
      skips.append(x)
    x = self.pool(x)  # (batch, 4, 4, 8 * base_filters)
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
