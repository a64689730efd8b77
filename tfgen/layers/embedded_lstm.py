"""A linear embedding followed by stacked LSTM cells: the core of every tfgen recurrence."""

import math

import keras
from keras import ops

from tfgen.layers import common


@keras.saving.register_keras_serializable(package="tfgen")
class EmbeddedLSTM(keras.layers.Layer):
  """Linear embedding (no activation) -> `num_layers` stacked LSTM cells.

  The recurrent state is passed in and returned, never stored on the layer, so one layer
  serves any batch size, sample count and device (the reference stores it on the module
  with the batch size baked in). Subclasses add output heads (`LSTMPredictor`,
  `GaussianLSTM`).

  Args:
    hidden_size: int, units of the embedding and of every cell (`rnn_size`, 256).
    num_layers: int, stacked cells (`rnn_layers` / `posterior_rnn_layers`).
    lstm_init: str, "pytorch" draws cell weights and bias from U(-1/sqrt(hidden),
      1/sqrt(hidden)) as the reference's `nn.LSTMCell` does; "keras" keeps Keras's
      defaults (Glorot / orthogonal, unit forget bias).

  Keras cells carry one bias vector where PyTorch's carry two (`b_ih`, `b_hh`), so each
  cell has 4 * hidden_size fewer parameters than the reference's; the function they
  compute is the same.

  Call arguments (sequence mode):
    inputs: `(batch, time, input_dim)`.
    initial_state: optional state from `initial_state()` or a previous call.
    training: unused (no dropout), kept for the Keras signature.

  Returns:
    `(outputs, state)`: outputs `(batch, time, hidden_size)` of the top cell and the state
    after the last step.
  """

  def __init__(self, hidden_size=256, num_layers=1, lstm_init="pytorch", **kwargs):
    super().__init__(**kwargs)
    if lstm_init not in ("pytorch", "keras"):
      raise ValueError(f"Unknown lstm_init {lstm_init!r}; valid: 'pytorch', 'keras'.")
    self.hidden_size = hidden_size
    self.num_layers = num_layers
    self.lstm_init = lstm_init
    self.embed = common.dense(hidden_size, name="embed")
    cell_kwargs = {}
    if lstm_init == "pytorch":
      bound = 1.0 / math.sqrt(hidden_size)
      uniform = lambda: keras.initializers.RandomUniform(-bound, bound)
      cell_kwargs = dict(kernel_initializer=uniform(), recurrent_initializer=uniform(),
                         bias_initializer=uniform(), unit_forget_bias=False)
    self.cells = [keras.layers.LSTMCell(hidden_size, name=f"lstm{i + 1}", **cell_kwargs)
                  for i in range(num_layers)]

  def build(self, input_shape):
    input_shape = tuple(input_shape)
    self.embed.build((None, input_shape[-1]))
    for cell in self.cells:
      cell.build((None, self.hidden_size))
    self.built = True

  def initial_state(self, batch_size):
    """Zero state for `batch_size` sequences: a tuple of `(h, c)` per layer."""
    zeros = ops.zeros((batch_size, self.hidden_size), dtype=self.compute_dtype)
    return tuple((zeros, zeros) for _ in self.cells)

  def step(self, inputs, state):
    """One time step: `(batch, input_dim)` -> `((batch, hidden_size), new_state)`."""
    x = self.embed(inputs)
    new_state = []
    for cell, cell_state in zip(self.cells, state):
      x, (h, c) = cell(x, list(cell_state))
      new_state.append((h, c))
    return x, tuple(new_state)

  def run(self, inputs, initial_state=None):
    """Runs the cells over `(batch, time, input_dim)`; the time axis must be static."""
    batch = ops.shape(inputs)[0]
    state = self.initial_state(batch) if initial_state is None else initial_state
    # The embedding is time-independent: one matmul over (batch, time) instead of T.
    embedded = self.embed(inputs)  # (batch, time, hidden)
    outputs = []
    for t in range(inputs.shape[1]):
      x = embedded[:, t]
      new_state = []
      for cell, cell_state in zip(self.cells, state):
        x, (h, c) = cell(x, list(cell_state))
        new_state.append((h, c))
      state = tuple(new_state)
      outputs.append(x)
    return ops.stack(outputs, axis=1), state

  def call(self, inputs, initial_state=None, training=None):
    return self.run(inputs, initial_state)

  def get_config(self):
    config = super().get_config()
    config.update(hidden_size=self.hidden_size, num_layers=self.num_layers,
                  lstm_init=self.lstm_init)
    return config
