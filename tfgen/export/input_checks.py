"""In-graph checks of serving inputs, shared by the families' export signatures.

Signatures declare their inputs with unknown rank and check them in the graph: a loaded
signature does not check shapes against its declared `TensorSpec`s (neither does TF
Serving), and a declared rank would let TensorFlow fold a rank check away. A failed check
raises `InvalidArgumentError` whose message names the input and says what was expected.
"""

import tensorflow as tf


def describe(name, spec):
  """`"<name>: expected <dtype> of shape (batch, ...)"`, the start of every shape error."""
  dims = ", ".join("batch" if d is None else str(d) for d in spec.shape)
  return f"{name}: expected {spec.dtype.name} of shape ({dims})"


def checked_value(condition, message, data, x, stand_in):
  """`x` if `condition` (a scalar bool) holds; else the call fails with `message`.

  Grappler does not reliably keep ops that consume `x` after an assertion that is only a
  control dependency (a wrong seed then fails inside the random op first, with its own
  message). So a failed check also swaps in a well-formed `stand_in`: no later op can fail
  on the bad input, and the assertion's message is the error the caller sees.
  """
  assertion = tf.debugging.Assert(condition, [message] + data, summarize=8)
  with tf.control_dependencies([assertion]):
    return tf.cond(condition, lambda: tf.identity(x), stand_in)


def checked(x, name, spec):
  """`x` after an in-graph check of its rank and fixed sizes, with its static shape set."""
  rank = spec.shape.rank
  shape = tf.shape(x)
  # Padded so that the gather is in range for inputs of any rank.
  padded = tf.concat([shape, tf.fill([rank], -1)], axis=0)
  fixed_axes = [i for i, d in enumerate(spec.shape) if d is not None]
  condition = tf.equal(tf.size(shape), rank)
  if fixed_axes:
    dims = tf.gather(padded, fixed_axes)
    expected = tf.constant([spec.shape[i] for i in fixed_axes], tf.int32)
    condition = tf.logical_and(condition, tf.reduce_all(tf.equal(dims, expected)))
  stand_in_shape = [1 if d is None else d for d in spec.shape]
  x = checked_value(condition, describe(name, spec) + "; got shape", [shape], x,
                    lambda: tf.zeros(stand_in_shape, spec.dtype))
  return tf.ensure_shape(x, spec.shape)


def checked_frames(x, name, spec):
  """Checked frames whose values lie in [0, 1] (NaN fails both comparisons)."""
  x = checked(x, name, spec)
  return checked_value(tf.reduce_all((x >= 0.0) & (x <= 1.0)),
                       f"{name}: expected values in [0, 1]; got min and max",
                       [tf.reduce_min(x), tf.reduce_max(x)], x, lambda: tf.zeros_like(x))


def checked_count(x, name, spec):
  """A checked int scalar that must be > 0."""
  x = checked(x, name, spec)
  return checked_value(x > 0, f"{name}: expected a scalar > 0; got", [x], x,
                       lambda: tf.ones_like(x))


def unknown_rank(specs):
  """`{name: TensorSpec}` -> an input signature of the same names and dtypes, any rank."""
  return [tf.TensorSpec(None, spec.dtype, name=name) for name, spec in specs.items()]
