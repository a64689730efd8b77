"""Tests of the LSTM building blocks: shapes, state passing, parameter counts, KL."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tests import test_case
from tfgen.layers.embedded_lstm import EmbeddedLSTM
from tfgen.layers.gaussian_lstm import GaussianLSTM
from tfgen.layers.lstm_predictor import LSTMPredictor

tfd = tfp.distributions
BATCH, TIME, INPUT, HIDDEN, OUTPUT = 2, 3, 7, 6, 5


class EmbeddedLSTMTest(test_case.TestCase):

  def test_sequence_equals_steps(self):
    # Running a sequence and stepping it by hand with the returned state agree.
    layer = LSTMPredictor(OUTPUT, HIDDEN, num_layers=2)
    inputs = np.random.rand(BATCH, TIME, INPUT).astype("float32")
    outputs, final_state = layer(inputs)
    self.assertEqual(outputs.shape, (BATCH, TIME, OUTPUT))
    state = layer.initial_state(BATCH)
    for t in range(TIME):
      step_output, state = layer.step(inputs[:, t], state)
      self.assertAllClose(step_output, outputs[:, t], atol=1e-6)
    self.assertAllClose(state, final_state, atol=1e-6)

  def test_state_is_not_stored(self):
    # Two calls with different batch sizes work: nothing about the batch is kept.
    layer = EmbeddedLSTM(HIDDEN, num_layers=1)
    layer(np.zeros((BATCH, TIME, INPUT), "float32"))
    outputs, _ = layer(np.zeros((BATCH + 3, TIME, INPUT), "float32"))
    self.assertEqual(outputs.shape, (BATCH + 3, TIME, HIDDEN))

  @test_case.parameterized.named_parameters(
      # Reference counts (SPEC.md §1.1), minus 4 * 256 per Keras cell (one bias, not two).
      ("predictor_smmnist", LSTMPredictor, dict(output_dim=128, num_layers=2), 138,
       1_121_152 - 2 * 4 * 256),
      ("predictor_kth", LSTMPredictor, dict(output_dim=128, num_layers=2), 128 + 32,
       1_126_784 - 2 * 4 * 256),
      ("predictor_bair", LSTMPredictor, dict(output_dim=128, num_layers=2), 128 + 64,
       1_134_976 - 2 * 4 * 256),
      ("gaussian_smmnist", GaussianLSTM, dict(output_dim=10, num_layers=1), 128,
       564_500 - 4 * 256),
      ("gaussian_kth", GaussianLSTM, dict(output_dim=32, num_layers=1), 128,
       575_808 - 4 * 256),
      ("gaussian_bair", GaussianLSTM, dict(output_dim=64, num_layers=1), 128,
       592_256 - 4 * 256),
  )
  def test_parameter_counts_match_reference(self, cls, kwargs, input_dim, expected):
    layer = cls(hidden_size=256, **kwargs)
    layer.build((None, None, input_dim))
    self.assertEqual(test_case.count_parameters(layer), expected)

  def test_pytorch_init_bounds(self):
    layer = EmbeddedLSTM(HIDDEN, num_layers=1, lstm_init="pytorch")
    layer.build((None, None, INPUT))
    bound = 1 / np.sqrt(HIDDEN)
    for variable in layer.cells[0].trainable_variables:
      self.assertLessEqual(float(np.max(np.abs(variable))), bound)
    with self.assertRaisesRegex(ValueError, "lstm_init.*'pytorch', 'keras'"):
      EmbeddedLSTM(HIDDEN, lstm_init="torch")

  def test_gaussian_lstm_distribution(self):
    layer = GaussianLSTM(OUTPUT, HIDDEN)
    distribution, _ = layer(np.random.rand(BATCH, TIME, INPUT).astype("float32"))
    self.assertIsInstance(distribution, tfd.Distribution)
    self.assertEqual(distribution.batch_shape, (BATCH, TIME))
    self.assertEqual(distribution.event_shape, (OUTPUT,))
    self.assertEqual(distribution.dtype, tf.float32)

  def test_kl_matches_closed_form(self):
    # tfd.kl_divergence between the posterior and prior equals the reference's formula:
    # log(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2, summed over z.
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=(2, BATCH, OUTPUT))
    lv1, lv2 = rng.normal(size=(2, BATCH, OUTPUT))
    q = tfd.MultivariateNormalDiag(m1, np.exp(0.5 * lv1))
    p = tfd.MultivariateNormalDiag(m2, np.exp(0.5 * lv2))
    s1, s2 = np.exp(0.5 * lv1), np.exp(0.5 * lv2)
    closed = np.sum(np.log(s2 / s1) + (np.exp(lv1) + (m1 - m2)**2) / (2 * np.exp(lv2)) - 0.5,
                    axis=-1)
    self.assertAllClose(tfd.kl_divergence(q, p), closed, rtol=1e-6)

  @test_case.parameterized.parameters(LSTMPredictor, GaussianLSTM)
  def test_config_round_trip(self, cls):
    layer = cls(OUTPUT, HIDDEN, num_layers=2)
    self.run_config_round_trip(layer)
    self.run_serialization_round_trip(layer)


if __name__ == "__main__":
  tf.test.main()
