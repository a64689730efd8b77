"""Tests of the LAPGAN pyramids: the released operators against TensorFlow's, exact
reconstruction, sizes that do not halve, coarse images from the original."""

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers import pyramid


def _images(size, channels=3, batch=2, seed=0):
  # Unit-variance data, as the z-scored images the pyramids see.
  return np.random.default_rng(seed).normal(size=(batch, size, size, channels)).astype(
      np.float32)


class PyramidTest(test_case.TestCase):

  @test_case.parameterized.parameters((32, 16), (28, 14), (28, 8), (14, 8), (32, 28),
                                      (96, 64), (32, 8))
  def test_shrink_is_area_resize(self, src, dst):
    x = _images(src)
    expected = tf.image.resize(x, (dst, dst), method="area")
    # Each output averages at most ceil(src / dst) + 1 inputs of magnitude ~4.
    self.assertCloseForAccumulation(pyramid.resize(x, dst), expected,
                                    accumulation_length=4 * (src // dst + 2) ** 2, scale=4.0)

  @test_case.parameterized.parameters((16, 32), (8, 14), (14, 28), (8, 16), (64, 96), (4, 8))
  def test_enlarge_is_align_corners_bilinear(self, src, dst):
    x = _images(src)
    expected = tf.compat.v1.image.resize_bilinear(x, (dst, dst), align_corners=True)
    # TensorFlow computes the source position i * (src - 1) / (dst - 1) in float32: its
    # rounding grows with the index (2e-5 at 64 -> 96), the matrices are exact.
    self.assertCloseForAccumulation(pyramid.resize(x, dst), expected, accumulation_length=dst,
                                    scale=4.0)

  def test_tf2_bilinear_is_not_the_released_operator(self):
    # The pitfall the default guards against: TF2's half-pixel bilinear differs.
    x = _images(8)
    tf2 = tf.image.resize(x, (14, 14), method="bilinear")
    self.assertGreater(float(tf.reduce_max(tf.abs(pyramid.resize(x, 14) - tf2))), 0.1)

  def test_one_pixel_source_is_replicated(self):
    x = _images(1)
    np.testing.assert_array_equal(pyramid.resize(x, 5), np.broadcast_to(x, (2, 5, 5, 3)))

  def test_matrices_preserve_constants(self):
    for method in pyramid.METHODS:
      for src, dst in ((28, 14), (28, 8), (8, 14), (14, 28), (32, 16), (16, 32), (5, 3)):
        m = pyramid.resize_matrix(src, dst, method)
        self.assertEqual(m.shape, (dst, src))
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-12)

  def test_burt_adelson_reduce_is_the_5_tap_kernel(self):
    # Away from the borders, output i is sum_m w(m) x(2 i + m), w = (1, 4, 6, 4, 1) / 16.
    m = pyramid.resize_matrix(16, 8, "burt_adelson")
    np.testing.assert_allclose(m[3, 4:9], np.array([1, 4, 6, 4, 1]) / 16.0)
    self.assertAlmostEqual(m[3].sum(), 1.0)
    # EXPAND at factor 2, away from the borders: 4 sum_m w(m) g((i - m) / 2) (even i).
    e = pyramid.resize_matrix(8, 16, "burt_adelson")
    np.testing.assert_allclose(e[6, 2:5], np.array([1, 6, 1]) / 8.0)
    np.testing.assert_allclose(e[7, 3:5], np.array([4, 4]) / 8.0)

  @test_case.parameterized.product(
      sizes=[(28, 14, 8), (32, 16, 8), (96, 64, 32, 16, 8), (28, 14, 7)],
      method=pyramid.METHODS, coarse_from=pyramid.COARSE_FROM)
  def test_exact_reconstruction(self, sizes, method, coarse_from):
    p = pyramid.LaplacianPyramid(sizes, method=method, coarse_from=coarse_from)
    x = _images(sizes[0])
    coefficients = p.laplacian(x)
    self.assertEqual([c.shape[1] for c in coefficients], list(sizes))
    # A chain of K additions and subtractions of ~unit values: float32 rounding only.
    self.assertCloseForAccumulation(p.reconstruct(coefficients), x,
                                    accumulation_length=4 * len(sizes), scale=4.0)

  def test_levels_come_from_the_original_as_the_released_code(self):
    p = pyramid.LaplacianPyramid((28, 14, 8))
    x = _images(28)
    level = p.level(x, 1)
    expected_image = tf.image.resize(x, (14, 14), method="area")
    expected_low = tf.compat.v1.image.resize_bilinear(
        tf.image.resize(x, (8, 8), method="area"), (14, 14), align_corners=True)
    self.assertCloseForAccumulation(level["image"], expected_image, 16, scale=4.0)
    self.assertCloseForAccumulation(level["low_pass"], expected_low, 64, scale=4.0)
    self.assertCloseForAccumulation(level["residual"], level["image"] - level["low_pass"], 4,
                                    scale=4.0)
    # The thesis' repeated d differs for 28 -> 14 -> 8 (LAPGAN_FACTS §1.2) ...
    thesis = pyramid.LaplacianPyramid((28, 14, 8), coarse_from="previous")
    difference = tf.reduce_max(tf.abs(thesis.gaussian(x)[2] - p.gaussian(x)[2]))
    self.assertGreater(float(difference), 0.05)
    # ... and is the same for factor-2 sizes.
    a = pyramid.LaplacianPyramid((32, 16, 8)).gaussian(_images(32))[2]
    b = pyramid.LaplacianPyramid((32, 16, 8), coarse_from="previous").gaussian(_images(32))[2]
    self.assertCloseForAccumulation(a, b, 64, scale=4.0)

  def test_coarsest_level_has_no_low_pass(self):
    level = pyramid.LaplacianPyramid((16, 8)).level(_images(16), 1)
    self.assertEqual(level["image"].shape, (2, 8, 8, 3))
    self.assertIsNone(level["low_pass"])

  def test_bad_input(self):
    with self.assertRaisesRegex(ValueError, "strictly decreasing"):
      pyramid.LaplacianPyramid((8, 14, 28))
    with self.assertRaisesRegex(ValueError, "Unknown pyramid method 'gauss'"):
      pyramid.LaplacianPyramid((16, 8), method="gauss")
    with self.assertRaisesRegex(ValueError, "Unknown coarse_from"):
      pyramid.LaplacianPyramid((16, 8), coarse_from="x")
    p = pyramid.LaplacianPyramid((16, 8))
    with self.assertRaisesRegex(ValueError, r"\(batch, 16, 16, channels\).*\(2, 32, 32, 3\)"):
      p.laplacian(_images(32))
    with self.assertRaisesRegex(ValueError, "Unknown pyramid level 2"):
      p.level(_images(16), 2)


if __name__ == "__main__":
  tf.test.main()
