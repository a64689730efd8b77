"""Distances between real and generated images in a classifier's feature space.

All in TensorFlow, in float64, on feature matrices `(n, d)` (or logits `(n, classes)`):

- `frechet_distance` (FID when the features are InceptionV3's; Heusel et al. 2017):
  ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)) with unbiased covariances
  (ddof 1, as pytorch-fid and TF-GAN). Tr (S_1 S_2)^(1/2) is computed as the sum of the
  square roots of the eigenvalues of the symmetric matrix S_1^(1/2) S_2 S_1^(1/2) (the same
  eigenvalues as S_1 S_2), with S_1^(1/2) from `eigh` and negative rounding eigenvalues
  clamped at 0: symmetric eigen-decompositions only, so the result is real by construction
  (`scipy.linalg.sqrtm(S_1 S_2)` of the non-symmetric product returns complex values whose
  imaginary part pytorch-fid must check and drop). With fewer images than feature
  dimensions the covariances are singular and the result carries ~1e-7 of the trace of
  rounding, as scipy's.
- `kernel_distance` (KID; Binkowski et al. 2018, "Demystifying MMD GANs"): the unbiased
  MMD^2 estimate with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over
  `num_subsets` random subsets of `subset_size` rows of each side drawn without
  replacement (the paper's code, `polynomial_mmd_averages`: 100 subsets of 1,000);
  returns the mean and the standard deviation over subsets. The estimate can be negative.
- `classifier_score` (the Inception score's form, Salimans et al. 2016; DrNET's KTH score,
  thesis eq. 5.8-5.9): exp(mean_x KL(p(y|x) || p(y))) with p(y) the mean of p(y|x) over
  the images of a split; mean and std over `num_splits` consecutive splits (the Inception
  score's protocol uses 10; 1 = one number on all images).

Features come from tfgen's own classifier (`python -m tfgen.bin.train --model=classifier`,
`tfgen.models.classifier`; `classifier_outputs`) or, only when the user supplies its weights
file, from Keras's InceptionV3 (`inception_features`): nothing is downloaded; without the
file the Inception metric is skipped with a message (`inception_fid`), never faked.
"""

import os

from absl import logging
import numpy as np
import tensorflow as tf

INCEPTION_SIZE = 299
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


def _features(values, name):
  array = np.asarray(values)
  if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 1:
    raise ValueError(f"{name} must be a feature matrix (n >= 2, d >= 1); got shape "
                     f"{array.shape}.")
  if not np.all(np.isfinite(array)):
    raise ValueError(f"{name} holds non-finite values.")
  return tf.constant(array, tf.float64)


def _check_pair(a, b, names):
  a, b = _features(a, names[0]), _features(b, names[1])
  if a.shape[1] != b.shape[1]:
    raise ValueError(f"{names[0]} and {names[1]} must have the same feature dimension; got "
                     f"{a.shape[1]} and {b.shape[1]}.")
  return a, b


# ----------------------------------------------------------------------------- Fréchet


def moments(features):
  """Mean `(d,)` and unbiased covariance `(d, d)` of `(n, d)` features, float64."""
  features = tf.convert_to_tensor(features, tf.float64)
  mean = tf.reduce_mean(features, axis=0)
  centred = features - mean
  n = tf.cast(tf.shape(features)[0], tf.float64)
  return mean, tf.matmul(centred, centred, transpose_a=True) / (n - 1.0)


def _symmetric_sqrt(matrix):
  values, vectors = tf.linalg.eigh(matrix)
  roots = tf.sqrt(tf.maximum(values, 0.0))
  return tf.matmul(vectors * roots[None, :], vectors, transpose_b=True)


@tf.function(reduce_retracing=True)
def _frechet(mean_a, cov_a, mean_b, cov_b):
  root_a = _symmetric_sqrt(cov_a)
  product = tf.matmul(root_a, tf.matmul(cov_b, root_a))
  product = (product + tf.transpose(product)) / 2.0  # Symmetric up to rounding.
  trace_sqrt = tf.reduce_sum(tf.sqrt(tf.maximum(tf.linalg.eigvalsh(product), 0.0)))
  return (tf.reduce_sum(tf.square(mean_a - mean_b)) + tf.linalg.trace(cov_a)
          + tf.linalg.trace(cov_b) - 2.0 * trace_sqrt)


def frechet_distance(features_a, features_b):
  """The Fréchet distance between Gaussians fitted to two feature sets (module docstring)."""
  a, b = _check_pair(features_a, features_b, ("features_a", "features_b"))
  return float(_frechet(*moments(a), *moments(b)))


# ----------------------------------------------------------------------------- KID


@tf.function(reduce_retracing=True)
def _mmd2_unbiased(x, y):
  """Unbiased MMD^2 of two `(m, d)` sets with the cubic polynomial kernel."""
  d = tf.cast(tf.shape(x)[1], tf.float64)
  m = tf.cast(tf.shape(x)[0], tf.float64)
  k_xx = (tf.matmul(x, x, transpose_b=True) / d + 1.0)**3
  k_yy = (tf.matmul(y, y, transpose_b=True) / d + 1.0)**3
  k_xy = (tf.matmul(x, y, transpose_b=True) / d + 1.0)**3
  # Within-set sums without the diagonal (the U-statistic), the cross term in full.
  within = (tf.reduce_sum(k_xx) - tf.linalg.trace(k_xx) + tf.reduce_sum(k_yy)
            - tf.linalg.trace(k_yy)) / (m * (m - 1.0))
  return within - 2.0 * tf.reduce_sum(k_xy) / (m * m)


def subset_indices(num_rows, subset_size, num_subsets, seed):
  """`(num_subsets, subset_size)` row indices, each row drawn without replacement."""
  rng = np.random.default_rng(seed)
  return np.stack([rng.choice(num_rows, subset_size, replace=False)
                   for _ in range(num_subsets)])


def kernel_distance(features_a, features_b, num_subsets=KID_SUBSETS,
                    subset_size=KID_SUBSET_SIZE, seed=0):
  """KID: `(mean, std)` of the unbiased polynomial MMD^2 over random subsets.

  `subset_size` is capped at the smaller set's size (then every subset of the smaller side
  is the whole set, in another order).
  """
  a, b = _check_pair(features_a, features_b, ("features_a", "features_b"))
  if num_subsets < 1 or subset_size < 2:
    raise ValueError(f"KID needs num_subsets >= 1 and subset_size >= 2; got {num_subsets} "
                     f"and {subset_size}.")
  size = int(min(subset_size, a.shape[0], b.shape[0]))
  rows_a = subset_indices(a.shape[0], size, num_subsets, (seed, 0))
  rows_b = subset_indices(b.shape[0], size, num_subsets, (seed, 1))
  values = np.array([float(_mmd2_unbiased(tf.gather(a, i), tf.gather(b, j)))
                     for i, j in zip(rows_a, rows_b)])
  return float(values.mean()), float(values.std())


# ----------------------------------------------------------------------------- score


def classifier_score(logits, num_splits=1):
  """exp(mean KL(p(y|x) || p(y))) of `(n, classes)` logits: `(mean, std)` over splits."""
  logits = _features(logits, "logits")
  if not 1 <= num_splits <= logits.shape[0]:
    raise ValueError(f"num_splits must be in [1, {logits.shape[0]}] (the number of images); "
                     f"got {num_splits}.")
  log_p = tf.nn.log_softmax(logits, axis=-1)
  scores = []
  for part in np.array_split(np.arange(logits.shape[0]), num_splits):
    log_p_x = tf.gather(log_p, part)
    log_p_y = tf.math.reduce_logsumexp(log_p_x, axis=0) - np.log(len(part))  # log mean p
    kl = tf.reduce_sum(tf.exp(log_p_x) * (log_p_x - log_p_y[None, :]), axis=-1)
    scores.append(float(tf.exp(tf.reduce_mean(kl))))
  return float(np.mean(scores)), float(np.std(scores))


# ----------------------------------------------------------------------------- extractors


def classifier_outputs(model, images, batch_size=256):
  """`(features, logits)` of tfgen's classifier (`Classifier.features`, `.logits`).

  images: `(n, ...)` as the classifier was trained on (e.g. `(n, 28, 28, 1)` in [0, 1]).
  """
  features, logits = [], []
  for start in range(0, len(images), batch_size):
    batch = tf.convert_to_tensor(images[start:start + batch_size], tf.float32)
    f = model.features(batch, training=False)
    features.append(f.numpy())
    logits.append(model.logits(f).numpy())
  return np.concatenate(features), np.concatenate(logits)


def load_inception(weights_path):
  """Keras's InceptionV3 (no top, average pooling: 2048 features) from a local file.

  Raises:
    ValueError: `weights_path` is not an existing file (nothing is downloaded).
  """
  if not weights_path or not os.path.isfile(weights_path):
    raise ValueError(f"inception_weights: no file at {weights_path!r}. FID with InceptionV3 "
                     "needs the Keras weights file of InceptionV3 without its top "
                     "(inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5, or a "
                     ".weights.h5 saved by Keras); tfgen never downloads it.")
  import keras  # pylint: disable=g-import-not-at-top
  return keras.applications.InceptionV3(
      weights=weights_path, include_top=False, pooling="avg",
      input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))


def inception_features(model, images, batch_size=50):
  """`(n, 2048)` InceptionV3 features of `(n, H, W, C)` images in [0, 1] (C = 1 or 3).

  Resized to 299x299 (bilinear), grey images repeated to three channels, scaled to
  [-1, 1] as `keras.applications.inception_v3.preprocess_input`.
  """
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f"InceptionV3 takes images (n, height, width, 1 or 3); got shape "
                     f"{images.shape}.")

  @tf.function(reduce_retracing=True)
  def extract(batch):
    batch = tf.image.resize(batch, (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
    if batch.shape[-1] == 1:
      batch = tf.repeat(batch, 3, axis=-1)
    return model(batch * 2.0 - 1.0, training=False)

  return np.concatenate([extract(tf.constant(images[s:s + batch_size], tf.float32)).numpy()
                         for s in range(0, len(images), batch_size)])


def inception_fid(real_images, generated_images, inception_weights=None, batch_size=50):
  """FID with InceptionV3, or a skip when no weights file is given.

  Returns:
    `{"fid_inception": float, "inception_weights": path}`, or without a path
    `{"fid_inception": None, "skipped": reason}` (and the reason is logged).

  Raises:
    ValueError: a path that is not a file.
  """
  if inception_weights is None:
    reason = ("FID with InceptionV3 skipped: no --inception_weights file given (tfgen never "
              "downloads weights).")
    logging.warning("%s", reason)
    return {"fid_inception": None, "skipped": reason}
  model = load_inception(inception_weights)
  distance = frechet_distance(inception_features(model, real_images, batch_size),
                              inception_features(model, generated_images, batch_size))
  return {"fid_inception": distance, "inception_weights": os.path.abspath(inception_weights)}
