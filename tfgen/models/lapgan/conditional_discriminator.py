"""D_k of a conditional LAPGAN level: the full image l + h (and label plane) -> one logit."""

import keras
from keras import ops

from tfgen.layers import torch_defaults
from tfgen.layers.label_plane import LabelPlane
from tfgen.models.lapgan.conditional_generator import ARCHITECTURES

# LSUN "large" D (lsun/model.lua:52-92): (kernel, filters, groups), all "valid".
_LSUN_CONVS = ((3, 48, 1), (5, 448, 4), (7, 416, 16))


@keras.saving.register_keras_serializable(package="tfgen")
class ConditionalDiscriminator(keras.layers.Layer):
  """The discriminator of a conditional level; sees the image at that scale, l + h.

  Architectures (LAPGAN_FACTS §2.1, §2.4), all convolutions "valid":
  - "cifar": [image, label plane] -> conv 5x5 -> `hidden`, ReLU -> conv 5x5 stride 2
    -> `hidden` -> flatten -> ReLU -> dropout 0.5 -> dense 1. Needs F >= 9
    (s = floor((F - 9) / 2) + 1); 107,905 parameters at F = 14, 113,729 at F = 28.
  - "lsun": conv 3x3 -> 48, ReLU -> conv 5x5 -> 448 (4 groups), ReLU -> conv 7x7 -> 416
    (16 groups), ReLU -> flatten -> dense 1; no dropout, no batch norm. Needs F >= 13
    (the released D cannot run at 8x8); 714,017 parameters at F = 16.
  The sigmoid of the reference stays out: the logit feeds `tfd.Bernoulli(logits=...)`.

  Args:
    size: int, the level's image size F.
    channels: int, image channels.
    architecture: "cifar" or "lsun".
    hidden: int, width of the "cifar" convolutions (`--hidden_D`, 64).
    num_classes: int, 0 for an unconditional model.
    dropout: float, "cifar"'s dropout rate (0.5).

  Call arguments:
    inputs: `(image (B, F, F, channels), one_hot (B, num_classes) or None)`.
    training: bool, dropout on or off.

  Returns:
    `(B,)` float32 logits of "real".
  """

  def __init__(self, size, channels=3, architecture="cifar", hidden=64, num_classes=0,
               dropout=0.5, **kwargs):
    super().__init__(**kwargs)
    if architecture not in ARCHITECTURES:
      raise ValueError(f"Unknown architecture {architecture!r}; valid: "
                       f"{', '.join(ARCHITECTURES)}.")
    self.size = int(size)
    self.channels = int(channels)
    self.architecture = architecture
    self.hidden = int(hidden)
    self.num_classes = int(num_classes)
    self.dropout = float(dropout)
    in_planes = self.channels + (1 if self.num_classes else 0)
    self.label_plane = (LabelPlane(self.size, self.num_classes, name="label_plane")
                        if self.num_classes else None)
    if architecture == "cifar":
      out_size = (self.size - 9) // 2 + 1
      if self.size < 9:
        raise ValueError(f"The 'cifar' discriminator needs images of at least 9x9 (two "
                         f"valid 5x5 convolutions); got size {self.size}.")
      self.convs = [torch_defaults.conv2d(self.hidden, 5, in_planes, padding="valid",
                                          name="conv1"),
                    torch_defaults.conv2d(self.hidden, 5, self.hidden, strides=2,
                                          padding="valid", name="conv2")]
      features = self.hidden * out_size * out_size
      self.dropout_layer = keras.layers.Dropout(self.dropout, name="dropout")
    else:
      out_size = self.size - 12
      if out_size < 1:
        raise ValueError(f"The 'lsun' discriminator needs images of at least 13x13 (valid "
                         f"3x3, 5x5 and 7x7 convolutions); got size {self.size}.")
      self.convs, width = [], in_planes
      for i, (kernel, filters, groups) in enumerate(_LSUN_CONVS):
        self.convs.append(torch_defaults.conv2d(filters, kernel, width, padding="valid",
                                                groups=groups, name=f"conv{i + 1}"))
        width = filters
      features = width * out_size * out_size
      self.dropout_layer = None
    self.features = features
    self.out = torch_defaults.dense(1, features, name="out", dtype="float32")

  def build(self, input_shape=None):
    if self.label_plane is not None:
      self.label_plane.build((None, self.num_classes))
    shape = (None, self.size, self.size, self.channels + (1 if self.num_classes else 0))
    for conv in self.convs:
      conv.build(shape)
      shape = conv.compute_output_shape(shape)
    self.out.build((None, self.features))
    self.built = True

  def call(self, inputs, training=None):
    image, one_hot = inputs
    x = image
    if self.label_plane is not None:
      x = ops.concatenate([x, ops.cast(self.label_plane(one_hot), x.dtype)], axis=-1)
    for i, conv in enumerate(self.convs):
      x = conv(x)
      if self.architecture == "lsun" or i == 0:
        x = ops.relu(x)
    x = ops.reshape(x, (-1, self.features))  # (B, s * s * hidden)
    if self.architecture == "cifar":
      x = self.dropout_layer(ops.relu(x), training=training)
    return ops.squeeze(self.out(x), axis=-1)  # (B, 1) -> (B,)

  def get_config(self):
    config = super().get_config()
    config.update(size=self.size, channels=self.channels, architecture=self.architecture,
                  hidden=self.hidden, num_classes=self.num_classes, dropout=self.dropout)
    return config
