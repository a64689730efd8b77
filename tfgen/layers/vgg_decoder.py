"""VGG frame decoder with skip connections (SVG on KTH and BAIR)."""

import keras

from tfgen.layers import common
from tfgen.layers import vgg_encoder


@keras.saving.register_keras_serializable(package="tfgen")
class VGGDecoder(keras.layers.Layer):
  """VGG decoder, the mirror of `VGGEncoder`, with U-Net style skips.

  64x64: transposed conv 4x4 valid from the input vector to 512 (1 -> 4) -> batch norm ->
  leaky ReLU 0.2; then at each scale: nearest-neighbour upsample x2, concat the matching
  skip, and [conv 3x3 same -> BN -> leaky ReLU] layers (1024->512, 512->512, 512->256) at 8,
  (512->256, 256->256, 256->128) at 16, (256->128, 128->64) at 32, (128->64) at 64; then a 3x3
  transposed conv (stride 1) to `channels` -> sigmoid. 128x128 adds a stage of three 512
  convs at 8x8 (edenton/svg `vgg_128.py`). Each stage mirrors an encoder block: as many
  layers as the block has convs, the last of them (the output conv at full size) mapping to
  the filters of the next shallower block.

  Args:
    channels: int, channels of the output frames (1 grey, 3 RGB).
    image_size: int, 64 or 128.
    base_filters: int, `nf` of the encoder (64 in the reference).
    use_skips: bool, concatenate the encoder's skips (True for SVG).
    synchronized_batch_norm: bool, all-reduce batch statistics across replicas.

  Call arguments:
    inputs: `(g, skips)`: `g` is `(batch, input_dim)`; `skips` as returned by
      `VGGEncoder` (ignored when `use_skips=False`, may then be `None`).
    training: bool, batch-norm mode.

  Returns:
    `(batch, image_size, image_size, channels)` frames in [0, 1].

  References:
    edenton/svg `models/vgg_64.py`, `models/vgg_128.py`.
  """

  def __init__(self, channels=1, image_size=64, base_filters=64, use_skips=True,
               synchronized_batch_norm=True, **kwargs):
    super().__init__(**kwargs)
    specs = vgg_encoder.block_specs(image_size, base_filters)
    self.channels = channels
    self.image_size = image_size
    self.base_filters = base_filters
    self.use_skips = use_skips
    self.synchronized_batch_norm = synchronized_batch_norm
    deepest_first = specs[::-1]
    self.in_conv = common.conv2d_transpose(deepest_first[0][0], 4, padding="valid",
                                           name="in_conv")
    self.in_bn = common.batch_norm(name="in_bn", synchronized=synchronized_batch_norm)
    self.in_act = common.leaky_relu(name="in_lrelu")
    self.upsample = keras.layers.UpSampling2D(2, interpolation="nearest", name="upsample")
    # self.stages[i] is the list of [conv, bn, lrelu] layers of the stage mirroring
    # encoder block `deepest_first[i]`; the shallowest stage's last layer is `out_conv`.
    self.stages = []
    for i, (filters, num_convs) in enumerate(deepest_first):
      is_last = i == len(deepest_first) - 1
      stage = []
      for j in range(num_convs - 1 if is_last else num_convs):
        out_filters = deepest_first[i + 1][0] if j == num_convs - 1 else filters
        stage.append([
            common.conv2d(out_filters, 3, padding="same", name=f"conv{i + 1}_{j + 1}"),
            common.batch_norm(name=f"bn{i + 1}_{j + 1}", synchronized=synchronized_batch_norm),
            common.leaky_relu(name=f"lrelu{i + 1}_{j + 1}"),
        ])
      self.stages.append(stage)
    self.out_conv = common.conv2d_transpose(channels, 3, padding="same", name="out_conv")

  def build(self, input_shape):
    g_shape = tuple(input_shape[0])
    batch = g_shape[0]
    deepest_first = vgg_encoder.block_specs(self.image_size, self.base_filters)[::-1]
    size = 4
    self.in_conv.build((batch, 1, 1, g_shape[-1]))
    self.in_bn.build((batch, size, size, deepest_first[0][0]))
    filters = deepest_first[0][0]
    for stage, (skip_filters, _) in zip(self.stages, deepest_first):
      size *= 2
      shape = (batch, size, size, filters + (skip_filters if self.use_skips else 0))
      for conv, bn, _ in stage:
        conv.build(shape)
        shape = conv.compute_output_shape(shape)
        bn.build(shape)
      filters = shape[-1]
    self.out_conv.build(shape)
    self.built = True

  def call(self, inputs, training=None):
    g, skips = inputs
    x = keras.ops.reshape(g, (-1, 1, 1, keras.ops.shape(g)[-1]))
    x = self.in_act(self.in_bn(self.in_conv(x), training=training))  # (batch, 4, 4, 8 nf)
    deepest_first = list(skips)[::-1] if self.use_skips else None
    for i, stage in enumerate(self.stages):
      x = self.upsample(x)  # doubles height and width to the skip's size
      if self.use_skips:
        x = keras.ops.concatenate([x, deepest_first[i]], axis=-1)  # channels: x then skip
      for conv, bn, act in stage:
        x = act(bn(conv(x), training=training))
    return keras.ops.sigmoid(self.out_conv(x))

  def get_config(self):
    config = super().get_config()
    config.update(
        channels=self.channels, image_size=self.image_size, base_filters=self.base_filters,
        use_skips=self.use_skips, synchronized_batch_norm=self.synchronized_batch_norm)
    return config
