"""Tests of the shared gradient step and of XLA per replica under MirroredStrategy.

Two logical CPUs (tests/conftest.py). A whole-step `jit_compile` cannot run with two
replicas (PITFALLS.md); in the trainer's multi-replica XLA mode each replica compiles its
gradient computations and applies them outside XLA: same weights as without XLA.
"""

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers import batch_normalization
from tfgen.train import gradient_step
from tfgen.train import trainer as trainer_lib


def two_replicas():
  devices = tf.config.list_logical_devices("CPU")
  assert len(devices) >= 2, devices
  return trainer_lib.mirrored_strategy([d.name for d in devices[:2]])


class Tiny(keras.Model):
  """Dense -> batch norm (moving statistics) -> dropout (Keras random) -> dense."""

  def __init__(self, synchronized=False, extra_loss=None, dropout=0.0):
    super().__init__()
    self.hidden = keras.layers.Dense(6)
    self.norm = batch_normalization.BatchNormalization(synchronized=synchronized)
    self.dropout = keras.layers.Dropout(dropout, seed=3)
    self.head = keras.layers.Dense(1)
    self.extra_loss = extra_loss

  def call(self, x, training=False):
    h = self.dropout(self.norm(self.hidden(x), training=training), training=training)
    return self.head(h)

  def train_step(self, data):
    x, y = data

    def loss_fn():
      loss = tf.reduce_mean(tf.square(self(x, training=True) - y))
      if self.extra_loss is not None:
        loss += self.extra_loss(x)
      return loss, {"loss": loss}

    return gradient_step.gradient_step(self, loss_fn, self.trainable_variables,
                                       self.optimizer)


def train_tiny(per_replica_xla, steps=3, synchronized=False, extra_loss=None, dropout=0.0):
  """The model and the traced step after `steps` steps on two replicas."""
  keras.utils.set_random_seed(0)
  strategy = two_replicas()
  with strategy.scope():
    model = Tiny(synchronized=synchronized, extra_loss=extra_loss, dropout=dropout)
    model(tf.zeros((2, 4)))  # builds every layer
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.optimizer.build(model.trainable_variables)
  gradient_step.set_per_replica_jit_compile(model, per_replica_xla)
  rng = np.random.default_rng(0)
  x = rng.normal(size=(8, 4)).astype("float32")
  y = rng.normal(size=(8, 1)).astype("float32")
  dataset = strategy.experimental_distribute_dataset(
      tf.data.Dataset.from_tensors((x, y)).repeat())
  iterator = iter(dataset)

  @tf.function
  def step(batch):
    strategy.run(model.train_step, args=(batch,))

  batch = next(iterator)
  for _ in range(steps):
    step(batch)
  return model, step.get_concrete_function(batch)


def weights(model):
  """Every variable, each replica's copy of the non-trainable ones."""
  out = [w.numpy() for w in model.trainable_weights]
  for w in model.non_trainable_weights:
    out.extend(v.numpy() for v in w.value.values)
  return out


def compiled_calls(concrete_function):
  """The function calls of a traced step marked for XLA compilation (`_XlaMustCompile`)."""
  found = []
  graphs = [concrete_function.graph]
  while graphs:
    graph = graphs.pop()
    for op in graph.get_operations():
      if op.type in ("PartitionedCall", "StatefulPartitionedCall"):
        try:
          must_compile = op.get_attr("_XlaMustCompile")
        except ValueError:
          must_compile = False
        name = op.get_attr("f").name
        if must_compile:
          found.append(name)
        graphs.extend(f.graph for f in [graph._functions.get(name)] if f is not None
                      and hasattr(f, "graph"))  # pylint: disable=protected-access
  return found


class GradientStepTest(test_case.TestCase):

  def test_per_replica_xla_equals_plain(self):
    # Moving statistics are assigned inside the compiled function, each replica its copy.
    plain, _ = train_tiny(False)
    compiled, _ = train_tiny(True)
    plain, compiled = weights(plain), weights(compiled)
    self.assertLen(compiled, len(plain))
    for a, b in zip(compiled, plain):
      self.assertCloseForAccumulation(a, b, 8, scale=max(1.0, np.max(np.abs(b))))
    # Not synchronised: each replica's moving mean follows its own half of the batch.
    self.assertFalse(np.allclose(plain[4], plain[5]))

  def test_keras_random_inside_xla(self):
    # Keras's dropout in the compiled function: its seed generator's state advances on
    # each replica as without XLA. (The draws themselves differ: XLA's CPU kernels pick
    # another algorithm than TensorFlow's for the same stateless seed.)
    plain, _ = train_tiny(False, dropout=0.5)
    compiled, _ = train_tiny(True, dropout=0.5)
    states = [v.numpy() for v in compiled.dropout.seed_generator.state.value.values]
    self.assertAllEqual(states, [v.numpy() for v in plain.dropout.seed_generator.state.value.values])
    self.assertAllEqual(states[0], [3, 3])  # 3 steps
    self.assertTrue(all(np.all(np.isfinite(w)) for w in weights(compiled)))

  def test_gradients_are_compiled_per_replica(self):
    # The traced step calls one XLA function per replica and player (Tiny: one player).
    _, plain_step = train_tiny(False, steps=1)
    _, compiled_step = train_tiny(True, steps=1)
    self.assertEqual(compiled_calls(plain_step), [])
    calls = compiled_calls(compiled_step)
    self.assertLen(calls, 2)
    self.assertTrue(all("gradients_and_outputs" in name for name in calls), calls)

  def test_loss_xla_cannot_compile_fails_only_with_xla(self):
    # A string op in the loss has no XLA kernel: it fails in the compiled mode (so the
    # loss really is inside the XLA function) and runs without it.
    def stringly(x):
      return 0.0 * tf.strings.to_number(tf.strings.as_string(tf.reduce_sum(x)))

    train_tiny(False, steps=1, extra_loss=stringly)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "AsString|XLA|compil"):
      train_tiny(True, steps=1, extra_loss=stringly)

  def test_synchronized_batch_norm_on_cpus_is_refused_clearly(self):
    with self.assertRaisesRegex(ValueError, "GPUs only.*Collectives are not yet implemented "
                                "for CPU devices.*jit_compile=false"):
      train_tiny(True, steps=1, synchronized=True)

  def test_flag(self):
    model = keras.Model()
    self.assertFalse(gradient_step.per_replica_jit_compile(model))
    gradient_step.set_per_replica_jit_compile(model, True)
    self.assertTrue(gradient_step.per_replica_jit_compile(model))


if __name__ == "__main__":
  tf.test.main()
