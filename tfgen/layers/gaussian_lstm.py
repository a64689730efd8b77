"""LSTM whose output is a diagonal Gaussian: SVG's posterior and learned prior."""

import keras
from keras import ops
import tensorflow_probability as tfp

from tfgen.layers import common
from tfgen.layers.embedded_lstm import EmbeddedLSTM

tfd = tfp.distributions


@keras.saving.register_keras_serializable(package="tfgen")
class GaussianLSTM(EmbeddedLSTM):
  """Linear embed -> LSTM cells -> two linear heads: mean and log-variance of N(mu, sigma^2).

  SVG's `LSTM_phi` (posterior q(z_t | x_{1:t}), input h_t) and `LSTM_psi` (learned prior
  p(z_t | x_{1:t-1}), input h_{t-1}). The heads run in float32 whatever the mixed-precision
  policy, so the distributions, their KL and their samples are float32.
  Reference: edenton/svg `models/lstm.py` class `gaussian_lstm`.

  Args:
    output_dim: int, size of z (`z_dim`).
    hidden_size: int, cell units (`rnn_size`, 256).
    num_layers: int, stacked cells (`posterior_rnn_layers` / `prior_rnn_layers`, 1).
    lstm_init: see `EmbeddedLSTM`.

  Call arguments:
    inputs: `(batch, time, input_dim)`; `initial_state` optional.

  Returns:
    `(distribution, state)`: a `tfd.MultivariateNormalDiag` with batch shape
    `(batch, time)` and event shape `(output_dim,)`. `step()` does one step on
    `(batch, input_dim)` and returns a distribution of batch shape `(batch,)`.
  """

  def __init__(self, output_dim=10, hidden_size=256, num_layers=1, lstm_init="pytorch",
               **kwargs):
    super().__init__(hidden_size=hidden_size, num_layers=num_layers, lstm_init=lstm_init,
                     **kwargs)
    self.output_dim = output_dim
    self.mean_head = common.dense(output_dim, name="mean", dtype="float32")
    self.log_variance_head = common.dense(output_dim, name="log_variance", dtype="float32")

  def build(self, input_shape):
    super().build(input_shape)
    self.mean_head.build((None, self.hidden_size))
    self.log_variance_head.build((None, self.hidden_size))

  def _distribution(self, x):
    mean = self.mean_head(x)
    log_variance = self.log_variance_head(x)
    return tfd.MultivariateNormalDiag(loc=mean, scale_diag=ops.exp(0.5 * log_variance))

  def step(self, inputs, state):
    x, state = super().step(inputs, state)
    return self._distribution(x), state

  def call(self, inputs, initial_state=None, training=None):
    x, state = self.run(inputs, initial_state)
    return self._distribution(x), state

  def get_config(self):
    config = super().get_config()
    config.update(output_dim=self.output_dim)
    return config
