"""Multi-scale Parzen log-likelihood of a pyramid model (LAPGAN thesis eq. 4.9-4.11).

A Laplacian-pyramid generator gives a density per level, so the thesis scores an image by
one Parzen window per level instead of one in pixel space (T:587-603; LAPGAN_FACTS §5.3,
the statement implemented here). One level of the 2-D Haar transform maps each 2x2 block
[[a, b], [c, d]] of every channel to

    s = (a + b + c + d) / 2                                   (= 2 x block mean)
    h = ((a - b + c - d) / 2, (a + b - c - d) / 2, (a - b - c + d) / 2),

an orthogonal map (|det| = 1, ||x||^2 = ||s||^2 + ||h||^2), so with x_0 = x and
(x_{k+1}, h_k) = Haar(x_k), exactly

    log p(x) = log q_K(x_K) + sum_{k=0}^{K-1} log q_k(h_k | x_{k+1}),

- q_K: a Parzen window (`tfgen.evaluation.parzen`) on the coarsest images with centres
  `coarsest_centres`: coarsened **training** images as the thesis (T:599,
  `coarsest_source="training"`, centres from `coarsen`) or samples of the coarsest
  generator G_K (`coarsest_source="generator"`, an option the thesis does not use);
- q_k(h | x_{k+1}) = (1/M) sum_i N(h; h~_{k,i}, sigma_k^2 I) in dimension 3 C (j_k/2)^2,
  with centres h~_{k,i} = Haar detail of the level-k image the model generates from the
  **true** low-pass x_{k+1} with noise z_{k,i}; the same M noise draws for every image
  (T:603, "same random seeds for each x");
- one sigma per level, each the grid value of highest mean term on the validation set.

Forms (`form=`): "orthonormal" (default) uses s as the coarse coordinates, so the change
of variables is exact. "block_mean" uses the block mean, as T:587 literally writes
(l = d(x)); that map has |det| = 2^(-C (j/2)^2) per level of size j x j, so the sum of
the level terms over-states log p(x) by ln 2 per coarse coordinate: C (j/2)^2 ln 2 per
level, 960 ln 2 = 665.4 nats for 32x32x3 with two levels (LAPGAN_FACTS §0.9, §5.3). This
module subtracts it (`correction_nats`) and reports the uncorrected sum too
(`uncorrected_mean`, the thesis's literal reading). With each level's sigmas scaled by
2^level the two forms give the same number (the default grids are: the reference's
grid, `parzen.DEFAULT_SIGMA_GRID`, times 2^level in the orthonormal form, i.e. the same
kernel widths in block-mean units).

The model plugs in through `level_generator(level, coarse, noise_indices)`:
`coarse` `(B, H_k/2, W_k/2, C)` is the true low-pass x_{k+1} in block-mean units (the
Gaussian pyramid of 2x2 box averages, which is Torch's `image.scale` shrink for factor 2,
LAPGAN_FACTS §1.2); it returns `(B, M, H_k, W_k, C)`: for every image and every index
i of `noise_indices` `(M,)`, the level-k image the model generates, u(l) + G_k(z_i, u(l))
in the same units (the model upsamples with its own u). Index i must mean the same noise
draw z_{k,i} in every call: `fixed_noise_generator` builds such a callable from a model's
`sample(level, coarse, noise)` by drawing the noise once per level.

Cost: `num_images x num_noise_samples` generator passes per level, for the validation
and the test images.
"""

import dataclasses
import math
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfgen.evaluation import parzen

FORMS = ("orthonormal", "block_mean")
COARSEST_SOURCES = ("training", "generator")
DEFAULT_BATCH_SIZE = 50  # Images per generator call (x noise_chunk draws each).
ESTIMATOR = ("multi-scale Parzen window (LAPGAN thesis eq. 4.9-4.11): log q_K(x_K) + sum_k "
             "log q_k(h_k | x_{k+1}) over 2-D Haar levels, nats per image")


# ----------------------------------------------------------------------------- Haar


def haar_level(images, form="orthonormal"):
  """One level of the 2-D Haar transform of `(B, H, W, C)` images (H, W even).

  Returns:
    `(coarse, detail)`: coarse `(B, H/2, W/2, C)` = s (orthonormal) or the block mean;
    detail `(B, H/2, W/2, 3C)`: the three orthonormal detail coefficients of each block,
    channels ordered [h1 of every channel, h2 ..., h3 ...].
  """
  _check_form(form)
  images = tf.convert_to_tensor(images)
  a, b = images[:, 0::2, 0::2], images[:, 0::2, 1::2]
  c, d = images[:, 1::2, 0::2], images[:, 1::2, 1::2]
  s = (a + b + c + d) / 2
  detail = tf.concat([(a - b + c - d) / 2, (a + b - c - d) / 2, (a - b - c + d) / 2], axis=-1)
  return (s if form == "orthonormal" else s / 2), detail


def inverse_haar_level(coarse, detail, form="orthonormal"):
  """Inverse of `haar_level`: `(B, h, w, C)` and `(B, h, w, 3C)` -> `(B, 2h, 2w, C)`."""
  _check_form(form)
  s = tf.convert_to_tensor(coarse)
  s = s if form == "orthonormal" else 2 * s
  h1, h2, h3 = tf.split(detail, 3, axis=-1)
  a, b = (s + h1 + h2 + h3) / 2, (s - h1 + h2 - h3) / 2
  c, d = (s + h1 - h2 - h3) / 2, (s - h1 - h2 + h3) / 2
  top = tf.reshape(tf.stack([a, b], axis=3), _interleaved_shape(a, 1))  # (B, h, 2w, C)
  bottom = tf.reshape(tf.stack([c, d], axis=3), _interleaved_shape(c, 1))
  return tf.reshape(tf.stack([top, bottom], axis=2), _interleaved_shape(top, 0))


def _interleaved_shape(x, axis):
  # (B, h, w, C) with its axis 1 + axis doubled.
  shape = tf.unstack(tf.shape(x))
  shape[1 + axis] = shape[1 + axis] * 2
  return tf.stack(shape)


def coarsen(images, num_levels):
  """`(B, H, W, C)` -> the Gaussian pyramid's level `num_levels` (2x2 block means)."""
  images = tf.convert_to_tensor(images)
  for _ in range(num_levels):
    images, _ = haar_level(images, "block_mean")
  return images


def _check_form(form):
  if form not in FORMS:
    raise ValueError(f"Unknown form {form!r}; valid: {', '.join(FORMS)}.")


# ----------------------------------------------------------------------------- noise


def fixed_noise_generator(sample, noise_shape, num_noise_samples, seed=0, minval=-1.0,
                          maxval=1.0):
  """A `level_generator` whose noise index i is the same draw z_{k,i} in every call.

  Args:
    sample: `sample(level, coarse, noise)` -> `(B, M, H_k, W_k, C)`: the model's level-k
      images for every coarse image `(B, ...)` and every noise `(M, *noise_shape)`.
    noise_shape: the shape of one noise draw, or a callable level -> shape.
    num_noise_samples: M_0, the draws per level.
    seed: int; level k's draws are `stateless_uniform(seed=(seed, k))`.
    minval, maxval: the uniform noise's range (LAPGAN: U(-1, 1)).

  Returns:
    `level_generator(level, coarse, noise_indices)`, the draws made once per level.
  """
  drawn = {}

  def level_generator(level, coarse, noise_indices):
    if level not in drawn:
      shape = noise_shape(level) if callable(noise_shape) else noise_shape
      drawn[level] = tf.random.stateless_uniform(
          (num_noise_samples,) + tuple(shape), seed=(seed, level), minval=minval,
          maxval=maxval)
    return sample(level, coarse, tf.gather(drawn[level], noise_indices))

  return level_generator


# ----------------------------------------------------------------------------- terms


@tf.function(reduce_retracing=True)
def _conditional_block(true_detail, centres, coefficients):
  """`(S, B)`: logsumexp_i(coefficient_s ||h_b - h~_{b,i}||^2) over a chunk of centres.

  true_detail `(B, D)`, centres `(B, m, D)` (each image its own centres), float64.
  """
  squared = tf.reduce_sum(tf.square(centres - true_detail[:, None, :]), axis=-1)  # (B, m)
  return tf.reduce_logsumexp(coefficients[:, None, None] * squared[None], axis=-1)


def _pyramid(images, num_levels, form):
  """[x_0 .. x_K] and [h_0 .. h_{K-1}] of `(B, H, W, C)` images, in `form`'s units."""
  coarse, details = [tf.convert_to_tensor(images, tf.float64)], []
  for _ in range(num_levels):
    x, h = haar_level(coarse[-1], form)
    coarse.append(x)
    details.append(h)
  return coarse, details


def _level_terms(images, level, num_levels, level_generator, num_noise_samples, grid,
                 form, batch_size, noise_chunk):
  """`(len(grid), n)`: log q_level(h_level | x_{level+1}) of every image, every sigma."""
  n = images.shape[0]
  coefficients = tf.constant(-0.5 / grid**2, tf.float64)
  totals = np.empty((grid.size, n))
  detail_scale = 2.0**level if form == "orthonormal" else 1.0
  mean_units = 2.0**(level + 1) if form == "orthonormal" else 1.0
  dimension = None
  for start in range(0, n, batch_size):
    coarse, details = _pyramid(images[start:start + batch_size], level + 1, form)
    true_detail = tf.reshape(details[level], (details[level].shape[0], -1))  # (B, D_k)
    dimension = int(true_detail.shape[1])
    low_pass = tf.cast(coarse[level + 1] / mean_units, tf.float32)  # x_{k+1}, mean units
    running = np.full((grid.size, true_detail.shape[0]), -np.inf)
    for first in range(0, num_noise_samples, noise_chunk):
      indices = tf.range(first, min(first + noise_chunk, num_noise_samples))
      generated = tf.convert_to_tensor(level_generator(level, low_pass, indices))
      expected = (low_pass.shape[0], int(indices.shape[0]), 2 * low_pass.shape[1],
                  2 * low_pass.shape[2], low_pass.shape[3])
      if tuple(generated.shape) != expected:
        raise ValueError(f"level_generator({level}, coarse {tuple(low_pass.shape)}, "
                         f"{int(indices.shape[0])} noise indices) returned shape "
                         f"{tuple(generated.shape)}; expected {expected} (batch, noise "
                         "draws, height, width, channels) at level "
                         f"{level} of {num_levels}.")
      # (B, m, H, W, C) -> (B * m, H, W, C) -> details (B, m, D_k), in form's units.
      folded = tf.reshape(tf.cast(generated, tf.float64), (-1,) + expected[2:])
      _, centres = haar_level(folded * detail_scale, form)
      centres = tf.reshape(centres, (expected[0], expected[1], dimension))
      part = _conditional_block(tf.cast(true_detail, tf.float64), centres, coefficients)
      running = np.logaddexp(running, part.numpy())
    totals[:, start:start + running.shape[1]] = running
  totals -= (math.log(num_noise_samples)
             + dimension * np.log(grid * math.sqrt(2.0 * math.pi))[:, None])
  return totals


# ----------------------------------------------------------------------------- estimate


@dataclasses.dataclass
class MultiscaleResult:
  """A multi-scale Parzen estimate and its protocol (`to_dict()` for JSON).

  `level_means[k]` is the mean test term of level k (0 = finest detail, `num_levels` =
  the coarsest Parzen term); `sigmas[k]` its bandwidth, `validation_means[k]` its grid's
  mean validation terms.
  """
  mean: float
  standard_error: float
  standard_deviation: float
  uncorrected_mean: float
  correction_nats: float
  form: str
  coarsest_source: str
  num_levels: int
  num_noise_samples: int
  num_coarsest_centres: int
  num_images: int
  num_validation_images: int
  image_shape: Sequence[int]
  sigmas: Sequence[float]
  sigma_grids: Sequence[Sequence[float]]
  validation_means: Sequence[Sequence[float]]
  level_means: Sequence[float]
  log_likelihoods: Optional[np.ndarray] = dataclasses.field(default=None, repr=False)

  def to_dict(self):
    out = {k: v for k, v in dataclasses.asdict(self).items() if k != "log_likelihoods"}
    out["estimator"] = ESTIMATOR
    out["haar"] = ("orthonormal 2-D Haar, coarse = (a+b+c+d)/2: exact change of variables"
                   if self.form == "orthonormal" else
                   "coarse = 2x2 block mean (thesis T:587): correction_nats = ln 2 x coarse "
                   "coordinates subtracted from the sum of the terms (uncorrected_mean)")
    out["coarsest_centres"] = ("coarsened training images (thesis T:599)"
                               if self.coarsest_source == "training" else
                               "samples of the coarsest generator G_K")
    out["sigma_choice"] = ("per level, argmax of the mean validation term over that "
                           "level's grid")
    out["noise"] = "num_noise_samples draws per level, the same for every image (T:603)"
    out["statistics"] = ("mean over images; standard_error = std / sqrt(num_images); "
                         "standard_deviation = std over images, ddof 0 (thesis)")
    return out


def _grids(sigma_grids, num_levels, form):
  """One grid per level 0..K (K = the coarsest term)."""
  if sigma_grids is None:
    base = np.asarray(parzen.DEFAULT_SIGMA_GRID)
    scale = (lambda k: 2.0**k) if form == "orthonormal" else (lambda k: 1.0)
    return [base * scale(k) for k in range(num_levels + 1)]
  grids = list(sigma_grids)
  if grids and np.ndim(grids[0]) == 0:
    grids = [grids] * (num_levels + 1)  # One grid for every level.
  if len(grids) != num_levels + 1:
    raise ValueError(f"sigma_grids must hold one grid per level ({num_levels} detail levels "
                     f"and the coarsest: {num_levels + 1}); got {len(grids)}.")
  return [parzen.check_sigmas(g, f"sigma_grids[{k}]") for k, g in enumerate(grids)]


def _check_images(images, name, num_levels):
  array = np.asarray(images)
  if array.ndim != 4:
    raise ValueError(f"{name} must be images (n, height, width, channels); got shape "
                     f"{array.shape}.")
  factor = 2**num_levels
  if array.shape[1] % factor or array.shape[2] % factor:
    raise ValueError(f"{name}: {num_levels} Haar levels need height and width divisible by "
                     f"{factor}; got {array.shape[1]}x{array.shape[2]}.")
  if array.shape[0] == 0 or not np.all(np.isfinite(array)):
    raise ValueError(f"{name} is empty or holds non-finite values.")
  return array


def evaluate(test, validation, coarsest_centres, level_generator: Optional[Callable],
             num_levels, num_noise_samples, sigma_grids=None, form="orthonormal",
             coarsest_source="training", batch_size=DEFAULT_BATCH_SIZE, noise_chunk=256):
  """The multi-scale Parzen estimate of `test` (module docstring).

  Args:
    test: `(n, H, W, C)` images scored.
    validation: `(n_val, H, W, C)` images choosing each level's sigma.
    coarsest_centres: `(N_0, H / 2^K, W / 2^K, C)` in block-mean units: `coarsen(training
      images, K)` (thesis) or G_K's samples (`coarsest_source="generator"`).
    level_generator: `(level, coarse, noise_indices) -> (B, M, H_k, W_k, C)` (module
      docstring); unused (may be None) when `num_levels` is 0.
    num_levels: K, the Haar levels (0: the single-scale estimate of `parzen`).
    num_noise_samples: M_0, noise draws per level (same for every image).
    sigma_grids: None (module docstring), one grid for every level, or K + 1 grids
      (index k = level k, the last = the coarsest term).
    form: "orthonormal" or "block_mean" (module docstring).
    coarsest_source: "training" or "generator": recorded in the protocol.
    batch_size: images per generator call and Parzen block (memory: batch_size x
      noise_chunk generated images at a time).
    noise_chunk: noise indices per generator call.

  Returns:
    a `MultiscaleResult`.

  Raises:
    ValueError: inputs of other shapes, sizes not divisible by 2^K, non-positive sigmas,
      unknown form or source, fewer coarsest centres than the batch; before any work.
  """
  _check_form(form)
  if coarsest_source not in COARSEST_SOURCES:
    raise ValueError(f"Unknown coarsest_source {coarsest_source!r}; valid: "
                     f"{', '.join(COARSEST_SOURCES)}.")
  if not isinstance(num_levels, (int, np.integer)) or num_levels < 0:
    raise ValueError(f"num_levels must be an integer >= 0; got {num_levels!r}.")
  if num_levels and level_generator is None:
    raise ValueError("A level_generator is needed for num_levels > 0.")
  if num_levels and (not isinstance(num_noise_samples, (int, np.integer))
                     or num_noise_samples < 1):
    raise ValueError(f"num_noise_samples must be a positive integer; got "
                     f"{num_noise_samples!r}.")
  if not isinstance(noise_chunk, (int, np.integer)) or noise_chunk < 1:
    raise ValueError(f"noise_chunk must be a positive integer; got {noise_chunk!r}.")
  test = _check_images(test, "test", num_levels)
  validation = _check_images(validation, "validation", num_levels)
  if validation.shape[1:] != test.shape[1:]:
    raise ValueError(f"validation images {validation.shape[1:]} and test images "
                     f"{test.shape[1:]} differ in shape.")
  centres = np.asarray(coarsest_centres)
  factor = 2**num_levels
  expected = (test.shape[1] // factor, test.shape[2] // factor, test.shape[3])
  if centres.ndim != 4 or centres.shape[1:] != expected:
    raise ValueError(f"coarsest_centres must be (N, {', '.join(map(str, expected))}) images "
                     f"at the coarsest level ({test.shape[1]}x{test.shape[2]} / {factor}); "
                     f"got shape {centres.shape}.")
  grids = _grids(sigma_grids, num_levels, form)
  # The coarsest term in form's units: s = 2^K x block mean in the orthonormal form.
  coarse_scale = float(factor) if form == "orthonormal" else 1.0
  scaled_centres = centres.astype(np.float64) * coarse_scale
  parzen.check_inputs(scaled_centres, scaled_centres[:1], batch_size,
                      samples_name="coarsest_centres", data_name="coarsest_centres")

  def coarsest(images):
    return coarsen(images.astype(np.float64), num_levels).numpy() * coarse_scale

  sigmas, validation_means, test_terms = [], [], []
  for level in range(num_levels):
    kwargs = dict(level=level, num_levels=num_levels, level_generator=level_generator,
                  num_noise_samples=num_noise_samples, form=form, batch_size=batch_size,
                  noise_chunk=noise_chunk)
    means = _level_terms(validation, grid=grids[level], **kwargs).mean(axis=1)
    sigma = float(grids[level][int(np.argmax(means))])
    test_terms.append(_level_terms(test, grid=np.array([sigma]), **kwargs)[0])
    sigmas.append(sigma)
    validation_means.append(means.tolist())
  sigma, means = parzen.choose_sigma(coarsest(validation), scaled_centres, grids[-1],
                                     batch_size=batch_size, precision="float64")
  test_terms.append(parzen.log_likelihoods(coarsest(test), scaled_centres, sigma,
                                           batch_size=batch_size, precision="float64"))
  sigmas.append(sigma)
  validation_means.append(means.tolist())

  uncorrected = np.sum(test_terms, axis=0)
  # Block means: ln 2 per coarse coordinate of every level, C (j_k / 2)^2 at level k.
  correction = 0.0
  if form == "block_mean":
    correction = math.log(2.0) * sum(
        test.shape[3] * (test.shape[1] // 2**(k + 1)) * (test.shape[2] // 2**(k + 1))
        for k in range(num_levels))
  values = uncorrected - correction
  std = float(values.std())
  return MultiscaleResult(
      mean=float(values.mean()), standard_error=std / math.sqrt(values.size),
      standard_deviation=std, uncorrected_mean=float(uncorrected.mean()),
      correction_nats=correction, form=form, coarsest_source=coarsest_source,
      num_levels=num_levels, num_noise_samples=int(num_noise_samples) if num_levels else 0,
      num_coarsest_centres=int(centres.shape[0]), num_images=int(values.size),
      num_validation_images=int(validation.shape[0]), image_shape=list(test.shape[1:]),
      sigmas=sigmas, sigma_grids=[np.asarray(g).tolist() for g in grids],
      validation_means=validation_means,
      level_means=[float(np.mean(t)) for t in test_terms], log_likelihoods=values)
