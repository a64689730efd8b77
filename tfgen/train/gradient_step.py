"""One optimiser step on a loss, the one place tfgen's models take gradients.

Every model's `train_step` (SVG, DrNET and its LSTMs, LAPGAN's levels, the classifier)
steps its optimisers through `gradient_step`: watch only the given variables, divide the
loss by the number of replicas (Keras sums gradients over replicas, PITFALLS.md), scale it
for mixed precision, take the gradients, apply them.

XLA on several devices. `jit_compile=True` over a whole `train_step` fails under
`MirroredStrategy` with more than one replica: one XLA cluster would touch the variables
of every device (PITFALLS.md). When the trainer sets `model.per_replica_jit_compile`
(`set_per_replica_jit_compile`), the gradient computation (forward and backward pass)
runs instead as a `tf.function(jit_compile=True)` inside each replica, on that replica's
copies of the variables, and `optimizer.apply` (which updates mirrored variables across
devices) runs outside XLA. A model with two players (DrNET, LAPGAN) makes two such
compiled computations per step, with an apply between them, so the second sees the first
player's update.
"""

import tensorflow as tf

# The model attribute the trainer sets (absent means False: plain TensorFlow).
PER_REPLICA_JIT_COMPILE = "per_replica_jit_compile"


_CPU_COLLECTIVE_MESSAGE = (
    "train.jit_compile=true with {replicas} replicas on {devices}: {model}'s gradient "
    "computation all-reduces across replicas (synchronised batch norm), and TensorFlow "
    "compiles such a collective inside XLA on GPUs only (MirroredStrategy then uses NCCL "
    "in the compiled function; on CPUs XLA reports \"Collectives are not yet implemented "
    "for CPU devices when compiling with XLA\"). Set train.jit_compile=false (or auto), or "
    "model.synchronized_batch_norm=false (per-replica batch statistics).")


def set_per_replica_jit_compile(model, enabled):
  """Makes `model`'s gradient steps XLA-compiled per replica (or not)."""
  setattr(model, PER_REPLICA_JIT_COMPILE, bool(enabled))


def per_replica_jit_compile(model):
  """Whether `model`'s gradient steps are XLA-compiled per replica."""
  return bool(getattr(model, PER_REPLICA_JIT_COMPILE, False))


def num_replicas():
  """Replicas of the current strategy (1 outside a replica context)."""
  context = tf.distribute.get_replica_context()
  return context.num_replicas_in_sync if context is not None else 1


def compute_gradients(loss_fn, variables, optimizer):
  """`(gradients, outputs)` of `loss_fn`'s loss with respect to `variables` only.

  Args:
    loss_fn: callable of no argument returning `(loss, outputs)`: the loss averaged over
      this replica's batch, and any structure of tensors to hand back.
    variables: the Keras variables to differentiate against (others are not watched).
    optimizer: the Keras optimiser whose `scale_loss` applies (loss scaling under
      mixed float16).

  Returns:
    `(gradients, outputs)`: one gradient per variable (of the loss divided by the number
    of replicas and scaled by `optimizer.scale_loss`), and `loss_fn`'s outputs.
  """
  with tf.GradientTape(watch_accessed_variables=False) as tape:
    tape.watch([v.value for v in variables])  # the tf.Variables under the Keras ones
    loss, outputs = loss_fn()
    scaled_loss = optimizer.scale_loss(loss / num_replicas())
  return tape.gradient(scaled_loss, variables), outputs


def gradient_step(model, loss_fn, variables, optimizer):
  """One optimiser step of `variables` on `loss_fn`'s loss; returns its outputs.

  The gradients come from `compute_gradients`, inside a `tf.function(jit_compile=True)`
  when `per_replica_jit_compile(model)` (the trainer's multi-replica XLA mode), plain
  otherwise; `optimizer.apply` always runs outside XLA.

  Args:
    model: the Keras model taking the step (only its per-replica XLA flag is read).
    loss_fn, variables, optimizer: as `compute_gradients`.

  Returns:
    `loss_fn`'s outputs.
  """
  def gradients_and_outputs():
    return compute_gradients(loss_fn, variables, optimizer)

  if per_replica_jit_compile(model):
    # A new function per trace of the step: traced once with the step, once per replica.
    compiled = tf.function(gradients_and_outputs, jit_compile=True)
    try:
      gradients, outputs = compiled()
    except RuntimeError as error:
      if "merge_call" not in str(error):
        raise
      raise ValueError(_CPU_COLLECTIVE_MESSAGE.format(
          model=type(model).__name__, replicas=num_replicas(),
          devices=", ".join(tf.distribute.get_strategy().extended.worker_devices))) from error
  else:
    gradients, outputs = gradients_and_outputs()
  optimizer.apply(gradients, variables)
  return outputs
