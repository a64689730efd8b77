"""Nearest neighbours of samples among training images (LAPGAN thesis Fig. 4.10, 4.11).

A generative model that copies its training set has samples that sit on training images;
showing each sample next to its k nearest training images (in pixel space, and in a
classifier's feature space, where a copy with shifted pixels is still close) lets a reader
see whether it does.

Distances are squared Euclidean, from one matrix product per chunk of references,
||q||^2 + ||r||^2 - 2 q.r in float64 (clamped at 0), with a running top-k merged chunk
by chunk, so the references (e.g. 50,000 training images) are never held as one
`(queries, references)` matrix. Ties go to the lower reference index.
"""

import numpy as np
import tensorflow as tf

from tfgen.utils import images as images_lib

DEFAULT_CHUNK_SIZE = 10_000


def _matrix(values, name):
  array = np.asarray(values)
  if array.ndim < 2 or array.shape[0] == 0:
    raise ValueError(f"{name} must hold one image (or feature vector) per row, shape (n, ...) "
                     f"with n >= 1; got shape {array.shape}.")
  if not np.all(np.isfinite(array)):
    raise ValueError(f"{name} holds non-finite values (NaN or inf).")
  return array.reshape(array.shape[0], -1).astype(np.float64)


@tf.function(reduce_retracing=True)
def _chunk_distances(queries, queries_sq, references):
  """`(q, m)` squared distances of the queries to one chunk of references (float64)."""
  references_sq = tf.reduce_sum(tf.square(references), axis=-1)
  dots = tf.matmul(queries, references, transpose_b=True)
  return tf.maximum(queries_sq[:, None] + references_sq[None, :] - 2.0 * dots, 0.0)


def nearest_neighbours(queries, references, k, chunk_size=DEFAULT_CHUNK_SIZE):
  """The `k` nearest references of every query (squared Euclidean distance).

  Args:
    queries: `(q, ...)` samples (images or features).
    references: `(n, ...)` training images or their features; same shape per row.
    k: neighbours per query, 1 <= k <= n.
    chunk_size: references per matrix product.

  Returns:
    `(indices, distances)`: int64 `(q, k)` indices into `references`, nearest first, and
    float64 `(q, k)` squared distances.

  Raises:
    ValueError: shapes that differ, empty or non-finite inputs, k out of range.
  """
  if np.shape(queries)[1:] != np.shape(references)[1:]:
    raise ValueError(f"queries {tuple(np.shape(queries))} and references "
                     f"{tuple(np.shape(references))} must have the same shape per row.")
  q, r = _matrix(queries, "queries"), _matrix(references, "references")
  if not isinstance(k, (int, np.integer)) or not 1 <= k <= r.shape[0]:
    raise ValueError(f"k must be an integer in [1, {r.shape[0]}] (the number of references); "
                     f"got {k!r}.")
  if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
    raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
  # Distances do not change under a common shift; centring shrinks the norms and with them
  # the cancellation error of the product form.
  shift = r.mean(axis=0)
  q = q - shift
  queries_t = tf.constant(q)
  queries_sq = tf.constant(np.einsum("ij,ij->i", q, q))
  best_d = np.full((q.shape[0], 0), np.inf)
  best_i = np.zeros((q.shape[0], 0), np.int64)
  for start in range(0, r.shape[0], chunk_size):
    chunk = r[start:start + chunk_size] - shift
    d = _chunk_distances(queries_t, queries_sq, tf.constant(chunk)).numpy()
    take = min(k, d.shape[1])
    # Stable sort keeps the lower index first among equal distances.
    local = np.argsort(d, axis=1, kind="stable")[:, :take]
    cand_d = np.concatenate([best_d, np.take_along_axis(d, local, axis=1)], axis=1)
    cand_i = np.concatenate([best_i, local + start], axis=1)
    order = np.lexsort((cand_i, cand_d), axis=1)[:, :k]
    best_d = np.take_along_axis(cand_d, order, axis=1)
    best_i = np.take_along_axis(cand_i, order, axis=1)
  return best_i, best_d


def figure(samples, references, indices):
  """A grid image: per row one sample (red border), then its neighbours (green).

  Args:
    samples: `(q, H, W, C)` images in [0, 1] (clipped for display).
    references: `(n, H, W, C)` images in [0, 1].
    indices: `(q, k)` neighbour indices into `references` (`nearest_neighbours`).

  Returns:
    an RGB float image for `tfgen.utils.images.save_png`.
  """
  samples, references = np.asarray(samples), np.asarray(references)
  if samples.shape[1:] != references.shape[1:] or samples.ndim != 4:
    raise ValueError(f"samples {samples.shape} and references {references.shape} must be "
                     "images (n, height, width, channels) of one shape.")
  rows = []
  for sample, neighbours in zip(samples, np.asarray(indices)):
    row = [images_lib.framed(sample, images_lib.RED)]
    row += [images_lib.framed(references[j], images_lib.GREEN) for j in neighbours]
    rows.append(row)
  return images_lib.grid(rows)
