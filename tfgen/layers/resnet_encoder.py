"""ResNet frame encoder (DrNET pose encoder on KTH, NORB, SUNCG)."""

import keras

from tfgen.layers import common

# Filter multipliers of `base_filters` per stage, shallowest first. drnet-py's 128x128
# network adds a fifth stage of 16x (1024) filters (`models/resnet_128.py` `layer5`).
_STAGES = {64: (1, 2, 4, 8), 128: (1, 2, 4, 8, 16)}


class _BasicBlock(keras.layers.Layer):
  """ResNet basic block: conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN, + shortcut, ReLU.

  Every convolution has a bias (drnet-py's `conv3x3` keeps `nn.Conv2d`'s default, unlike
  torchvision). The shortcut is conv 1x1 with the block's stride -> BN when the stride or
  the channels change, else the identity.

  Args:
    filters: int, output channels.
    strides: int, stride of the first conv and of the shortcut.
    project: bool, use the projection shortcut.
    synchronized_batch_norm: bool, all-reduce batch statistics across replicas.
  """

  def __init__(self, filters, strides=1, project=False, synchronized_batch_norm=True,
               **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.strides = strides
    self.project = project
    self.synchronized_batch_norm = synchronized_batch_norm
    # "same" padding at odd sizes (17, 9, 5 at 64x64) pads 1 on each side for stride 1
    # and 2 alike: torch's `padding=1`.
    self.conv1 = common.conv2d(filters, 3, strides=strides, padding="same", name="conv1")
    self.bn1 = common.batch_norm(name="bn1", synchronized=synchronized_batch_norm)
    self.conv2 = common.conv2d(filters, 3, padding="same", name="conv2")
    self.bn2 = common.batch_norm(name="bn2", synchronized=synchronized_batch_norm)
    self.shortcut_conv = None
    self.shortcut_bn = None
    if project:
      self.shortcut_conv = common.conv2d(filters, 1, strides=strides, padding="valid",
                                         name="shortcut_conv")
      self.shortcut_bn = common.batch_norm(name="shortcut_bn",
                                           synchronized=synchronized_batch_norm)

  def build(self, input_shape):
    shape = tuple(input_shape)
    self.conv1.build(shape)
    out_shape = self.conv1.compute_output_shape(shape)
    self.bn1.build(out_shape)
    self.conv2.build(out_shape)
    self.bn2.build(out_shape)
    if self.project:
      self.shortcut_conv.build(shape)
      self.shortcut_bn.build(self.shortcut_conv.compute_output_shape(shape))
    self.built = True

  def compute_output_shape(self, input_shape):
    return self.conv1.compute_output_shape(tuple(input_shape))

  def call(self, x, training=None):
    y = keras.ops.relu(self.bn1(self.conv1(x), training=training))
    y = self.bn2(self.conv2(y), training=training)
    shortcut = x
    if self.project:
      shortcut = self.shortcut_bn(self.shortcut_conv(x), training=training)
    return keras.ops.relu(y + shortcut)


@keras.saving.register_keras_serializable(package="tfgen")
class ResNetEncoder(keras.layers.Layer):
  """drnet-py's "ResNet-18" encoder: a ResNet stem, stages of basic blocks, a 3x3 valid conv.

  64x64: conv 5x5 stride 2 pad 3 (64 filters) -> BN -> ReLU -> max-pool 3 stride 2 pad 1
  (64 -> 33 -> 17); stages of `blocks_per_stage` basic blocks with 64, 128, 256, 512
  filters, the first block of stages 2.. with stride 2 and a projection shortcut
  (17 -> 17 -> 9 -> 5 -> 3); conv 3x3 valid to `output_dim` (3 -> 1) -> BN -> tanh.
  128x128 has a fifth stage of 1024 filters (128 -> 65 -> 33 -> 33 -> 17 -> 9 -> 5 -> 3):
  44.8M parameters, not an ImageNet ResNet-18's 11M (DRNET_FACTS §2).

  Every convolution has a bias; the initialisation is the reference's N(0, 0.02) (drnet-py
  overwrites the ResNet's own He initialisation with `init_weights`).

  Args:
    output_dim: int, size of the output vector (`pose_dim` in drnet-py; 5 KTH, 10 NORB).
    image_size: int, 64 or 128 (`--image_width`).
    base_filters: int, filters of the stem and the first stage (64); stage i has
      `base_filters * 2**i`. Tests shrink it.
    blocks_per_stage: int, basic blocks per stage (2 in drnet-py).
    final_activation: str, "tanh" (drnet-py) or "none".
    synchronized_batch_norm: bool, all-reduce batch statistics across replicas.

  Call arguments:
    frames: `(batch, image_size, image_size, channels)` float in [0, 1].
    training: bool, batch-norm mode.

  Returns:
    `(h, skips)`, the contract of the other tfgen encoders: `h` is `(batch, output_dim)`;
    `skips` is the list of stage outputs, highest resolution first
    (`(batch, 17, 17, base_filters)`, `(batch, 9, 9, 2 * base_filters)`, ... at 64x64).
    The DrNET pose encoder uses `h` only.

  References:
    He et al., "Deep residual learning for image recognition", CVPR 2016;
    edenton/drnet-py `models/resnet_64.py`, `models/resnet_128.py`.
  """

  def __init__(self, output_dim=5, image_size=64, base_filters=64, blocks_per_stage=2,
               final_activation="tanh", synchronized_batch_norm=True, **kwargs):
    super().__init__(**kwargs)
    if image_size not in _STAGES:
      raise ValueError(f"Unknown image_size {image_size!r}; valid: 64, 128.")
    if final_activation not in ("tanh", "none"):
      raise ValueError(
          f"Unknown final_activation {final_activation!r}; valid: 'tanh', 'none'.")
    self.output_dim = output_dim
    self.image_size = image_size
    self.base_filters = base_filters
    self.blocks_per_stage = blocks_per_stage
    self.final_activation = final_activation
    self.synchronized_batch_norm = synchronized_batch_norm
    # torch pads 3 on each side before the 5x5 stride-2 conv: 64 -> 33, 128 -> 65 (a
    # "same" conv would give 32 and 64).
    self.in_pad = keras.layers.ZeroPadding2D(3, name="in_pad")
    self.in_conv = common.conv2d(base_filters, 5, strides=2, padding="valid", name="in_conv")
    self.in_bn = common.batch_norm(name="in_bn", synchronized=synchronized_batch_norm)
    # Max-pool 3 stride 2 pad 1 of an odd size: "same" pads 1 on each side and ignores the
    # padding, as torch's -inf padding does (33 -> 17, 65 -> 33).
    self.pool = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool")
    self.stages = []
    in_filters = base_filters
    for i, multiplier in enumerate(_STAGES[image_size]):
      filters = base_filters * multiplier
      stage = []
      for j in range(blocks_per_stage):
        strides = 2 if (i > 0 and j == 0) else 1
        project = j == 0 and (strides != 1 or in_filters != filters)
        stage.append(_BasicBlock(filters, strides=strides, project=project,
                                 synchronized_batch_norm=synchronized_batch_norm,
                                 name=f"stage{i + 1}_block{j + 1}"))
        in_filters = filters
      self.stages.append(stage)
    self.out_conv = common.conv2d(output_dim, 3, padding="valid", name="out_conv")
    self.out_bn = common.batch_norm(name="out_bn", synchronized=synchronized_batch_norm)

  def build(self, input_shape):
    shape = self.in_pad.compute_output_shape(tuple(input_shape))
    self.in_conv.build(shape)
    shape = self.in_conv.compute_output_shape(shape)
    self.in_bn.build(shape)
    shape = self.pool.compute_output_shape(shape)
    for stage in self.stages:
      for block in stage:
        block.build(shape)
        shape = block.compute_output_shape(shape)
    self.out_conv.build(shape)
    self.out_bn.build(self.out_conv.compute_output_shape(shape))
    self.built = True

  def call(self, frames, training=None):
    x = self.in_conv(self.in_pad(frames))  # (batch, 33, 33, nf) at 64x64
    x = self.pool(keras.ops.relu(self.in_bn(x, training=training)))  # (batch, 17, 17, nf)
    skips = []
    for stage in self.stages:
      for block in stage:
        x = block(x, training=training)
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
        blocks_per_stage=self.blocks_per_stage, final_activation=self.final_activation,
        synchronized_batch_norm=self.synchronized_batch_norm)
    return config
