"""TensorFlow checkpoints of Keras 3 models that hold every variable.

`tf.train.Checkpoint(model=keras3_model)` silently skips layers kept in Python lists (a
Keras 3 `TrackedList` is not a TensorFlow trackable): for SVG it saved 31 of 84 variables.
These helpers checkpoint variables by their path inside the model instead (e.g.
`encoder/conv1/kernel`, without the model's own, instance-numbered name), and each
optimiser's by position under the optimiser's name ("optimizer" for a model's main one,
e.g. "discriminator_optimizer" for DrNET's second), so every variable is saved and
restore checks that every one is matched. The files stay ordinary TensorFlow checkpoints, written by
`tf.train.CheckpointManager` (data first, then an atomic update of the `checkpoint`
index: a crash mid-save leaves the previous checkpoint as the latest).
"""

import tensorflow as tf


def _variables_module(variables, key):
  module = tf.Module()
  table = {}
  for i, variable in enumerate(variables):
    name = _unique(key(i, variable), table)
    table[name] = variable.value if hasattr(variable, "value") else variable
  module.variables_by_key = table
  return module


def _unique(name, table):
  # Keras gives some internal variables (seed-generator states) one bare path; number the
  # repeats in variable order, which is fixed for a given model configuration.
  if name not in table:
    return name
  n = 1
  while f"{name}#{n}" in table:
    n += 1
  return f"{name}#{n}"


def _model_key(_, variable):
  # Drop the model's own name ("svg", "svg_3", ...), which Keras numbers per instance.
  path = variable.path
  return path.split("/", 1)[1] if "/" in path else path


def _optimizer_key(i, variable):
  # Slot names embed the numbered model name: the position is the stable key.
  return f"{i:05d}"


def model_trackable(model):
  """A trackable holding every variable of `model` under its path inside the model."""
  return _variables_module(model.variables, _model_key)


def optimizer_trackable(optimizer):
  """A trackable holding every variable of a built optimiser, by position."""
  return _variables_module(optimizer.variables, _optimizer_key)


def training_checkpoint(model, optimizers, **extra):
  """Checkpoint of the whole training state: model, every optimiser, `extra` variables.

  Args:
    model: a Keras model.
    optimizers: `{name: optimiser}` (a model's `optimizers_by_name()`), each saved under
      its name, or one optimiser, saved as "optimizer". The main optimiser is
      "optimizer" in every family, the key checkpoints had when models had one optimiser,
      so those still restore.
    **extra: more trackables (e.g. `tf.Variable`s) saved under their keyword.
  """
  if not isinstance(optimizers, dict):
    optimizers = {"optimizer": optimizers}
  clashes = sorted(set(optimizers) & ({"model"} | set(extra)))
  if clashes:
    raise ValueError(f"Optimiser names {clashes} clash with other checkpoint entries.")
  trackables = {name: optimizer_trackable(optimizer) for name, optimizer in optimizers.items()}
  return tf.train.Checkpoint(model=model_trackable(model), **trackables, **extra)


def has_variable(path, name):
  """Whether the checkpoint at `path` holds a top-level variable saved as `name`."""
  return tf.train.load_checkpoint(path).has_tensor(f"{name}/.ATTRIBUTES/VARIABLE_VALUE")


def restore_model(model, path):
  """Restores only the model's variables from a training checkpoint at `path`.

  Raises:
    ValueError: when the checkpoint does not hold every variable of `model` with the same
      shape (e.g. a checkpoint of another model or configuration).
  """
  checkpoint = tf.train.Checkpoint(model=model_trackable(model))
  try:
    checkpoint.restore(path).expect_partial().assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.InvalidArgumentError) as e:
    raise ValueError(f"Checkpoint {path} does not match this model "
                     f"({type(model).__name__}): {str(e).splitlines()[0][:300]}") from e
