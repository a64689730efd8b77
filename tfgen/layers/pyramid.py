"""Gaussian and Laplacian image pyramids (LAPGAN, thesis §4.2; Burt & Adelson 1983).

Every resampling here is a pair of 1-D matrices (rows, columns) applied with one `einsum`,
so any sizes work (8 -> 14 -> 28 as well as 8 -> 16 -> 32), the operators are exactly
the documented rules, and they run under XLA and in exported graphs.

Operators (`method`):
- "released" (default): Torch `image.scale` in its default bilinear mode, the operator
  of the released LAPGAN code (LAPGAN_FACTS §1.2): shrinking is a fractional box average
  (output cell i averages input [i s, (i + 1) s), s = src / dst, with fractional weights
  at both ends), which is `tf.image.resize(method="area")`; enlarging is align-corners
  bilinear interpolation (`scale = (src - 1) / (dst - 1)`, first and last samples kept),
  which is `tf.compat.v1.image.resize_bilinear(align_corners=True)`; a 1-pixel source is
  replicated; the same size is a copy.
- "burt_adelson": Burt and Adelson's 5-tap generating kernel (a = 0.375: weights
  1/16, 4/16, 6/16, 4/16, 1/16) applied at the samples `i * src / dst` (linear
  interpolation between taps for a ratio that is not 2; mirror-reflected at the borders,
  renormalised), i.e. "blur and decimate"; enlarging is the transpose of the matching
  shrink with each row renormalised to sum to 1 ("smooth and expand"; for a factor 2 this
  is B&A's EXPAND, 4 sum_m w(m) g((i - m) / 2), away from the borders).

The pyramid (`LaplacianPyramid`): sizes from the finest to the coarsest, e.g.
(28, 14, 8). `coarse_from="original"` (default, the released code:
`coarse_to_fine_cifar10.lua` makes each level's coarse image from the full-resolution
image, `scale(x, c)`) or "previous" (the thesis: x_{k+1} = d(x_k)). For factor-2 sizes and
"released" the two are the same; for 28 -> 14 -> 8 they are not (LAPGAN_FACTS §1.2).
Reconstruction x_k = u(x_{k+1}) + h_k is exact whatever the operators (eq. 4.6).
"""

import numpy as np
import tensorflow as tf

from tfgen.utils import resampling

METHODS = ("released", "burt_adelson")
COARSE_FROM = ("original", "previous")

_BURT_ADELSON_TAPS = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _check_sizes(src, dst):
  if int(src) < 1 or int(dst) < 1:
    raise ValueError(f"Image sizes must be >= 1; got {src} -> {dst}.")


def released_matrix(src, dst):
  """`(dst, src)` matrix of Torch `image.scale` (bilinear mode) along one axis."""
  _check_sizes(src, dst)
  return resampling.torch_scale_matrix(src, dst)


def _reflect(j, n):
  # Mirror reflection without repeating the edge sample: -1 -> 1, n -> n - 2.
  if n == 1:
    return 0
  period = 2 * (n - 1)
  j = abs(j) % period
  return period - j if j >= n else j


def _burt_adelson_shrink(src, dst):
  m = np.zeros((dst, src), np.float64)
  ratio = src / dst
  for i in range(dst):
    centre = i * ratio
    base = int(np.floor(centre))
    frac = centre - base
    for tap, weight in zip(range(-2, 3), _BURT_ADELSON_TAPS):
      for offset, share in ((0, 1.0 - frac), (1, frac)):
        if share > 0:
          m[i, _reflect(base + offset + tap, src)] += weight * share
  return m / m.sum(axis=1, keepdims=True)


def burt_adelson_matrix(src, dst):
  """`(dst, src)` matrix of Burt & Adelson's 5-tap REDUCE (shrink) or EXPAND (enlarge)."""
  _check_sizes(src, dst)
  if dst == src:
    return np.eye(src)
  if dst < src:
    return _burt_adelson_shrink(src, dst)
  expand = _burt_adelson_shrink(dst, src).T  # (dst, src)
  return expand / expand.sum(axis=1, keepdims=True)


def resize_matrix(src, dst, method="released"):
  """The `(dst, src)` float64 matrix that resamples one axis of length `src` to `dst`."""
  if method == "released":
    return released_matrix(int(src), int(dst))
  if method == "burt_adelson":
    return burt_adelson_matrix(int(src), int(dst))
  raise ValueError(f"Unknown pyramid method {method!r}; valid: {', '.join(METHODS)}.")


def resize(images, size, method="released"):
  """Resamples `(batch, H, W, C)` images to `(batch, size, size, C)` (or `size=(h, w)`).

  The static height and width of `images` must be known.
  """
  images = tf.convert_to_tensor(images)
  height, width = images.shape[-3], images.shape[-2]
  if height is None or width is None:
    raise ValueError(f"resize needs images of known height and width; got {images.shape}.")
  out_h, out_w = (size, size) if np.ndim(size) == 0 else tuple(size)
  if (out_h, out_w) == (height, width):
    return images
  rows = tf.constant(resize_matrix(height, out_h, method), images.dtype)  # (out_h, H)
  cols = tf.constant(resize_matrix(width, out_w, method), images.dtype)  # (out_w, W)
  return tf.einsum("ph,...hwc,qw->...pqc", rows, images, cols)


class LaplacianPyramid:
  """The Gaussian and Laplacian pyramids of images, finest level first.

  Args:
    sizes: sequence of ints, the square image size of each level from the finest (the
      images' own size, level 0) to the coarsest (level K = len(sizes) - 1), e.g.
      (28, 14, 8) (thesis CIFAR-10), (32, 16) (released code), (64, 32, 16, 8, 4) (LSUN).
      Strictly decreasing.
    method: "released" (Torch `image.scale`, default) or "burt_adelson" (module
      docstring).
    coarse_from: "original" (each level's image made from level 0, as the released code;
      default) or "previous" (x_{k+1} = d(x_k), the thesis).

  Level k < K pairs the image x_k with its low-pass l_k = u(x_{k+1}) (at size k) and the
  Laplacian coefficient h_k = x_k - l_k; h_K = x_K (eq. 4.5).
  """

  def __init__(self, sizes, method="released", coarse_from="original"):
    sizes = tuple(int(s) for s in sizes)
    if not sizes or any(s < 1 for s in sizes) or any(
        a <= b for a, b in zip(sizes, sizes[1:])):
      raise ValueError(f"Pyramid sizes must be positive and strictly decreasing from the "
                       f"finest level; got {sizes}.")
    if method not in METHODS:
      raise ValueError(f"Unknown pyramid method {method!r}; valid: {', '.join(METHODS)}.")
    if coarse_from not in COARSE_FROM:
      raise ValueError(f"Unknown coarse_from {coarse_from!r}; valid: "
                       f"{', '.join(COARSE_FROM)}.")
    self.sizes = sizes
    self.method = method
    self.coarse_from = coarse_from

  @property
  def num_levels(self):
    return len(self.sizes)

  def check_level(self, level):
    if not 0 <= level < self.num_levels:
      raise ValueError(f"Unknown pyramid level {level}; valid: 0..{self.num_levels - 1} "
                       f"(sizes {self.sizes}).")

  def _check_images(self, images):
    shape = tuple(images.shape)
    if len(shape) != 4 or shape[1] != self.sizes[0] or shape[2] != self.sizes[0]:
      raise ValueError(f"Pyramid images must be (batch, {self.sizes[0]}, {self.sizes[0]}, "
                       f"channels) for sizes {self.sizes}; got shape {shape}.")

  def shrink(self, images, size):
    return resize(images, size, self.method)

  def enlarge(self, images, size):
    """u: resamples coarser images up to `size` (the level above's size)."""
    return resize(images, size, self.method)

  def gaussian(self, images):
    """`[x_0, ..., x_K]`: the images at every level's size."""
    images = tf.convert_to_tensor(images)
    self._check_images(images)
    levels = [images]
    for size in self.sizes[1:]:
      source = images if self.coarse_from == "original" else levels[-1]
      levels.append(self.shrink(source, size))
    return levels

  def laplacian(self, images):
    """`[h_0, ..., h_{K-1}, x_K]` (eq. 4.5)."""
    gaussian = self.gaussian(images)
    coefficients = [fine - self.enlarge(coarse, size)
                    for fine, coarse, size in zip(gaussian, gaussian[1:], self.sizes)]
    return coefficients + [gaussian[-1]]

  def reconstruct(self, coefficients):
    """x_0 from `[h_0, ..., h_{K-1}, x_K]` (eq. 4.6): x_k = u(x_{k+1}) + h_k."""
    if len(coefficients) != self.num_levels:
      raise ValueError(f"reconstruct needs {self.num_levels} coefficient images; got "
                       f"{len(coefficients)}.")
    image = coefficients[-1]
    for k in range(self.num_levels - 2, -1, -1):
      image = self.enlarge(image, self.sizes[k]) + coefficients[k]
    return image

  def level(self, images, level):
    """What level `level` trains on: `{"image", "low_pass", "residual"}`.

    "image" is x_k `(B, F, F, C)`; for k < K "low_pass" is l_k = u(x_{k+1}) and
    "residual" h_k = x_k - l_k, both `(B, F, F, C)`; for the coarsest level both are None.
    """
    self.check_level(level)
    images = tf.convert_to_tensor(images)
    self._check_images(images)
    if self.coarse_from == "previous":
      gaussian = self.gaussian(images)
      fine = gaussian[level]
      coarse = gaussian[level + 1] if level + 1 < self.num_levels else None
    else:
      fine = self.shrink(images, self.sizes[level])
      coarse = (self.shrink(images, self.sizes[level + 1])
                if level + 1 < self.num_levels else None)
    if coarse is None:
      return {"image": fine, "low_pass": None, "residual": None}
    low_pass = self.enlarge(coarse, self.sizes[level])
    return {"image": fine, "low_pass": low_pass, "residual": fine - low_pass}

  def get_config(self):
    return {"sizes": self.sizes, "method": self.method, "coarse_from": self.coarse_from}
