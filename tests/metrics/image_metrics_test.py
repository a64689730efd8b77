"""Tests of the in-graph SSIM / PSNR / MSE against scikit-image and `tf.image.ssim`."""

import numpy as np
from skimage import metrics as skimage_metrics
import tensorflow as tf

from tests import test_case
from tfgen.data import registry
from tfgen.metrics import image_metrics


def _frames():
  """Real SM-MNIST frames `(2, 3, 64, 64, 1)` and degraded versions of them."""
  dataset = registry.build("smmnist", "test", batch_size=2, num_frames=3, seed=0,
                           data_dir=test_case.test_data_dir())
  truth = next(iter(dataset)).numpy()
  rng = np.random.default_rng(0)
  noisy = np.clip(truth + rng.normal(0.0, 0.1, truth.shape), 0.0, 1.0).astype(np.float32)
  shifted = np.roll(truth, 2, axis=3)
  blurred = (truth + np.roll(truth, 1, axis=2) + np.roll(truth, 1, axis=3)) / 3.0
  return truth, {"noisy": noisy, "shifted": shifted, "blurred": blurred.astype(np.float32)}


def _per_frame(fn, a, b):
  """Applies a numpy metric of `(H, W, C)` frames over every leading index."""
  leading = a.shape[:-3]
  out = np.zeros(leading)
  for index in np.ndindex(*leading):
    out[index] = fn(a[index], b[index])
  return out


def _skimage_legacy(a, b):
  return skimage_metrics.structural_similarity(a, b, win_size=7, data_range=2.0,
                                               channel_axis=-1)


def _skimage_gaussian(a, b):
  return skimage_metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                               use_sample_covariance=False, data_range=1.0,
                                               channel_axis=-1)


def _skimage_psnr(a, b):
  # The reference averages per-channel PSNRs.
  return np.mean([skimage_metrics.peak_signal_noise_ratio(a[..., c], b[..., c], data_range=1.0)
                  for c in range(a.shape[-1])])


class ImageMetricsTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.truth, cls.degraded = _frames()

  @test_case.parameterized.product(degradation=("noisy", "shifted", "blurred"),
                                   dtype=("float32", "float64"))
  def test_matches_skimage(self, degradation, dtype):
    a, b = self.truth, self.degraded[degradation]
    dtype = tf.as_dtype(dtype)
    legacy = image_metrics.ssim_skimage_legacy(a, b, dtype=dtype)
    gaussian = image_metrics.ssim_gaussian(a, b, dtype=dtype)
    psnr = image_metrics.psnr(a, b, dtype=dtype)
    self.assertEqual(legacy.shape, (2, 3))
    self.assertAllClose(legacy, _per_frame(_skimage_legacy, a, b), atol=1e-4, rtol=0)
    self.assertAllClose(gaussian, _per_frame(_skimage_gaussian, a, b), atol=1e-4, rtol=0)
    self.assertAllClose(gaussian, tf.image.ssim(a, b, max_val=1.0), atol=1e-4, rtol=0)
    self.assertAllClose(psnr, _per_frame(_skimage_psnr, a, b), atol=1e-4, rtol=0)
    self.assertAllClose(image_metrics.mse(a, b), np.mean((a - b) ** 2, axis=(2, 3, 4)),
                        atol=1e-7, rtol=0)

  def test_rgb_channels_and_leading_axes(self):
    # (batch 2, samples 3, time 4, 32, 40, 3): per channel, averaged over channels.
    rng = np.random.default_rng(1)
    a = rng.uniform(size=(2, 3, 4, 32, 40, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0.0, 0.2, a.shape), 0.0, 1.0).astype(np.float32)
    legacy = image_metrics.ssim_skimage_legacy(a, b)
    self.assertEqual(legacy.shape, (2, 3, 4))
    self.assertAllClose(legacy, _per_frame(_skimage_legacy, a, b), atol=1e-4, rtol=0)
    self.assertAllClose(image_metrics.ssim_gaussian(a, b), _per_frame(_skimage_gaussian, a, b),
                        atol=1e-4, rtol=0)
    self.assertAllClose(image_metrics.psnr(a, b), _per_frame(_skimage_psnr, a, b),
                        atol=1e-4, rtol=0)

  def test_legacy_is_not_the_unit_range_ssim(self):
    # The legacy data range 2.0 matters: data range 1.0 gives other numbers.
    a, b = self.truth, self.degraded["noisy"]
    unit = image_metrics.structural_similarity(a, b, image_metrics.uniform_window(7), 1.0,
                                               sample_covariance=True)
    self.assertGreater(float(tf.reduce_max(tf.abs(
        unit - image_metrics.ssim_skimage_legacy(a, b)))), 1e-2)

  def test_identical_frames(self):
    a = self.truth
    self.assertAllClose(image_metrics.ssim_skimage_legacy(a, a), np.ones((2, 3)))
    self.assertAllClose(image_metrics.ssim_gaussian(a, a), np.ones((2, 3)))
    self.assertAllEqual(image_metrics.psnr(a, a), np.full((2, 3), np.inf))

  def test_in_graph(self):
    a, b = self.truth, self.degraded["noisy"]
    fn = tf.function(image_metrics.ssim_skimage_legacy,
                     input_signature=[tf.TensorSpec((None, None, 64, 64, 1))] * 2)
    self.assertAllClose(fn(a, b), image_metrics.ssim_skimage_legacy(a, b))

  def test_unknown_variant(self):
    with self.assertRaisesRegex(ValueError, "Unknown SSIM variant 'box'; valid: legacy, "
                                "gaussian"):
      image_metrics.ssim(self.truth, self.truth, "box")


if __name__ == "__main__":
  tf.test.main()
