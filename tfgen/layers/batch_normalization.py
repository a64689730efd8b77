"""Batch normalisation as PyTorch computes it (tfgen's one norm layer)."""

import keras
import tensorflow as tf

MOVING_VARIANCE_RULES = ("unbiased", "biased")


@keras.saving.register_keras_serializable(package="tfgen")
class BatchNormalization(keras.layers.BatchNormalization):
  """Keras's `BatchNormalization` with PyTorch's moving variance and exact statistics.

  Two differences from Keras's layer, both towards what the reference code (PyTorch
  `nn.BatchNorm2d`) computes:

  - **Moving variance.** PyTorch updates `running_var` with the unbiased batch variance
    (times n / (n - 1), n the number of values per channel), Keras with the biased one;
    both normalise a training batch with the biased variance. `moving_variance="unbiased"`
    (the default) follows PyTorch, `"biased"` keeps Keras's rule. At 16 clips x 15 frames
    of 1x1 features (SVG's encoder's last batch norm) the two differ by 0.4%.
  - **Statistics on one device.** Keras's `synchronized=True` computes the variance as
    E[x^2] - E[x]^2 even with one replica, which loses float32 precision when the mean is
    large against the spread. Here the variance is always two-pass (E[(x - E[x])^2]):
    `tf.nn.moments` on one replica, and with `synchronized=True` under a strategy with
    several replicas an all-reduced sum for the mean followed by an all-reduced sum of
    squared deviations, so a global batch split over N devices normalises as one device
    would, to float32 rounding.

  Masks and batch renormalisation are Keras's (biased variance): tfgen uses neither.

  Args:
    moving_variance: str, "unbiased" (PyTorch, default) or "biased" (Keras).
    synchronized: bool, batch statistics over the global batch when a strategy has more
      than one replica (default False, as Keras).
    **kwargs: Keras `BatchNormalization` arguments (`axis`, `momentum`, `epsilon`, ...).

  Call arguments / Returns: as Keras's `BatchNormalization`.
  """

  def __init__(self, moving_variance="unbiased", synchronized=False, **kwargs):
    if moving_variance not in MOVING_VARIANCE_RULES:
      raise ValueError(f"Unknown moving_variance {moving_variance!r}; valid: "
                       f"{', '.join(repr(r) for r in MOVING_VARIANCE_RULES)}.")
    super().__init__(synchronized=synchronized, **kwargs)
    self.moving_variance_rule = moving_variance

  def _statistics(self, inputs):
    """(mean, biased variance, number of values per channel) of `inputs`."""
    axes = self._reduction_axes
    local_count = tf.cast(tf.reduce_prod(tf.gather(tf.shape(inputs), axes)), inputs.dtype)
    replica = tf.distribute.get_replica_context()
    if not (self.synchronized and replica is not None and replica.num_replicas_in_sync > 1):
      mean, variance = tf.nn.moments(inputs, axes)
      return mean, variance, local_count
    # Two all-reduces, one after the other: the exact mean first, then the squared
    # deviations from it (not E[x^2] - E[x]^2, which cancels in float32).
    local_sum = tf.reduce_sum(inputs, axis=axes)  # (channels,)
    totals = replica.all_reduce(tf.distribute.ReduceOp.SUM,
                                tf.concat([local_sum, local_count[None]], 0))
    total_sum, count = totals[:-1], totals[-1]
    mean = total_sum / count
    squared = tf.reduce_sum(tf.square(inputs - mean), axis=axes)
    variance = replica.all_reduce(tf.distribute.ReduceOp.SUM, squared) / count
    return mean, variance, count

  def call(self, inputs, training=None, mask=None):
    if mask is not None or self.renorm or not (training and self.trainable):
      return super().call(inputs, training=training, mask=mask)
    # Statistics in float32 even under a bfloat16 policy (as Keras's layer).
    inputs = tf.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
    mean, variance, count = self._statistics(inputs)
    moving_update = variance
    if self.moving_variance_rule == "unbiased":
      # PyTorch: running_var uses var * n / (n - 1) (n = 1 would divide by zero; PyTorch
      # refuses such a batch, the biased value is kept here).
      moving_update = variance * count / tf.maximum(count - 1.0, 1.0)
    momentum = self.momentum
    self.moving_mean.assign(
        tf.cast(self.moving_mean, mean.dtype) * momentum + mean * (1.0 - momentum))
    self.moving_variance.assign(
        tf.cast(self.moving_variance, mean.dtype) * momentum
        + moving_update * (1.0 - momentum))
    outputs = keras.ops.batch_normalization(
        x=inputs, mean=mean, variance=variance, axis=self.axis,
        offset=None if self.beta is None else tf.cast(self.beta, inputs.dtype),
        scale=None if self.gamma is None else tf.cast(self.gamma, inputs.dtype),
        epsilon=self.epsilon)
    return tf.cast(outputs, self.compute_dtype)

  def get_config(self):
    return {**super().get_config(), "moving_variance": self.moving_variance_rule}
