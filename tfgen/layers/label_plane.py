"""A class label as one feature plane (LAPGAN's class-conditional levels)."""

import keras
from keras import ops

from tfgen.layers import torch_defaults


@keras.saving.register_keras_serializable(package="tfgen")
class LabelPlane(keras.layers.Layer):
  """one-hot `(B, num_classes)` -> dense `size^2` -> ReLU -> `(B, size, size, 1)`.

  `train_cifar_coarse_to_fine_classcond.lua:68-97`: Linear(10, F*F) -> ReLU -> View(1, F, F),
  concatenated with the input planes of G and D (LAPGAN_FACTS §2.2).

  Args:
    size: int, the plane's height and width.
    num_classes: int.
  """

  def __init__(self, size, num_classes, **kwargs):
    super().__init__(**kwargs)
    self.size = int(size)
    self.num_classes = int(num_classes)
    self.dense = torch_defaults.dense(self.size * self.size, self.num_classes, name="dense")

  def build(self, input_shape):
    self.dense.build((input_shape[0], self.num_classes))
    self.built = True

  def call(self, one_hot):
    plane = ops.relu(self.dense(one_hot))  # (B, size * size)
    return ops.reshape(plane, (-1, self.size, self.size, 1))

  def get_config(self):
    config = super().get_config()
    config.update(size=self.size, num_classes=self.num_classes)
    return config
