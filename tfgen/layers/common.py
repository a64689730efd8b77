"""Small shared pieces of the tfgen networks: the reference initialisation and norm layer.

The reference code (edenton/svg `utils.init_weights`, drnet-py) initialises conv and dense
kernels from N(0, 0.02), biases at 0, batch-norm gamma from N(1, 0.02) and beta at 0.
PyTorch's batch norm uses momentum 0.1 on the *new* statistic and epsilon 1e-5, which
is Keras's `momentum=0.9, epsilon=1e-5`.
"""

import contextlib

import keras

KERNEL_STDDEV = 0.02

# Set by `keras_layers()`: the factories below then build Keras's own conv layers.
_plain_keras = False


@contextlib.contextmanager
def keras_layers():
  """Within it, `conv2d` / `conv2d_transpose` build Keras's own `Conv2D` / `Conv2DTranspose`.

  For benchmarks and parity tests that compare tfgen's faster layers (same variables)
  against Keras's computation.
  """
  global _plain_keras
  previous, _plain_keras = _plain_keras, True
  try:
    yield
  finally:
    _plain_keras = previous


def kernel_initializer():
  """N(0, 0.02), the reference's conv and dense kernel initialiser."""
  return keras.initializers.RandomNormal(mean=0.0, stddev=KERNEL_STDDEV)


def gamma_initializer():
  """N(1, 0.02), the reference's batch-norm scale initialiser."""
  return keras.initializers.RandomNormal(mean=1.0, stddev=KERNEL_STDDEV)


_batch_norm_moving_variance = "unbiased"


@contextlib.contextmanager
def batch_norm_moving_variance(rule):
  """Within it, `batch_norm()` builds layers whose moving variance follows `rule`.

  "unbiased" (PyTorch, the default) or "biased" (Keras). Models take the rule as a plain
  constructor argument and build their sub-layers inside this scope, so the encoders and
  decoders need no argument of their own for it.
  """
  from tfgen.layers import batch_normalization  # pylint: disable=g-import-not-at-top
  if rule not in batch_normalization.MOVING_VARIANCE_RULES:
    raise ValueError(f"Unknown batch-norm moving variance rule {rule!r}; valid: "
                     f"{', '.join(repr(r) for r in batch_normalization.MOVING_VARIANCE_RULES)}.")
  global _batch_norm_moving_variance
  previous, _batch_norm_moving_variance = _batch_norm_moving_variance, rule
  try:
    yield
  finally:
    _batch_norm_moving_variance = previous


def batch_norm(name=None, synchronized=True, axis=-1):
  """Batch norm as PyTorch computes it, with the reference initialisation.

  A `tfgen.layers.batch_normalization.BatchNormalization`: PyTorch's momentum (0.1 on the
  new statistic = Keras's 0.9) and epsilon (1e-5), the unbiased moving variance (or the
  rule of the enclosing `batch_norm_moving_variance` scope) and two-pass statistics.
  `synchronized=True` computes the batch statistics over the global batch when a
  `tf.distribute` strategy has several replicas, so a global batch split over N devices
  normalises as it would on one device; on one replica it is an ordinary batch norm.
  """
  from tfgen.layers import batch_normalization  # pylint: disable=g-import-not-at-top
  return batch_normalization.BatchNormalization(
      axis=axis, momentum=0.9, epsilon=1e-5, gamma_initializer=gamma_initializer(),
      synchronized=synchronized, moving_variance=_batch_norm_moving_variance, name=name)


def conv2d(filters, kernel_size, strides=1, padding="same", name=None, use_bias=True):
  """`Conv2D` with the reference initialisation (N(0, 0.02) kernel, zero bias).

  The DCGAN downsampling convolution (4x4, stride 2, "same") is a `FastConv2D`: same
  variables and function, computed as `space_to_depth` + a stride-1 2x2 conv, which under
  XLA (the default training step) trains the whole DCGAN-64 encoder 17-27% faster on CPU
  (`benchmarks/conv_formulations.py --whole`). Other shapes, and any call inside
  `keras_layers()`, are Keras's `Conv2D`.
  """
  if kernel_size == 4 and strides == 2 and padding == "same" and not _plain_keras:
    from tfgen.layers import fast_conv  # pylint: disable=g-import-not-at-top
    cls = fast_conv.FastConv2D
  else:
    cls = keras.layers.Conv2D
  return cls(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
             kernel_initializer=kernel_initializer(), name=name)


def conv2d_transpose(filters, kernel_size, strides=1, padding="same", name=None):
  """`Conv2DTranspose` with the reference initialisation.

  `FastConv2DTranspose` has the same variables and computes the same function; its
  4x4 / stride 2 / "same" path avoids TensorFlow's slow CPU kernel at small spatial sizes
  (`benchmarks/conv_formulations.py`). Inside `keras_layers()` it is Keras's own layer.
  """
  if _plain_keras:
    cls = keras.layers.Conv2DTranspose
  else:
    from tfgen.layers import fast_conv_transpose  # pylint: disable=g-import-not-at-top
    cls = fast_conv_transpose.FastConv2DTranspose
  return cls(filters, kernel_size, strides=strides, padding=padding,
             kernel_initializer=kernel_initializer(), name=name)


def dense(units, name=None, dtype=None):
  """`Dense` with the reference initialisation."""
  return keras.layers.Dense(units, kernel_initializer=kernel_initializer(), name=name, dtype=dtype)


def leaky_relu(name=None):
  return keras.layers.LeakyReLU(negative_slope=0.2, name=name)
