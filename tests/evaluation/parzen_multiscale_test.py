"""Tests of `tfgen.evaluation.parzen_multiscale`: the Haar map, LAPGAN_FACTS §5.3 oracles."""

import math
from unittest import mock

import numpy as np
from scipy import special
from scipy import stats
import tensorflow as tf

from tests import test_case
from tfgen.evaluation import parzen
from tfgen.evaluation import parzen_multiscale as multiscale


def haar_matrix(shape, form="orthonormal"):
  """The matrix A of one Haar level of images `shape` (H, W, C): x -> [coarse, detail]."""
  size = int(np.prod(shape))
  basis = np.eye(size).reshape((size,) + tuple(shape))
  coarse, detail = multiscale.haar_level(basis, form)
  return np.concatenate([np.reshape(coarse, (size, -1)), np.reshape(detail, (size, -1))],
                        axis=1).T


def nearest_upsample(coarse):
  """(B, h, w, C) -> (B, 2h, 2w, C), every pixel of a 2x2 block the coarse value."""
  return tf.repeat(tf.repeat(coarse, 2, axis=1), 2, axis=2)


def pattern_generator(patterns):
  """A level generator whose draw i adds `patterns[level][i]` to the block-constant image.

  The centres' details are then the details of the patterns, the same for every image:
  the level term is a plain Gaussian mixture with known centres.
  """

  def generate(level, coarse, noise_indices):
    base = nearest_upsample(coarse)[:, None]  # (B, 1, H, W, C)
    return base + tf.gather(tf.constant(patterns[level], tf.float32), noise_indices)[None]

  return generate


class HaarTest(test_case.TestCase):

  def test_transform_is_orthogonal(self):
    # LAPGAN_FACTS §5.3 oracle 1: A A^T = I, inverse exact, norm preserved.
    a = haar_matrix((4, 6, 3))
    self.assertAllClose(a @ a.T, np.eye(72), atol=1e-12)
    images = np.random.default_rng(0).normal(size=(5, 32, 32, 3))
    coarse, detail = multiscale.haar_level(images)
    self.assertAllClose(np.sum(images**2, axis=(1, 2, 3)),
                        np.sum(coarse**2, axis=(1, 2, 3)) + np.sum(detail**2, axis=(1, 2, 3)),
                        rtol=1e-12)
    self.assertAllClose(multiscale.inverse_haar_level(coarse, detail), images, atol=1e-12)
    mean_coarse, mean_detail = multiscale.haar_level(images, "block_mean")
    self.assertAllClose(multiscale.inverse_haar_level(mean_coarse, mean_detail, "block_mean"),
                        images, atol=1e-12)

  def test_block_mean_form_scales_the_coarse_coordinates(self):
    a = haar_matrix((4, 6, 3), "block_mean")
    # |det| = 2^-(number of coarse coordinates) = 2^-18.
    self.assertAllClose(np.linalg.slogdet(a)[1], -18 * math.log(2), atol=1e-10)
    images = np.random.default_rng(1).random((2, 4, 6, 3))
    coarse, _ = multiscale.haar_level(images, "block_mean")
    self.assertAllClose(coarse[0, 1, 2], images[0, 2:4, 4:6].mean(axis=(0, 1)))

  def test_detail_of_a_block_constant_image_is_zero(self):
    # Oracle 2, and the detail holds 3/4 of the values.
    coarse = np.random.default_rng(2).random((3, 5, 7, 2))
    images = nearest_upsample(coarse)
    _, detail = multiscale.haar_level(images)
    self.assertEqual(detail.shape, (3, 5, 7, 6))
    self.assertEqual(np.size(detail) * 4, np.size(images) * 3)
    self.assertAllClose(detail, np.zeros_like(detail), atol=1e-15)

  def test_change_of_variables(self):
    # Oracle 3: x ~ N(0, Sigma) on a 4x4x1 image: log N(x; Sigma) = log N(Ax; A Sigma A^T)
    # with the orthonormal A; with block means the density is 4 ln 2 higher.
    rng = np.random.default_rng(3)
    root = rng.normal(size=(16, 16))
    sigma = root @ root.T + np.eye(16)
    x = rng.multivariate_normal(np.zeros(16), sigma)
    log_p = stats.multivariate_normal(np.zeros(16), sigma).logpdf(x)
    for form, offset in (("orthonormal", 0.0), ("block_mean", 4 * math.log(2))):
      a = haar_matrix((4, 4, 1), form)
      transformed = stats.multivariate_normal(np.zeros(16), a @ sigma @ a.T).logpdf(a @ x)
      self.assertAlmostEqual(transformed - log_p, offset, places=9, msg=form)

  def test_coarsen_is_the_block_mean_pyramid(self):
    images = np.random.default_rng(4).random((2, 8, 12, 3))
    self.assertAllClose(multiscale.coarsen(images, 2),
                        images.reshape(2, 2, 4, 3, 4, 3).mean(axis=(2, 4)), atol=1e-12)


class MultiscaleTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(5)
    # 8x4 RGB images, two Haar levels down to 2x1.
    self.test = rng.random((9, 8, 4, 3))
    self.validation = rng.random((7, 8, 4, 3))
    self.training = rng.random((40, 8, 4, 3))
    self.patterns = {0: 0.3 * rng.normal(size=(11, 8, 4, 3)),
                     1: 0.3 * rng.normal(size=(11, 4, 2, 3))}

  def test_no_finer_level_is_the_single_scale_estimate(self):
    # Oracle 5a: K = 0 is parzen_ll.py on the images themselves.
    result = multiscale.evaluate(self.test, self.validation, self.training, None, 0, 0,
                                 batch_size=5)
    single = parzen.evaluate(self.training, self.test, self.validation, batch_size=5,
                             precision="float64")
    self.assertAlmostEqual(result.mean, single.mean, places=9)
    self.assertAlmostEqual(result.standard_deviation, single.standard_deviation, places=9)
    self.assertEqual(result.sigmas, [single.sigma])
    self.assertEqual(result.correction_nats, 0.0)

  def test_oracle_generator_gives_the_closed_form(self):
    # Oracle 5b: a generator returning the true image for every noise draw puts every
    # centre on the true detail: the level term is -(D/2) ln(2 pi sigma^2).
    images = np.concatenate([self.test, self.validation])
    table = {k: (multiscale.coarsen(images, k + 1).numpy(), multiscale.coarsen(images, k).numpy())
             for k in range(2)}

    def oracle(level, coarse, noise_indices):
      coarse_table, full_table = table[level]
      distances = np.sum((coarse.numpy()[:, None] - coarse_table[None])**2, axis=(2, 3, 4))
      rows = np.argmin(distances, axis=1)
      self.assertLess(np.max(np.min(distances, axis=1)), 1e-10)
      full = full_table[rows][:, None]  # (B, 1, H, W, C)
      return np.repeat(full, len(noise_indices), axis=1).astype(np.float32)

    result = multiscale.evaluate(self.test, self.validation, multiscale.coarsen(self.training, 2),
                                 oracle, num_levels=2, num_noise_samples=3, batch_size=4,
                                 noise_chunk=2)
    for level, dimension in ((0, 8 * 4 * 3 * 3 // 4), (1, 4 * 2 * 3 * 3 // 4)):
      sigma = result.sigmas[level]
      # Every image sits on its centres: the sharpest sigma of the grid wins.
      self.assertEqual(sigma, result.sigma_grids[level][0])
      # float32 generator output: the detail is exact to ~1e-7, far below sigma.
      self.assertAlmostEqual(result.level_means[level],
                             -dimension / 2 * math.log(2 * math.pi * sigma**2), places=3)

  def test_level_terms_are_gaussian_mixtures_of_the_generated_details(self):
    generator = pattern_generator(self.patterns)
    sigma_grids = [[0.2, 0.5], [0.3], [0.25, 0.6]]
    result = multiscale.evaluate(self.test, self.validation, multiscale.coarsen(self.training, 2),
                                 generator, num_levels=2, num_noise_samples=11,
                                 sigma_grids=sigma_grids, batch_size=4, noise_chunk=4)
    expected_total = np.zeros(len(self.test))
    x = self.test
    for level in range(2):
      scale = 2.0**level  # Orthonormal units of level k: 2^k x block-mean units.
      _, true_detail = multiscale.haar_level(multiscale.coarsen(x, level) * scale)
      _, centres = multiscale.haar_level(self.patterns[level] * scale)
      sigma = result.sigmas[level]
      terms = special.logsumexp(np.stack(
          [stats.multivariate_normal(c.ravel(), sigma**2).logpdf(
              np.reshape(true_detail, (len(x), -1))) for c in np.asarray(centres)], axis=1),
          axis=1) - math.log(11)
      self.assertAlmostEqual(result.level_means[level], terms.mean(), places=4)
      expected_total += terms
    coarse_terms = parzen.log_likelihoods(multiscale.coarsen(x, 2).numpy() * 4,
                                          multiscale.coarsen(self.training, 2).numpy() * 4,
                                          result.sigmas[2], batch_size=4, precision="float64")
    expected_total += coarse_terms
    self.assertAllClose(result.log_likelihoods, expected_total, atol=1e-4)
    self.assertAlmostEqual(result.mean, expected_total.mean(), places=4)

  def test_sigmas_are_chosen_per_level_on_validation(self):
    result = multiscale.evaluate(self.test, self.validation, multiscale.coarsen(self.training, 2),
                                 pattern_generator(self.patterns), num_levels=2,
                                 num_noise_samples=11, batch_size=4)
    for level in range(3):
      grid, means = result.sigma_grids[level], result.validation_means[level]
      self.assertLen(means, len(grid))
      self.assertEqual(result.sigmas[level], grid[int(np.argmax(means))])
    # Default grids: the reference's, in block-mean units (x 2^level, orthonormal form).
    self.assertAllClose(result.sigma_grids[1], np.array(parzen.DEFAULT_SIGMA_GRID) * 2)
    self.assertAllClose(result.sigma_grids[2], np.array(parzen.DEFAULT_SIGMA_GRID) * 4)

  def test_block_mean_form_needs_the_ln2_correction(self):
    kwargs = dict(test=self.test, validation=self.validation,
                  coarsest_centres=multiscale.coarsen(self.training, 2),
                  level_generator=pattern_generator(self.patterns), num_levels=2,
                  num_noise_samples=11, batch_size=4)
    orthonormal = multiscale.evaluate(**kwargs)
    mean_form = multiscale.evaluate(form="block_mean", **kwargs)
    # 3 channels x (4x2 + 2x1) coarse coordinates: 30 ln 2.
    self.assertAlmostEqual(mean_form.correction_nats, 30 * math.log(2), places=12)
    self.assertAlmostEqual(mean_form.uncorrected_mean - mean_form.mean, 30 * math.log(2),
                           places=9)
    # The default grids are the same widths in both forms: corrected, the numbers agree.
    self.assertAlmostEqual(mean_form.mean, orthonormal.mean, places=5)
    self.assertAlmostEqual(orthonormal.uncorrected_mean, orthonormal.mean, places=12)
    self.assertIn("block mean", mean_form.to_dict()["haar"])

  def test_cifar_sized_correction_is_665_nats(self):
    # LAPGAN_FACTS §0.9: 32x32x3, two levels: 960 ln 2.
    images = np.random.default_rng(6).random((4, 32, 32, 3))
    zero_patterns = {0: np.zeros((2, 32, 32, 3)), 1: np.zeros((2, 16, 16, 3))}
    result = multiscale.evaluate(images, images, multiscale.coarsen(images, 2),
                                 pattern_generator(zero_patterns), num_levels=2,
                                 num_noise_samples=2, form="block_mean", batch_size=4,
                                 sigma_grids=[0.5])
    self.assertAlmostEqual(result.correction_nats, 665.42, places=2)

  def test_fixed_noise_is_drawn_once_per_level(self):
    seen = []

    def sample(level, coarse, noise):
      seen.append((level, noise.numpy()))
      # Each image gets every draw: (B, M, H, W, C).
      base = nearest_upsample(coarse)[:, None]
      return base + tf.reshape(tf.reduce_mean(noise, axis=[1, 2, 3]), (1, -1, 1, 1, 1))

    generator = multiscale.fixed_noise_generator(sample, (1, 3, 2), num_noise_samples=6, seed=7)
    coarse = tf.zeros((2, 2, 1, 3))
    generator(0, coarse, tf.constant([0, 1, 2]))
    generator(0, coarse + 1, tf.constant([2, 3]))
    generator(1, coarse, tf.constant([2]))
    self.assertAllEqual(seen[0][1][2], seen[1][1][0])  # index 2 of level 0 in both calls
    self.assertNotAllClose(seen[2][1][0], seen[0][1][2])  # level 1 has its own draws
    self.assertTrue(np.all(np.abs(seen[0][1]) <= 1.0))
    # Through the estimator: every image's centres come from the same draws, so the result
    # does not depend on how images are batched.
    kwargs = dict(test=self.test, validation=self.validation,
                  coarsest_centres=multiscale.coarsen(self.training, 2),
                  level_generator=generator, num_levels=2, num_noise_samples=6)
    one = multiscale.evaluate(batch_size=9, noise_chunk=6, **kwargs)
    other = multiscale.evaluate(batch_size=2, noise_chunk=4, **kwargs)
    self.assertAllClose(one.log_likelihoods, other.log_likelihoods, atol=1e-9)

  def test_protocol(self):
    result = multiscale.evaluate(self.test, self.validation, multiscale.coarsen(self.training, 2),
                                 pattern_generator(self.patterns), num_levels=2,
                                 num_noise_samples=11, batch_size=4,
                                 coarsest_source="generator")
    document = result.to_dict()
    self.assertEqual((document["form"], document["num_levels"], document["num_noise_samples"],
                      document["num_coarsest_centres"], document["num_images"],
                      document["num_validation_images"]),
                     ("orthonormal", 2, 11, 40, 9, 7))
    self.assertIn("G_K", document["coarsest_centres"])
    self.assertAlmostEqual(result.standard_error,
                           result.standard_deviation / 3.0, places=12)
    self.assertNotIn("log_likelihoods", document)

  # ------------------------------------------------------------------ bad input

  @test_case.parameterized.named_parameters(
      dict(testcase_name="odd_size", kwargs=dict(test=np.zeros((3, 6, 4, 3))),
           message="divisible by 4"),
      dict(testcase_name="validation_shape", kwargs=dict(validation=np.zeros((3, 8, 8, 3))),
           message="differ in shape"),
      dict(testcase_name="centres_shape", kwargs=dict(coarsest_centres=np.zeros((40, 4, 2, 3))),
           message="coarsest level"),
      dict(testcase_name="sigma", kwargs=dict(sigma_grids=[[0.1], [-1.0], [0.2]]),
           message=r"sigma_grids\[1\] must hold finite positive"),
      dict(testcase_name="grid_count", kwargs=dict(sigma_grids=[[0.1], [0.2]]),
           message="one grid per level"),
      dict(testcase_name="form", kwargs=dict(form="mean"), message="Unknown form"),
      dict(testcase_name="source", kwargs=dict(coarsest_source="test"),
           message="Unknown coarsest_source"),
      dict(testcase_name="few_centres", kwargs=dict(batch_size=50),
           message="fewer than the batch"),
      dict(testcase_name="noise", kwargs=dict(num_noise_samples=0),
           message="num_noise_samples"),
  )
  def test_bad_input_fails_before_any_work(self, kwargs, message):
    def generator(*args):
      raise AssertionError("work started")

    arguments = dict(test=self.test, validation=self.validation,
                     coarsest_centres=multiscale.coarsen(self.training, 2),
                     level_generator=generator, num_levels=2, num_noise_samples=3,
                     batch_size=4)
    arguments.update(kwargs)
    with mock.patch.object(parzen, "_block_log_sum_exp",
                           side_effect=AssertionError("work started")):
      with self.assertRaisesRegex(ValueError, message):
        multiscale.evaluate(**arguments)

  def test_generator_of_the_wrong_shape(self):
    def generator(level, coarse, noise_indices):
      return tf.zeros((coarse.shape[0], len(noise_indices)) + tuple(coarse.shape[1:]))

    with self.assertRaisesRegex(ValueError, r"returned shape \(4, 3, 4, 2, 3\); expected "
                                r"\(4, 3, 8, 4, 3\)"):
      multiscale.evaluate(self.test, self.validation, multiscale.coarsen(self.training, 2),
                          generator, num_levels=2, num_noise_samples=3, batch_size=4)


if __name__ == "__main__":
  tf.test.main()
