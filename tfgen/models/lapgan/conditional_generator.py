"""G_k of a conditional LAPGAN level: noise plane, (label plane,) low-pass -> residual."""

import keras
from keras import ops

from tfgen.layers import torch_defaults
from tfgen.layers.feature_lp_pooling import FeatureLPPooling
from tfgen.layers.label_plane import LabelPlane

ARCHITECTURES = ("cifar", "lsun")
# LSUN "large" G (lsun/model.lua:52-92): (kernel, filters, groups) per convolution.
_LSUN_CONVS = ((7, 64, 1), (7, 368, 4), (7, 128, 4), (5, 224, 2))


def _affine_free_batch_norm(name):
  # Torch SpatialBatchNormalization(n, nil, nil, false): no gamma / beta, momentum 0.1.
  return keras.layers.BatchNormalization(center=False, scale=False, momentum=0.9,
                                         epsilon=1e-5, name=name)


@keras.saving.register_keras_serializable(package="tfgen")
class ConditionalGenerator(keras.layers.Layer):
  """The generator of a conditional level: the residual h~ = G(z, [y,] l).

  Input planes, channels last in the reference's order: the noise plane z (channel 0),
  the label plane (class-conditional only, `LabelPlane`), then the low-pass image l.
  The output is linear (no activation, no clipping): images are z-scored.

  Architectures (LAPGAN_FACTS §2.1, §2.4):
  - "cifar" (CIFAR-10 / STL-10, `train_cifar_coarse_to_fine.lua:64-90`): conv 7x7 same
    -> `hidden`, ReLU, conv 7x7 same `hidden` -> `hidden`, ReLU, conv 5x5 same ->
    `channels`. No batch norm. 218,179 parameters at hidden 64, RGB.
  - "lsun" (`lsun/model.lua` "large"): conv 7x7 -> 64, ReLU, BN; conv 7x7 -> 368 (4
    groups), ReLU, BN, spatial dropout 0.5; conv 7x7 -> 128 (4 groups), ReLU, BN, L2
    feature pooling -> 64; conv 5x5 -> 224 (2 groups), ReLU, BN, spatial dropout 0.5; conv
    7x7 -> `channels`, BN on the output. Every BN affine-free. 1,090,995 parameters.

  Args:
    size: int, the level's image size F.
    channels: int, image channels.
    architecture: "cifar" or "lsun".
    hidden: int, width of the "cifar" convolutions (`--hidden_G`, 64; 128 before July 2015).
    num_classes: int, 0 for an unconditional model.

  Call arguments:
    inputs: `(noise (B, F, F, 1), low_pass (B, F, F, channels), one_hot (B, num_classes)
      or None)`.
    training: bool (batch norm and dropout of "lsun").

  Returns:
    `(B, F, F, channels)` float32 residual.
  """

  def __init__(self, size, channels=3, architecture="cifar", hidden=64, num_classes=0,
               **kwargs):
    super().__init__(**kwargs)
    if architecture not in ARCHITECTURES:
      raise ValueError(f"Unknown architecture {architecture!r}; valid: "
                       f"{', '.join(ARCHITECTURES)}.")
    self.size = int(size)
    self.channels = int(channels)
    self.architecture = architecture
    self.hidden = int(hidden)
    self.num_classes = int(num_classes)
    self.label_plane = (LabelPlane(self.size, self.num_classes, name="label_plane")
                        if self.num_classes else None)
    in_planes = 1 + (1 if self.num_classes else 0) + self.channels
    if architecture == "cifar":
      self.convs = [
          torch_defaults.conv2d(self.hidden, 7, in_planes, name="conv1"),
          torch_defaults.conv2d(self.hidden, 7, self.hidden, name="conv2"),
          torch_defaults.conv2d(self.channels, 5, self.hidden, name="conv3"),
      ]
      self.norms, self.dropouts, self.pooling = [], {}, None
    else:
      self.convs, width = [], in_planes
      for i, (kernel, filters, groups) in enumerate(_LSUN_CONVS):
        self.convs.append(torch_defaults.conv2d(filters, kernel, width, groups=groups,
                                                name=f"conv{i + 1}"))
        width = filters // 2 if i == 2 else filters  # L2 pooling halves conv3's maps
      self.convs.append(torch_defaults.conv2d(self.channels, 7, width, name="conv5"))
      self.norms = [_affine_free_batch_norm(f"norm{i + 1}") for i in range(5)]
      self.dropouts = {1: keras.layers.SpatialDropout2D(0.5, name="dropout2"),
                       3: keras.layers.SpatialDropout2D(0.5, name="dropout4")}
      self.pooling = FeatureLPPooling(name="feature_pooling")

  def build(self, input_shape=None):
    shape = [None, self.size, self.size, 1 + (1 if self.num_classes else 0) + self.channels]
    if self.label_plane is not None:
      self.label_plane.build((None, self.num_classes))
    for i, conv in enumerate(self.convs):
      conv.build(tuple(shape))
      shape[-1] = conv.filters
      if self.norms:
        self.norms[i].build(tuple(shape))
        if i == 2:
          shape[-1] //= 2
    self.built = True

  def call(self, inputs, training=None):
    noise, low_pass, one_hot = inputs
    planes = [noise]
    if self.label_plane is not None:
      planes.append(self.label_plane(one_hot))
    x = ops.concatenate(planes + [low_pass], axis=-1)  # (B, F, F, 1 [+ 1] + channels)
    last = len(self.convs) - 1
    for i, conv in enumerate(self.convs):
      x = conv(x)
      if self.architecture == "cifar":
        if i < last:
          x = ops.relu(x)
        continue
      if i < last:
        x = ops.relu(x)
      x = self.norms[i](x, training=training)  # After the ReLU; also on the output.
      if i in self.dropouts:
        x = self.dropouts[i](x, training=training)
      if i == 2:
        x = self.pooling(x)
    return ops.cast(x, "float32")

  def get_config(self):
    config = super().get_config()
    config.update(size=self.size, channels=self.channels, architecture=self.architecture,
                  hidden=self.hidden, num_classes=self.num_classes)
    return config
