"""The deterministic LSTM frame predictor of SVG and the pose LSTM of DrNET."""

import keras
from keras import ops

from tfgen.layers import common
from tfgen.layers.embedded_lstm import EmbeddedLSTM


@keras.saving.register_keras_serializable(package="tfgen")
class LSTMPredictor(EmbeddedLSTM):
  """Linear embed -> stacked LSTM cells -> linear to `output_dim` -> optional tanh.

  SVG's `LSTM_theta` (input concat(h_{t-1}, z_t), output g_t, tanh) and DrNET's pose
  predictor. Reference: edenton/svg `models/lstm.py` class `lstm`.

  Args:
    output_dim: int, size of the prediction (`g_dim`, 128).
    hidden_size: int, cell units (`rnn_size`, 256).
    num_layers: int, stacked cells (`rnn_layers`, 2).
    output_activation: str, "tanh" (SVG) or "none".
    lstm_init: see `EmbeddedLSTM`.

  Call arguments:
    inputs: `(batch, time, input_dim)`; `initial_state` optional.

  Returns:
    `(outputs, state)`: outputs `(batch, time, output_dim)`. `step()` does one step on
    `(batch, input_dim)` and returns `((batch, output_dim), state)`.
  """

  def __init__(self, output_dim=128, hidden_size=256, num_layers=2, output_activation="tanh",
               lstm_init="pytorch", **kwargs):
    super().__init__(hidden_size=hidden_size, num_layers=num_layers, lstm_init=lstm_init,
                     **kwargs)
    if output_activation not in ("tanh", "none"):
      raise ValueError(
          f"Unknown output_activation {output_activation!r}; valid: 'tanh', 'none'.")
    self.output_dim = output_dim
    self.output_activation = output_activation
    self.head = common.dense(output_dim, name="output")

  def build(self, input_shape):
    super().build(input_shape)
    self.head.build((None, self.hidden_size))

  def _project(self, x):
    x = self.head(x)
    return ops.tanh(x) if self.output_activation == "tanh" else x

  def step(self, inputs, state):
    x, state = super().step(inputs, state)
    return self._project(x), state

  def call(self, inputs, initial_state=None, training=None):
    x, state = self.run(inputs, initial_state)
    return self._project(x), state

  def get_config(self):
    config = super().get_config()
    config.update(output_dim=self.output_dim, output_activation=self.output_activation)
    return config
