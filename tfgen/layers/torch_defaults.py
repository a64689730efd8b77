"""Conv and dense layers initialised as Torch 7 / PyTorch do by default.

Torch's `reset()` draws weights and biases from U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)),
fan_in = in_channels / groups x kernel area (LAPGAN_FACTS §2; torch/nn
`SpatialConvolution.lua`, `Linear.lua`). Keras's `VarianceScaling(1/3, "fan_in",
"uniform")` is that rule for kernels; biases need the fan-in of their layer, which Keras
bias initialisers do not see, so `TorchUniform` takes it explicitly.
"""

import math

import keras


@keras.saving.register_keras_serializable(package="tfgen")
class TorchUniform(keras.initializers.Initializer):
  """U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)), Torch's default for biases.

  Args:
    fan_in: int, inputs of one output unit (in_channels / groups x kernel area).
    seed: int or None.
  """

  def __init__(self, fan_in, seed=None):
    self.fan_in = int(fan_in)
    self.seed = seed
    bound = 1.0 / math.sqrt(self.fan_in)
    self._uniform = keras.initializers.RandomUniform(-bound, bound, seed=seed)

  def __call__(self, shape, dtype=None):
    return self._uniform(shape, dtype=dtype)

  def get_config(self):
    return {"fan_in": self.fan_in, "seed": self.seed}


def kernel_initializer():
  """Torch's default weight initialisation, U(+-1 / sqrt(fan_in))."""
  return keras.initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_in",
                                            distribution="uniform")


def conv2d(filters, kernel_size, in_channels, strides=1, padding="same", groups=1, name=None):
  """`Conv2D` with Torch's default initialisation; `padding="same"` is Torch's
  (k - 1) / 2 zero padding for odd kernels (`SpatialConvolutionUpsample` with factor 1)."""
  fan_in = in_channels // groups * kernel_size * kernel_size
  return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                             groups=groups, kernel_initializer=kernel_initializer(),
                             bias_initializer=TorchUniform(fan_in), name=name)


def dense(units, in_features, name=None, dtype=None, kernel_stddev=None):
  """`Dense` with Torch's default initialisation, or N(0, kernel_stddev) kernels and zero
  biases when `kernel_stddev` is given (the released unconditional FC GAN's `setWeights`)."""
  if kernel_stddev is not None:
    return keras.layers.Dense(
        units, kernel_initializer=keras.initializers.RandomNormal(0.0, kernel_stddev),
        bias_initializer="zeros", name=name, dtype=dtype)
  return keras.layers.Dense(units, kernel_initializer=kernel_initializer(),
                            bias_initializer=TorchUniform(in_features), name=name, dtype=dtype)
