"""DCGAN frame decoder with skip connections (SVG, DrNET)."""

import keras

from tfgen.layers import common

_NUM_BLOCKS = {64: 4, 128: 5}


@keras.saving.register_keras_serializable(package="tfgen")
class DCGANDecoder(keras.layers.Layer):
  """DCGAN decoder, the mirror of `DCGANEncoder`, with U-Net style skips.

  64x64: transposed conv 4x4 valid to 512 (1 -> 4) -> batch norm -> leaky ReLU; then three
  blocks [concat the matching skip -> transposed conv 4x4 stride 2 -> BN -> leaky ReLU] to
  256, 128, 64; then concat the first skip -> transposed conv 4x4 stride 2 to `channels`
  -> sigmoid. 128x128 adds one block of 512.

  Args:
    channels: int, channels of the output frames (1 grey, 3 RGB).
    image_size: int, 64 or 128.
    base_filters: int, `nf` of the reference (64).
    use_skips: bool, concatenate the encoder's skips (True for SVG and DrNET "unet").
    synchronized_batch_norm: bool, all-reduce batch statistics across replicas.

  Call arguments:
    inputs: `(g, skips)`: `g` is `(batch, input_dim)`; `skips` as returned by the encoder
      (ignored when `use_skips=False`, may then be `None`).
    training: bool, batch-norm mode.

  Returns:
    `(batch, image_size, image_size, channels)` frames in [0, 1].

  References:
    edenton/svg `models/dcgan_64.py`, `models/dcgan_128.py`.
  """

  def __init__(self, channels=1, image_size=64, base_filters=64, use_skips=True,
               synchronized_batch_norm=True, **kwargs):
    super().__init__(**kwargs)
    if image_size not in _NUM_BLOCKS:
      raise ValueError(f"Unknown image_size {image_size!r}; valid: 64, 128.")
    self.channels = channels
    self.image_size = image_size
    self.base_filters = base_filters
    self.use_skips = use_skips
    self.synchronized_batch_norm = synchronized_batch_norm
    num_blocks = _NUM_BLOCKS[image_size]
    # Filters of the encoder's blocks, deepest first: the decoder walks them backwards.
    encoder_filters = [base_filters * min(2**i, 8) for i in range(num_blocks)][::-1]
    self.in_conv = common.conv2d_transpose(encoder_filters[0], 4, padding="valid",
                                           name="in_conv")
    self.in_bn = common.batch_norm(name="in_bn", synchronized=synchronized_batch_norm)
    self.blocks = []
    for i, filters in enumerate(encoder_filters[1:]):
      self.blocks.append([
          common.conv2d_transpose(filters, 4, strides=2, padding="same", name=f"upconv{i + 1}"),
          common.batch_norm(name=f"bn{i + 1}", synchronized=synchronized_batch_norm),
          common.leaky_relu(name=f"lrelu{i + 1}"),
      ])
    self.out_conv = common.conv2d_transpose(channels, 4, strides=2, padding="same",
                                            name="out_conv")

  def build(self, input_shape):
    g_shape = tuple(input_shape[0])
    batch = g_shape[0]
    size = 4
    encoder_filters = [self.base_filters * min(2**i, 8)
                       for i in range(_NUM_BLOCKS[self.image_size])][::-1]
    self.in_conv.build((batch, 1, 1, g_shape[-1]))
    self.in_bn.build((batch, size, size, encoder_filters[0]))
    previous = encoder_filters[0]
    for (conv, bn, _), skip_filters in zip(self.blocks, encoder_filters):
      in_filters = previous + (skip_filters if self.use_skips else 0)
      conv.build((batch, size, size, in_filters))
      size *= 2
      previous = conv.filters
      bn.build((batch, size, size, previous))
    in_filters = previous + (encoder_filters[-1] if self.use_skips else 0)
    self.out_conv.build((batch, size, size, in_filters))
    self.built = True

  def call(self, inputs, training=None):
    g, skips = inputs
    x = keras.ops.reshape(g, (-1, 1, 1, keras.ops.shape(g)[-1]))
    x = keras.ops.leaky_relu(self.in_bn(self.in_conv(x), training=training), negative_slope=0.2)
    deepest_first = list(skips)[::-1] if self.use_skips else None
    for i, (conv, bn, act) in enumerate(self.blocks):
      if self.use_skips:
        x = keras.ops.concatenate([x, deepest_first[i]], axis=-1)  # channels: x then skip
      x = act(bn(conv(x), training=training))
    if self.use_skips:
      x = keras.ops.concatenate([x, deepest_first[-1]], axis=-1)
    return keras.ops.sigmoid(self.out_conv(x))

  def get_config(self):
    config = super().get_config()
    config.update(
        channels=self.channels, image_size=self.image_size, base_filters=self.base_filters,
        use_skips=self.use_skips, synchronized_batch_norm=self.synchronized_batch_norm)
    return config

