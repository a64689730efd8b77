"""Frame-quality metrics (SSIM, PSNR, MSE), batched and in-graph (SPEC §1.5).

Every function takes two tensors `(..., height, width, channels)` of the same shape, any
number of leading axes (e.g. `(batch, samples, time)`), and returns one score per frame,
shaped `(...)`: the evaluator scores every sample of every sequence at every step in one
call. Scores are computed per channel and averaged over channels, as the reference does
(edenton/svg `utils.eval_seq` loops over channels and averages).

Two SSIMs:
- `ssim_skimage_legacy`: scikit-image's old `skimage.measure.compare_ssim(gt, pred)` as
  the SVG reference calls it on one float channel (skimage <= 0.15, read at
  scikit-image/scikit-image commit 08019c3 `skimage/measure/_structural_similarity.py`):
  7x7 uniform window, K1 = 0.01, K2 = 0.03, sample covariances (window variances times
  N / (N - 1), N = 49: `use_sample_covariance=True`), dynamic range `dmax - dmin` of the
  float dtype range (-1, 1), i.e. 2.0, and the mean of the SSIM map cropped by the window
  radius (3 pixels) on every side. The cropped region is exactly the region where the
  window lies inside the frame, so a "valid" convolution reproduces it without any border
  handling. Equals today's `skimage.metrics.structural_similarity(gt, pred, win_size=7,
  data_range=2.0, channel_axis=-1)`.
- `ssim_gaussian`: the SSIM of Wang et al. 2004 used by later papers (SAVP, SRVP):
  11x11 Gaussian window with sigma 1.5 (normalised), population covariances, data range
  1.0, mean over the valid region; equals `tf.image.ssim(a, b, max_val=1.0)` and
  `skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1.0)`.

PSNR (`psnr`): the reference's `skimage.measure.compare_psnr(gt, pred)` (same skimage
versions, `skimage/measure/simple_metrics.py`) takes `data_range=None`, which for a float
ground truth with no negative value means `data_range = dmax = 1.0` (only a ground truth
with negative values would get `dmax - dmin = 2.0`). Frames in [0, 1] therefore use 1.0:
PSNR = 10 log10(1 / MSE), per channel, averaged over channels. An exact match (MSE 0)
gives +inf, as in skimage.

Window statistics are computed as float32 by default; `dtype=tf.float64` follows skimage's
float64 arithmetic exactly (the float32 results agree with skimage within 1e-5 on [0, 1]
frames).
"""

import math

import numpy as np
import tensorflow as tf

SSIM_VARIANTS = ("legacy", "gaussian")


def uniform_window(size=7):
  """1-D box filter of `size` taps summing to one (scipy's `uniform_filter`)."""
  return np.full((size,), 1.0 / size, np.float64)


def gaussian_window(size=11, sigma=1.5):
  """1-D normalised Gaussian of `size` taps (the 11-tap sigma 1.5 window of SSIM)."""
  x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
  window = np.exp(-0.5 * np.square(x / sigma))
  return window / window.sum()


def _fold_leading(x):
  """`(..., H, W, C)` -> `(N, H, W, C)` and the leading shape to unfold with."""
  shape = tf.shape(x)
  leading = shape[:-3]
  return tf.reshape(x, tf.concat([[-1], shape[-3:]], 0)), leading


def _separable_valid_filter(x, window):
  """Filters every channel of `x (N, H, W, K)` with `outer(window, window)`, 'VALID'."""
  size = window.shape[0]
  channels = x.shape[-1]
  window = tf.constant(window, x.dtype)
  vertical = tf.tile(tf.reshape(window, (size, 1, 1, 1)), (1, 1, channels, 1))
  horizontal = tf.tile(tf.reshape(window, (1, size, 1, 1)), (1, 1, channels, 1))
  x = tf.nn.depthwise_conv2d(x, vertical, (1, 1, 1, 1), "VALID")
  return tf.nn.depthwise_conv2d(x, horizontal, (1, 1, 1, 1), "VALID")


def structural_similarity(a, b, window, data_range, sample_covariance, k1=0.01, k2=0.03,
                          dtype=tf.float32):
  """SSIM per frame with a separable window, averaged over the valid region and channels.

  Args:
    a: `(..., H, W, C)` reference frames (the ground truth).
    b: `(..., H, W, C)` frames to score, same shape.
    window: 1-D numpy window; the 2-D window is its outer product.
    data_range: float, the `L` of the SSIM constants C1 = (k1 L)^2, C2 = (k2 L)^2.
    sample_covariance: bool, scale window (co)variances by N / (N - 1), N = window pixels.
    k1, k2: SSIM constants.
    dtype: computation dtype (float32 or float64).

  Returns:
    `(...)` SSIM of each frame pair, in `dtype`.
  """
  a = tf.cast(tf.convert_to_tensor(a), dtype)
  b = tf.cast(tf.convert_to_tensor(b), dtype)
  a, leading = _fold_leading(a)  # (N, H, W, C)
  b, _ = _fold_leading(b)
  # The five window statistics of every channel in one depthwise filter: (N, H, W, 5C).
  stacked = tf.concat([a, b, a * a, b * b, a * b], axis=-1)
  filtered = _separable_valid_filter(stacked, window)  # (N, H', W', 5C)
  mu_a, mu_b, mean_aa, mean_bb, mean_ab = tf.split(filtered, 5, axis=-1)
  num_pixels = window.shape[0] ** 2
  cov_norm = num_pixels / (num_pixels - 1.0) if sample_covariance else 1.0
  var_a = cov_norm * (mean_aa - mu_a * mu_a)
  var_b = cov_norm * (mean_bb - mu_b * mu_b)
  cov_ab = cov_norm * (mean_ab - mu_a * mu_b)
  c1 = (k1 * data_range) ** 2
  c2 = (k2 * data_range) ** 2
  ssim_map = ((2.0 * mu_a * mu_b + c1) * (2.0 * cov_ab + c2)) / (
      (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2))  # (N, H', W', C)
  per_frame = tf.reduce_mean(ssim_map, axis=(1, 2, 3))  # Mean over space, then channels.
  return tf.reshape(per_frame, leading)


def ssim_skimage_legacy(a, b, dtype=tf.float32):
  """The reference's SSIM: old skimage `compare_ssim` per channel (module docstring).

  Args:
    a: `(..., H, W, C)` ground-truth frames in [0, 1].
    b: `(..., H, W, C)` predicted frames.
    dtype: computation dtype.

  Returns:
    `(...)` SSIM per frame (7x7 uniform window, data range 2.0, sample covariance).
  """
  return structural_similarity(a, b, uniform_window(7), data_range=2.0,
                               sample_covariance=True, dtype=dtype)


def ssim_gaussian(a, b, dtype=tf.float32):
  """Wang et al.'s SSIM (11x11 Gaussian, sigma 1.5, data range 1), as `tf.image.ssim`.

  Args:
    a: `(..., H, W, C)` ground-truth frames in [0, 1].
    b: `(..., H, W, C)` predicted frames.
    dtype: computation dtype.

  Returns:
    `(...)` SSIM per frame.
  """
  return structural_similarity(a, b, gaussian_window(11, 1.5), data_range=1.0,
                               sample_covariance=False, dtype=dtype)


def ssim(a, b, variant="legacy", dtype=tf.float32):
  """SSIM of the named `variant`: "legacy" (`ssim_skimage_legacy`) or "gaussian"."""
  if variant == "legacy":
    return ssim_skimage_legacy(a, b, dtype)
  if variant == "gaussian":
    return ssim_gaussian(a, b, dtype)
  raise ValueError(f"Unknown SSIM variant {variant!r}; valid: {', '.join(SSIM_VARIANTS)}.")


def psnr(a, b, data_range=1.0, dtype=tf.float32):
  """PSNR per channel, averaged over channels (the reference's `compare_psnr`).

  Args:
    a: `(..., H, W, C)` ground-truth frames in [0, 1].
    b: `(..., H, W, C)` predicted frames.
    data_range: float, peak value; 1.0 is what `compare_psnr` picks for [0, 1] floats.
    dtype: computation dtype.

  Returns:
    `(...)` PSNR in dB (+inf for an exact match).
  """
  a = tf.cast(tf.convert_to_tensor(a), dtype)
  b = tf.cast(tf.convert_to_tensor(b), dtype)
  mse_per_channel = tf.reduce_mean(tf.square(a - b), axis=(-3, -2))  # (..., C)
  per_channel = 10.0 * (2.0 * math.log10(data_range) -
                        tf.math.log(mse_per_channel) / math.log(10.0))
  return tf.reduce_mean(per_channel, axis=-1)


def mse(a, b, dtype=tf.float32):
  """Mean squared error per frame over pixels and channels (the reference's `mse_metric`)."""
  a = tf.cast(tf.convert_to_tensor(a), dtype)
  b = tf.cast(tf.convert_to_tensor(b), dtype)
  return tf.reduce_mean(tf.square(a - b), axis=(-3, -2, -1))
