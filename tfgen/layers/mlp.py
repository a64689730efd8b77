"""A multilayer perceptron: dense layers with an activation and optional dropout each."""

import keras
from keras import ops

from tfgen.layers import torch_defaults

ACTIVATIONS = ("relu", "sigmoid")


@keras.saving.register_keras_serializable(package="tfgen")
class MLP(keras.layers.Layer):
  """`len(hidden_units)` x [dense -> activation -> dropout] -> dense `output_units`.

  The coarsest LAPGAN level's G and D (LAPGAN_FACTS §2.3) and small discriminators such as
  DrNET's scene discriminator (2 x [dense 100 -> ReLU] -> dense 1) are this layer.

  Args:
    hidden_units: tuple of ints, width of each hidden layer.
    output_units: int, width of the linear output.
    input_dim: int, size of the input vector (Torch's default init needs each fan-in).
    activations: tuple of "relu" / "sigmoid", one per hidden layer (default all ReLU; the
      released unconditional FC generator has ("relu", "sigmoid")).
    dropout: float, rate of the dropout after each hidden activation (0: none).
    kernel_stddev: None (Torch's default init) or the N(0, stddev) of every kernel, biases
      at 0 (the released unconditional FC GAN: 0.05 for G, 0.005 for D).

  Call arguments:
    inputs: `(batch, input_dim)`.
    training: bool, dropout on or off.

  Returns:
    `(batch, output_units)` float32.
  """

  def __init__(self, hidden_units, output_units, input_dim, activations=None, dropout=0.0,
               kernel_stddev=None, **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = tuple(int(u) for u in hidden_units)
    self.output_units = int(output_units)
    self.input_dim = int(input_dim)
    activations = tuple(activations or ("relu",) * len(self.hidden_units))
    if len(activations) != len(self.hidden_units) or any(
        a not in ACTIVATIONS for a in activations):
      raise ValueError(f"activations must be one of {ACTIVATIONS} per hidden layer "
                       f"({len(self.hidden_units)}); got {activations}.")
    self.activations = activations
    self.dropout = float(dropout)
    self.kernel_stddev = kernel_stddev
    widths = (self.input_dim,) + self.hidden_units
    self.hidden = [torch_defaults.dense(units, widths[i], name=f"dense{i + 1}",
                                        kernel_stddev=kernel_stddev)
                   for i, units in enumerate(self.hidden_units)]
    self.out = torch_defaults.dense(self.output_units, widths[-1], name="out", dtype="float32",
                                    kernel_stddev=kernel_stddev)
    self.dropouts = [keras.layers.Dropout(self.dropout, name=f"dropout{i + 1}")
                     for i in range(len(self.hidden_units))] if self.dropout else []

  def build(self, input_shape):
    shape = (input_shape[0], self.input_dim)
    for layer in self.hidden:
      layer.build(shape)
      shape = (shape[0], layer.units)
    self.out.build(shape)
    self.built = True

  def call(self, inputs, training=None):
    x = inputs
    for i, layer in enumerate(self.hidden):
      x = layer(x)
      x = ops.relu(x) if self.activations[i] == "relu" else ops.sigmoid(x)
      if self.dropouts:
        x = self.dropouts[i](x, training=training)
    return self.out(x)

  def get_config(self):
    config = super().get_config()
    config.update(hidden_units=self.hidden_units, output_units=self.output_units,
                  input_dim=self.input_dim, activations=self.activations,
                  dropout=self.dropout, kernel_stddev=self.kernel_stddev)
    return config
