"""Tests of `tfgen.evaluation.parzen` against scipy and LAPGAN_FACTS §5 oracles."""

import math
from unittest import mock

import numpy as np
from scipy import special
from scipy import stats

from tests import test_case
from tfgen.evaluation import parzen


def scipy_mixture(data, centres, sigma):
  """log((1/N) sum_i N(x; mu_i, sigma^2 I)) of every row of `data`, with scipy."""
  data, centres = data.reshape(len(data), -1), centres.reshape(len(centres), -1)
  dimension = data.shape[1]
  pdfs = np.stack([stats.multivariate_normal(mu, sigma**2 * np.eye(dimension)).logpdf(data)
                   for mu in centres], axis=1)  # (n, N)
  return special.logsumexp(pdfs, axis=1) - math.log(len(centres))


def reference_loop(data, centres, sigma, batch_size):
  """parzen_ll.py's `get_nll` + `theano_parzen` in numpy: strided batches, direct differences."""
  n_batches = int(np.ceil(len(data) / batch_size))
  values = []
  for i in range(n_batches):
    x = data[i::n_batches]
    a = (x[:, None, :] - centres[None, :, :]) / sigma
    e = -0.5 * (a**2).sum(2)
    m = e.max(1)
    log_mean_exp = m + np.log(np.exp(e - m[:, None]).mean(1))
    values.extend(log_mean_exp - centres.shape[1] * np.log(sigma * np.sqrt(np.pi * 2)))
  return np.array(values)


class ParzenTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    # Images (n, height, width, channels) with a different size on each axis.
    self.centres = rng.random((67, 3, 4, 2))
    self.data = rng.random((29, 3, 4, 2))

  @test_case.parameterized.parameters("float32", "float64")
  def test_equals_scipy_gaussian_mixture(self, precision):
    sigmas = [0.15, 0.4, 1.0]
    values = parzen.log_likelihoods(self.data, self.centres, sigmas, batch_size=8,
                                    chunk_size=20, precision=precision)
    expected = np.stack([scipy_mixture(self.data, self.centres, s) for s in sigmas])
    self.assertEqual(values.shape, (3, 29))
    # float64: rounding only. float32: the squared distance (magnitude ~ D = 24) carries
    # ~eps32 * sqrt(D) * D, multiplied by 1 / (2 sigma^2) = 22 at sigma 0.15.
    scale = 24 / (2 * 0.15**2)
    self.assertCloseForAccumulation(values, expected, 24, scale=scale, dtype=precision)

  def test_scalar_sigma_gives_one_row(self):
    values = parzen.log_likelihoods(self.data, self.centres, 0.3, batch_size=10)
    self.assertEqual(values.shape, (29,))

  def test_one_centre_is_the_gaussian_log_density(self):
    # LAPGAN_FACTS §5 oracle 4.
    values = parzen.log_likelihoods(self.data, self.centres[:1], 0.7, batch_size=1,
                                    precision="float64")
    expected = stats.multivariate_normal(self.centres[0].ravel(), 0.49 * np.eye(24)).logpdf(
        self.data.reshape(29, -1))
    self.assertAllClose(values, expected, rtol=0, atol=1e-10)

  def test_blocks_do_not_change_the_result(self):
    whole = parzen.log_likelihoods(self.data, self.centres, [0.2, 0.5], batch_size=29,
                                   chunk_size=67, precision="float64")
    for batch_size, chunk_size in ((1, 1), (7, 13), (10, 66)):
      blocked = parzen.log_likelihoods(self.data, self.centres, [0.2, 0.5],
                                       batch_size=batch_size, chunk_size=chunk_size,
                                       precision="float64")
      self.assertAllClose(blocked, whole, rtol=0, atol=1e-11)

  def test_equals_the_reference_loop(self):
    data, centres = self.data.reshape(29, -1), self.centres.reshape(67, -1)
    values = parzen.log_likelihoods(data, centres, 0.25, batch_size=10, precision="float64")
    reference = reference_loop(data, centres, 0.25, batch_size=10)
    # The reference visits images in strided batches; the values are the same per image.
    n_batches = 3
    order = np.concatenate([np.arange(29)[i::n_batches] for i in range(n_batches)])
    self.assertAllClose(values[order], reference, rtol=0, atol=1e-10)

  def test_product_form_is_safe_far_from_the_origin(self):
    # All values near 1000: ||x||^2 ~ 2.4e7 while distances are ~1; without centring
    # the float32 product form loses every digit (and goes negative without the clamp).
    rng = np.random.default_rng(1)
    centres = 1000.0 + rng.random((50, 24))
    data = 1000.0 + rng.random((20, 24))
    direct = reference_loop(data, centres, 0.3, batch_size=20)
    for precision in ("float32", "float64"):
      values = parzen.log_likelihoods(data, centres, 0.3, batch_size=20, precision=precision)
      self.assertCloseForAccumulation(values, direct, 24, scale=24 / (2 * 0.3**2),
                                      dtype=precision, msg=precision)

  def test_squared_distances_are_clamped_at_zero(self):
    # Each image against itself, far from the origin and uncentred: the product form's
    # rounding gives distances of either sign around 0; a negative one would make the
    # log-density exceed the Gaussian's peak.
    rng = np.random.default_rng(3)
    points = (1000.0 + rng.random((40, 24))).astype(np.float32)
    squares = np.sum(points.astype(np.float64)**2, axis=1).astype(np.float32)
    for i in range(40):
      block = parzen._block_log_sum_exp(points[i:i + 1], squares[i:i + 1], points[i:i + 1],
                                        squares[i:i + 1], test_case.tf.constant([-1.0]))
      self.assertLessEqual(float(block[0, 0]), 0.0)

  def test_float32_costs_little_on_mnist_sized_data(self):
    # 784 values in [0, 1], binary-ish like MNIST, sigma 0.1 (the grid's sharpest).
    rng = np.random.default_rng(2)
    centres = (rng.random((300, 784)) < 0.2).astype(np.float32) * rng.random((300, 784))
    data = (rng.random((50, 784)) < 0.2).astype(np.float32) * rng.random((50, 784))
    exact = parzen.log_likelihoods(data, centres, 0.1, precision="float64", batch_size=25)
    fast = parzen.log_likelihoods(data, centres, 0.1, precision="float32", batch_size=25)
    # The values are ~ -5000 nats; float32 stays within 0.01 nats of each.
    self.assertLess(np.max(np.abs(fast - exact)), 1e-2)

  def test_choose_sigma_is_the_argmax_of_the_validation_mean(self):
    grid = parzen.DEFAULT_SIGMA_GRID
    sigma, means = parzen.choose_sigma(self.data, self.centres, grid, batch_size=10,
                                       precision="float64")
    expected = [scipy_mixture(self.data, self.centres, s).mean() for s in grid]
    self.assertAllClose(means, expected, rtol=0, atol=1e-9)
    self.assertEqual(sigma, grid[int(np.argmax(expected))])
    # The data (uniform on [0, 1]) pick an interior sigma, not the grid's ends.
    self.assertNotIn(sigma, (grid[0], grid[-1]))

  def test_reference_grid(self):
    self.assertAllClose(parzen.DEFAULT_SIGMA_GRID,
                        [0.1, 0.1292, 0.1668, 0.2154, 0.2783, 0.3594, 0.4642, 0.5995,
                         0.7743, 1.0], atol=1e-4)

  def test_evaluate_reports_standard_error_and_deviation(self):
    validation = self.data[:11]
    result = parzen.evaluate(self.centres, self.data, validation, batch_size=10,
                             precision="float64")
    sigma, _ = parzen.choose_sigma(validation, self.centres, batch_size=10,
                                   precision="float64")
    values = scipy_mixture(self.data, self.centres, sigma)
    self.assertEqual(result.sigma, sigma)
    self.assertAlmostEqual(result.mean, values.mean(), places=9)
    self.assertAlmostEqual(result.standard_deviation, values.std(), places=9)
    self.assertAlmostEqual(result.standard_error, values.std() / math.sqrt(29), places=9)
    document = result.to_dict()
    self.assertEqual((document["num_samples"], document["num_images"], document["dimension"],
                      document["num_validation_images"]), (67, 29, 24, 11))
    self.assertLen(document["sigma_grid"], 10)
    self.assertIn("parzen_ll.py", document["estimator"])
    self.assertNotIn("log_likelihoods", document)

  def test_evaluate_with_a_given_sigma_needs_no_validation(self):
    result = parzen.evaluate(self.centres, self.data, sigma=0.3, batch_size=10,
                             precision="float64")
    self.assertAlmostEqual(result.mean, scipy_mixture(self.data, self.centres, 0.3).mean(),
                           places=9)
    self.assertIsNone(result.to_dict()["sigma_grid"])
    self.assertEqual(result.to_dict()["sigma_choice"], "given")

  # ------------------------------------------------------------------ bad input

  @test_case.parameterized.named_parameters(
      dict(testcase_name="shapes", kwargs=dict(test=np.zeros((29, 4, 3, 2))),
           message="same shape per image"),
      dict(testcase_name="validation_shapes", kwargs=dict(validation=np.zeros((5, 24))),
           message="same shape per image"),
      dict(testcase_name="zero_sigma", kwargs=dict(sigmas=[0.1, 0.0, 1.0]),
           message="finite positive"),
      dict(testcase_name="negative_sigma", kwargs=dict(sigma=-0.2), message="finite positive"),
      dict(testcase_name="few_samples", kwargs=dict(batch_size=100),
           message="67 model samples, fewer than the batch"),
      dict(testcase_name="batch", kwargs=dict(batch_size=0), message="batch_size"),
      dict(testcase_name="nan", kwargs=dict(test=np.full((3, 3, 4, 2), np.nan)),
           message="non-finite"),
      dict(testcase_name="scaling", kwargs=dict(value_range=(0.0, 0.5)),
           message="scaled alike"),
      dict(testcase_name="precision", kwargs=dict(precision="float16"),
           message="Unknown precision"),
      dict(testcase_name="no_validation", kwargs=dict(validation=None),
           message="validation set"),
  )
  def test_bad_input_fails_before_any_work(self, kwargs, message):
    arguments = dict(samples=self.centres, test=self.data, validation=self.data[:5],
                     batch_size=10)
    arguments.update(kwargs)
    with mock.patch.object(parzen, "_block_log_sum_exp",
                           side_effect=AssertionError("work started")):
      with self.assertRaisesRegex(ValueError, message):
        parzen.evaluate(**arguments)


if __name__ == "__main__":
  test_case.tf.test.main()
