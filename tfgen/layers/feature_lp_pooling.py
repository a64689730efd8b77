"""L2 pooling across feature maps (Torch `nn.FeatureLPPooling(2, 2, 2)`, LAPGAN's LSUN G)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfgen")
class FeatureLPPooling(keras.layers.Layer):
  """Output channel c = sqrt(x_{2c}^2 + x_{2c+1}^2 + epsilon): channels halve.

  THNN `FeatureLPPooling.c` with width 2, stride 2, p 2 (lsun/model.lua). Torch skips the
  gradient where the output is 0; `epsilon` inside the square root keeps the gradient
  finite there instead (LAPGAN_FACTS §10).

  Args:
    epsilon: float, added under the square root (1e-12).

  Call arguments:
    inputs: `(..., channels)` with an even number of channels.

  Returns:
    `(..., channels // 2)`.
  """

  def __init__(self, epsilon=1e-12, **kwargs):
    super().__init__(**kwargs)
    self.epsilon = epsilon

  def build(self, input_shape):
    if input_shape[-1] is not None and input_shape[-1] % 2:
      raise ValueError(f"FeatureLPPooling needs an even number of channels; got "
                       f"{input_shape[-1]}.")
    self.built = True

  def call(self, inputs):
    even, odd = inputs[..., 0::2], inputs[..., 1::2]
    return ops.sqrt(ops.square(even) + ops.square(odd) + self.epsilon)

  def compute_output_shape(self, input_shape):
    return tuple(input_shape[:-1]) + (None if input_shape[-1] is None else input_shape[-1] // 2,)

  def get_config(self):
    config = super().get_config()
    config.update(epsilon=self.epsilon)
    return config
