"""Parzen-window log-likelihood: goodfeli/adversarial's `parzen_ll.py` in TensorFlow.

The estimator of the GAN papers (Goodfellow et al. 2014, Table 1; LAPGAN, thesis Table 4.1;
LAPGAN_FACTS §5.1): the model's density is replaced by an isotropic Gaussian mixture
centred on `N` of its samples,

    log p(x) ~= log( (1/N) sum_i N(x; mu_i, sigma^2 I) )
             = logsumexp_i( -||x - mu_i||^2 / (2 sigma^2) ) - log N - D log(sigma sqrt(2 pi)),

with `D` the number of values of one image. The protocol is the reference's exactly:

- sigma is the value of a grid (default `numpy.logspace(-1, 0, 10)`, the reference's
  `--sigma_start -1 --sigma_end 0 --cross_val 10`) with the highest mean log-likelihood of
  a validation set (the reference: MNIST training images 50,000..50,999, `-l 1000`); ties
  go to the first (`numpy.argmax`);
- the reported number is the mean log-likelihood of the test images under that sigma,
  with its standard error `std / sqrt(n)` (the reference's `se`, numpy's `std`, ddof 0)
  and the standard deviation across images (what the LAPGAN thesis reports as "+-");
- the reference draws 10,000 samples (`-n`) and evaluates in batches of 100 (`-b`);
  batching changes only the order in which images are visited, never a number.

How it is computed (nothing the reference specifies): the squared distances come from
one matrix product, ||x||^2 + ||mu||^2 - 2 x.mu, clamped at 0, after subtracting the
centres' mean from both sides (distances do not change; the cancellation error of the
product form shrinks with the norms). `precision="float32"` (default) runs the product
and the per-block log-sum-exp in float32 with the norms computed in float64;
`precision="float64"` runs everything in float64. Measured with 10,000 uniform samples,
sigma 0.2, the two differ by at most 3.3e-4 nats per image at 784-d (mean LL -860) and
9.7e-4 at 3072-d (mean LL -3810) (`benchmarks/parzen_throughput.py`), far below any
standard error. Centres are streamed in chunks (`chunk_size`) with a
running log-sum-exp in float64, so 50,000 samples x 10,000 images need only one
`(batch_size, chunk_size)` block of distances at a time; every sigma of a grid shares the
distances of one pass.
"""

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf

# The reference's grid: numpy.logspace(-1, 0, num=10) (parzen_ll.py --sigma_start,
# --sigma_end, --cross_val).
DEFAULT_SIGMA_GRID = tuple(float(s) for s in np.logspace(-1.0, 0.0, num=10))
# Images per block. parzen_ll.py's -b is 100; blocks change no number (only the order in
# which images are visited), and 1,000 runs the product 1.4x (784-d) to 2.4x (3072-d)
# faster on 2 CPU cores (benchmarks/parzen_throughput.py).
DEFAULT_BATCH_SIZE = 1000
DEFAULT_NUM_SAMPLES = 10_000  # parzen_ll.py -n (the LAPGAN thesis: 50,000)
DEFAULT_NUM_VALIDATION = 1_000  # parzen_ll.py -l
DEFAULT_CHUNK_SIZE = 10_000
PRECISIONS = ("float32", "float64")
ESTIMATOR = ("Parzen window (goodfeli/adversarial parzen_ll.py): mean over images of "
             "log((1/N) sum_i N(x; sample_i, sigma^2 I)), nats per image")


# ----------------------------------------------------------------------------- checks


def _as_matrix(values, name):
  """`values` as a float array `(n, D)` (one flattened image per row)."""
  array = np.asarray(values)
  if array.ndim < 2:
    raise ValueError(f"{name} must hold one image (or vector) per row, shape (n, ...); got "
                     f"shape {array.shape}.")
  if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
    raise ValueError(f"{name} must be real numbers; got dtype {array.dtype}.")
  return array.reshape(array.shape[0], -1)


def check_sigmas(sigmas, name="sigmas"):
  """`sigmas` as a 1-D float64 array; raises `ValueError` unless all are finite and > 0."""
  grid = np.atleast_1d(np.asarray(sigmas, dtype=np.float64))
  if grid.ndim != 1 or grid.size == 0:
    raise ValueError(f"{name} must be a non-empty list of bandwidths; got {sigmas!r}.")
  bad = grid[~(np.isfinite(grid) & (grid > 0))]
  if bad.size:
    raise ValueError(f"{name} must hold finite positive bandwidths; got {bad.tolist()} in "
                     f"{grid.tolist()}.")
  return grid


def check_inputs(samples, data, batch_size, samples_name="samples", data_name="data",
                 value_range=None):
  """Checks a Parzen evaluation's inputs before any work; returns them as `(n, D)` arrays.

  Raises:
    ValueError: shapes that differ (beyond the number of rows), empty or non-finite
      inputs, values outside `value_range` (when given: the data's scaling, e.g. (0, 1)),
      a non-positive batch size, or fewer samples than `batch_size`.
  """
  if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
    raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
  sample_shape, data_shape = np.shape(samples)[1:], np.shape(data)[1:]
  if sample_shape != data_shape:
    raise ValueError(f"{samples_name} and {data_name} must have the same shape per image: "
                     f"{samples_name} {tuple(np.shape(samples))}, {data_name} "
                     f"{tuple(np.shape(data))}.")
  centres, points = _as_matrix(samples, samples_name), _as_matrix(data, data_name)
  for array, name in ((centres, samples_name), (points, data_name)):
    if array.shape[0] == 0 or array.shape[1] == 0:
      raise ValueError(f"{name} is empty (shape {array.shape}).")
    if not np.all(np.isfinite(array)):
      raise ValueError(f"{name} holds non-finite values (NaN or inf).")
    if value_range is not None:
      low, high = value_range
      if array.min() < low or array.max() > high:
        raise ValueError(f"{name} has values in [{array.min():.4g}, {array.max():.4g}], "
                         f"outside the data's scaling [{low}, {high}]: samples and data "
                         "must be scaled alike.")
  if centres.shape[0] < batch_size:
    raise ValueError(f"{samples_name}: {centres.shape[0]} model samples, fewer than the batch "
                     f"({batch_size}); a Parzen estimate needs many samples (the reference "
                     f"draws {DEFAULT_NUM_SAMPLES:,}): draw more, or lower batch_size.")
  return centres, points


# ----------------------------------------------------------------------------- kernels


@tf.function(reduce_retracing=True)
def _block_log_sum_exp(x, x_sq, centres, centres_sq, coefficients):
  """`(S, b)`: logsumexp_i(coefficient_s * ||x_j - mu_i||^2) over one chunk of centres.

  x `(b, D)`, centres `(m, D)` (same dtype: the product's); x_sq `(b,)`, centres_sq
  `(m,)`, coefficients `(S,)` = -1 / (2 sigma^2), all in the dtype of the log-sum-exp.
  """
  dtype = coefficients.dtype
  # (b, m): the one big product; the norms were computed in float64.
  dots = tf.cast(tf.matmul(x, centres, transpose_b=True), dtype)
  squared = tf.maximum(x_sq[:, None] + centres_sq[None, :] - 2.0 * dots, 0.0)
  # (S, b, m) -> (S, b)
  return tf.reduce_logsumexp(coefficients[:, None, None] * squared[None], axis=-1)


def log_likelihoods(data, samples, sigmas, batch_size=DEFAULT_BATCH_SIZE,
                    chunk_size=DEFAULT_CHUNK_SIZE, precision="float32", value_range=None):
  """Per-image Parzen log-likelihoods of `data` under the mixture centred on `samples`.

  The reference's `theano_parzen` + `get_nll` (which, despite the name, returns
  log-likelihoods), for every sigma of `sigmas` in one pass over the distances.

  Args:
    data: `(n, ...)` images (or vectors) to evaluate.
    samples: `(N, ...)` model samples, the mixture's centres; same shape per image.
    sigmas: a bandwidth or a sequence of them (> 0).
    batch_size: images per block (the reference's `-b` is 100; the result does not depend
      on it); at least this many samples must be given.
    chunk_size: centres per block (memory: `len(sigmas) x batch_size x chunk_size`).
    precision: "float32" (product and block log-sum-exp in float32, norms in float64)
      or "float64".
    value_range: optional `(low, high)`: both inputs must lie in it (their scaling).

  Returns:
    float64 array `(n,)` for a scalar sigma, else `(len(sigmas), n)`, in nats.

  Raises:
    ValueError: see `check_inputs` and `check_sigmas`; an unknown precision.
  """
  if precision not in PRECISIONS:
    raise ValueError(f"Unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}.")
  grid = check_sigmas(sigmas)
  centres, points = check_inputs(samples, data, batch_size, value_range=value_range)
  if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
    raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
  num_centres, dimension = centres.shape
  # Distances do not change under a common shift; centring shrinks the norms and with them
  # the cancellation error of ||x||^2 + ||mu||^2 - 2 x.mu.
  shift = centres.mean(axis=0, dtype=np.float64)
  dtype = tf.as_dtype(precision)
  coefficients = tf.constant(-0.5 / grid**2, dtype)

  def operand(rows):
    # The centred rows in the product's dtype, and their squared norms in float64 (of the
    # rounded values the product sees), then in the log-sum-exp's dtype.
    centred = (rows.astype(np.float64) - shift).astype(dtype.as_numpy_dtype)
    wide = centred.astype(np.float64)
    return tf.constant(centred), tf.constant(np.einsum("ij,ij->i", wide, wide), dtype)

  chunks = [operand(centres[start:start + chunk_size])
            for start in range(0, num_centres, chunk_size)]
  totals = np.empty((grid.size, points.shape[0]), np.float64)
  for start in range(0, points.shape[0], batch_size):
    x, x_sq = operand(points[start:start + batch_size])
    running = np.full((grid.size, x.shape[0]), -np.inf)
    for chunk, chunk_sq in chunks:
      part = _block_log_sum_exp(x, x_sq, chunk, chunk_sq, coefficients).numpy()
      running = np.logaddexp(running, part.astype(np.float64))
    totals[:, start:start + x.shape[0]] = running
  # log mean over centres, minus the Gaussian's normaliser D log(sigma sqrt(2 pi)).
  totals -= math.log(num_centres) + dimension * np.log(grid * math.sqrt(2.0 * math.pi))[:, None]
  return totals[0] if np.ndim(sigmas) == 0 else totals


def choose_sigma(validation, samples, sigmas=DEFAULT_SIGMA_GRID, **kwargs):
  """The reference's `cross_validate_sigma`: the grid's sigma of highest mean validation LL.

  Returns:
    `(sigma, mean_log_likelihoods)`: the chosen bandwidth and the `(len(sigmas),)` mean
    validation log-likelihood of every sigma of the grid.
  """
  grid = check_sigmas(sigmas)
  means = log_likelihoods(validation, samples, grid, **kwargs).mean(axis=1)
  return float(grid[int(np.argmax(means))]), means


@dataclasses.dataclass
class ParzenResult:
  """A Parzen estimate and the protocol that produced it (`to_dict()` for JSON)."""
  mean: float
  standard_error: float
  standard_deviation: float
  sigma: float
  num_samples: int
  num_images: int
  dimension: int
  sigma_grid: Optional[Sequence[float]] = None
  validation_means: Optional[Sequence[float]] = None
  num_validation_images: Optional[int] = None
  precision: str = "float32"
  log_likelihoods: Optional[np.ndarray] = dataclasses.field(default=None, repr=False)

  def to_dict(self):
    """Everything but the per-image values, with the estimator and statistics named."""
    out = {k: v for k, v in dataclasses.asdict(self).items() if k != "log_likelihoods"}
    for key in ("sigma_grid", "validation_means"):
      if out[key] is not None:
        out[key] = [float(v) for v in out[key]]
    out["estimator"] = ESTIMATOR
    out["sigma_choice"] = ("argmax of the mean validation log-likelihood over sigma_grid"
                           if self.sigma_grid is not None else "given")
    out["statistics"] = ("mean over images; standard_error = std / sqrt(num_images) (GAN "
                         "papers); standard_deviation = std over images, ddof 0 (LAPGAN thesis)")
    return out


def evaluate(samples, test, validation=None, sigmas=DEFAULT_SIGMA_GRID, sigma=None,
             batch_size=DEFAULT_BATCH_SIZE, chunk_size=DEFAULT_CHUNK_SIZE, precision="float32",
             value_range=None):
  """parzen_ll.py end to end: sigma chosen on `validation`, then the test log-likelihood.

  Args:
    samples: `(N, ...)` model samples.
    test: `(n, ...)` images scored (the thesis scores a validation set here).
    validation: `(n_val, ...)` images choosing sigma over `sigmas`; not needed when
      `sigma` is given (the reference's `-s`).
    sigmas, batch_size, chunk_size, precision, value_range: see `log_likelihoods`.

  Returns:
    a `ParzenResult`.

  Raises:
    ValueError: bad inputs (`check_inputs`, `check_sigmas`), or neither `validation` nor
      `sigma`; all before any distance is computed.
  """
  kwargs = dict(batch_size=batch_size, chunk_size=chunk_size, precision=precision,
                value_range=value_range)
  # Every input is checked before the first (long) pass.
  check_inputs(samples, test, batch_size, data_name="test", value_range=value_range)
  if sigma is None:
    if validation is None:
      raise ValueError("Give a validation set to choose sigma on, or sigma itself.")
    grid = check_sigmas(sigmas)
    check_inputs(samples, validation, batch_size, data_name="validation",
                 value_range=value_range)
    sigma, means = choose_sigma(validation, samples, grid, **kwargs)
  else:
    sigma = float(check_sigmas(sigma, "sigma")[0])
    grid = means = None
  values = log_likelihoods(test, samples, sigma, **kwargs)
  std = float(values.std())
  return ParzenResult(
      mean=float(values.mean()), standard_error=std / math.sqrt(values.size),
      standard_deviation=std, sigma=sigma, num_samples=int(np.shape(samples)[0]),
      num_images=int(values.size), dimension=int(np.prod(np.shape(test)[1:])),
      sigma_grid=None if grid is None else grid.tolist(),
      validation_means=None if means is None else means.tolist(),
      num_validation_images=None if validation is None or grid is None else
      int(np.shape(validation)[0]),
      precision=precision, log_likelihoods=values)
