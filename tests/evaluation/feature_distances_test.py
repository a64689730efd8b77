"""Tests of `tfgen.evaluation.feature_distances` against numpy / scipy."""

import os

import keras
import numpy as np
import pytest
from scipy import linalg
from scipy import special
from scipy import stats

from tests import test_case
from tfgen.evaluation import feature_distances as fd


def scipy_frechet(a, b):
  """pytorch-fid's formula with scipy.linalg.sqrtm."""
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  root = linalg.sqrtm(cov_a @ cov_b)
  return float(np.sum((mu_a - mu_b)**2) + np.trace(cov_a + cov_b - 2 * root.real))


def numpy_mmd2(x, y):
  """mbinkowski/MMD-GAN `polynomial_mmd` (degree 3, gamma 1/d, coef0 1), unbiased."""
  d, m = x.shape[1], x.shape[0]
  k_xx, k_yy, k_xy = ((x @ x.T / d + 1)**3, (y @ y.T / d + 1)**3, (x @ y.T / d + 1)**3)
  return ((k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
          - 2 * k_xy.sum() / m**2)


class FrechetTest(test_case.TestCase):

  def test_equals_scipy_sqrtm(self):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6))
    b = 0.5 + rng.normal(size=(150, 6)) @ rng.normal(size=(6, 6))
    self.assertAlmostEqual(fd.frechet_distance(a, b), scipy_frechet(a, b), places=8)

  def test_commuting_covariances_closed_form(self):
    # Features whose sample moments are exactly diagonal: +-1 columns of a Hadamard design.
    design = linalg.hadamard(8)[:, 1:4].astype(np.float64)  # (8, 3), orthogonal, mean 0
    scale_a, scale_b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 0.5])
    a = design * scale_a
    b = design * scale_b + np.array([1.0, 0.0, -2.0])
    # cov = diag(scale^2 * 8 / 7): FID = ||dmu||^2 + sum (sqrt(v_a) - sqrt(v_b))^2.
    expected = 5.0 + np.sum((scale_a - scale_b)**2) * 8 / 7
    self.assertAlmostEqual(fd.frechet_distance(a, b), expected, places=10)

  def test_identical_sets_with_singular_covariance(self):
    # Fewer images than dimensions: singular covariances. The ~55 zero eigenvalues come out
    # as +-1e-15 and their square roots (~3e-8 each) remain: the error is ~1e-7 of the
    # trace, as with scipy's sqrtm (-3.2e-6 here).
    a = np.random.default_rng(1).normal(size=(10, 64))
    trace = np.trace(np.cov(a, rowvar=False))
    self.assertAlmostEqual(fd.frechet_distance(a, a), 0.0, delta=1e-6 * trace)
    self.assertAlmostEqual(fd.frechet_distance(a, a), scipy_frechet(a, a), delta=1e-6 * trace)

  def test_bad_input(self):
    with self.assertRaisesRegex(ValueError, "same feature dimension"):
      fd.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with self.assertRaisesRegex(ValueError, "feature matrix"):
      fd.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with self.assertRaisesRegex(ValueError, "non-finite"):
      fd.frechet_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))


class KernelDistanceTest(test_case.TestCase):

  def test_each_subset_is_the_unbiased_polynomial_mmd(self):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(40, 5)), 0.3 + rng.normal(size=(30, 5))
    mean, std = fd.kernel_distance(a, b, num_subsets=7, subset_size=20, seed=3)
    rows_a = fd.subset_indices(40, 20, 7, (3, 0))
    rows_b = fd.subset_indices(30, 20, 7, (3, 1))
    expected = [numpy_mmd2(a[i], b[j]) for i, j in zip(rows_a, rows_b)]
    self.assertAlmostEqual(mean, np.mean(expected), places=10)
    self.assertAlmostEqual(std, np.std(expected), places=10)
    for row in rows_a:
      self.assertLen(set(row), 20)  # without replacement

  def test_separates_distributions(self):
    rng = np.random.default_rng(4)
    a, same, other = (rng.normal(size=(300, 8)), rng.normal(size=(300, 8)),
                      1.0 + rng.normal(size=(300, 8)))
    mean_same, std_same = fd.kernel_distance(a, same, num_subsets=10, subset_size=100)
    mean_other, _ = fd.kernel_distance(a, other, num_subsets=10, subset_size=100)
    self.assertLess(abs(mean_same), 3 * std_same + 1e-3)
    self.assertGreater(mean_other, 10 * abs(mean_same))

  def test_subset_size_is_capped(self):
    a, b = np.random.default_rng(5).normal(size=(2, 12, 3))
    mean, std = fd.kernel_distance(a, b, num_subsets=3, subset_size=1000)
    self.assertAlmostEqual(mean, numpy_mmd2(a, b), places=10)  # every subset: all rows
    self.assertAlmostEqual(std, 0.0, places=10)


class ClassifierScoreTest(test_case.TestCase):

  def test_equals_scipy_kl(self):
    logits = np.random.default_rng(6).normal(size=(30, 4)) * 2
    p = special.softmax(logits, axis=1)
    scores = []
    for part in np.array_split(np.arange(30), 3):
      p_y = p[part].mean(0)
      scores.append(np.exp(np.mean([stats.entropy(p[i], p_y) for i in part])))
    mean, std = fd.classifier_score(logits, num_splits=3)
    self.assertAlmostEqual(mean, np.mean(scores), places=10)
    self.assertAlmostEqual(std, np.std(scores), places=10)

  def test_extremes(self):
    # Confident and balanced over 5 classes: 5. Identical predictions: 1.
    confident = np.tile(np.eye(5) * 50.0, (4, 1))
    self.assertAlmostEqual(fd.classifier_score(confident)[0], 5.0, places=6)
    self.assertAlmostEqual(fd.classifier_score(np.ones((20, 5)))[0], 1.0, places=12)

  def test_bad_splits(self):
    with self.assertRaisesRegex(ValueError, "num_splits"):
      fd.classifier_score(np.zeros((4, 3)), num_splits=5)


class InceptionTest(test_case.TestCase):

  def test_no_weights_file_is_skipped_not_faked(self):
    images = np.zeros((2, 8, 8, 3))
    result = fd.inception_fid(images, images, inception_weights=None)
    self.assertIsNone(result["fid_inception"])
    self.assertIn("skipped", result["skipped"])

  def test_missing_weights_file(self):
    path = os.path.join(self.get_temp_dir(), "absent.weights.h5")
    with self.assertRaisesRegex(ValueError, "no file at .*absent.weights.h5.*never downloads"):
      fd.inception_fid(np.zeros((2, 8, 8, 3)), np.zeros((2, 8, 8, 3)), inception_weights=path)

  @pytest.mark.slow  # 82 s measured on a busy 2-core machine (a 299x299 InceptionV3).
  def test_random_inception_weights_file(self):
    model = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg",
                                           input_shape=(299, 299, 3))
    path = os.path.join(self.make_temp_dir(), "random.weights.h5")
    model.save_weights(path)
    rng = np.random.default_rng(7)
    real, generated = rng.random((3, 28, 28, 1)), rng.random((4, 28, 28, 1))
    result = fd.inception_fid(real, generated, inception_weights=path, batch_size=2)
    # The same computation by hand with the in-memory model.
    resize = lambda x: np.repeat(  # pylint: disable=g-long-lambda
        test_case.tf.image.resize(x.astype(np.float32), (299, 299)).numpy(), 3, axis=-1)
    features = [model.predict(resize(x) * 2 - 1, verbose=0) for x in (real, generated)]
    self.assertEqual(features[0].shape, (3, 2048))
    self.assertAlmostEqual(result["fid_inception"], fd.frechet_distance(*features),
                           delta=1e-6 * max(1.0, abs(result["fid_inception"])))


if __name__ == "__main__":
  test_case.tf.test.main()
