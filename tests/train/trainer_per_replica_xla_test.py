"""The trainer's XLA modes: whole step on one replica, per-replica gradients on several.

Two logical CPUs (tests/conftest.py). On CPUs XLA cannot compile the batch-norm
all-reduce, so the models here keep per-replica batch statistics
(`synchronized_batch_norm=False`); on GPUs TensorFlow compiles it (NCCL).
"""

from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

from tests import test_case
from tests.train import trainer_test
from tfgen.train import gradient_step
from tfgen.train import trainer as trainer_lib
from tfgen.utils import machine


def two_replicas():
  devices = tf.config.list_logical_devices("CPU")
  assert len(devices) >= 2, devices
  return trainer_lib.mirrored_strategy([d.name for d in devices[:2]])


def per_replica_config(family, jit_compile):
  if family == "svg_det":
    # The deterministic SVG: the stochastic ones draw their noise inside the compiled
    # function, where XLA's CPU kernels give other draws than TensorFlow's for a seed.
    config = trainer_test.tiny_config(model="svg_det", steps=2)
  else:
    config = trainer_test.tiny_drnet_config(steps=2)
  config.model.synchronized_batch_norm = False
  # Plain SGD: a step proportional to the gradient (Adam would amplify rounding noise on
  # the near-zero gradients of conv biases feeding a batch norm).
  config.train.optimizer = "sgd"
  config.train.learning_rate = 0.5
  with config.train.ignore_type():  # A bool in the quick configs, "auto" a string.
    config.train.jit_compile = jit_compile
  return config


class TrainerPerReplicaXlaTest(test_case.TestCase):

  @pytest.mark.slow  # ~2-3 min on a busy 2-core machine: XLA compiles each replica's step.
  def test_per_replica_xla_equals_no_xla(self):
    for family in ("svg_det", "drnet"):
      with self.subTest(family):
        plain_dir, xla_dir = self.make_temp_dir(), self.make_temp_dir()
        trainer_lib.train(per_replica_config(family, False), plain_dir, two_replicas())
        with self.assertLogs("absl", level="INFO") as logs:
          trainer_lib.train(per_replica_config(family, True), xla_dir, two_replicas())
        self.assertTrue(any("XLA: each replica's gradient computations (2 replicas" in line
                            for line in logs.output), logs.output)
        config = per_replica_config(family, False)
        plain, _ = trainer_test.restore_weights(config, plain_dir)
        compiled, _ = trainer_test.restore_weights(config, xla_dir)
        initial = trainer_lib.Trainer(config, self.make_temp_dir())._build()[0].get_weights()
        # As trainer_test's distributed test: the longest reduction is the first batch
        # norm's (2 clips x up to 4 frames x 32 x 32 per replica); the scale of a
        # rounding difference is the largest step.
        n = 2 * 4 * 32 * 32
        step = max(float(np.max(np.abs(x - x0))) for x, x0 in zip(plain, initial))
        self.assertGreater(step, 0.0)
        for x, y in zip(plain, compiled):
          self.assertCloseForAccumulation(y, x, n, scale=step)

  def _resolved(self, jit_compile, strategy, resolved=True):
    """The trainer's XLA choice for `jit_compile` (its loop not run) and the logs."""
    config = per_replica_config("drnet", jit_compile)
    trainer = trainer_lib.Trainer(config, self.make_temp_dir(), strategy)
    with mock.patch.object(machine, "resolve_jit_compile",
                           return_value=(resolved, "machine's choice")), \
        mock.patch.object(trainer_lib.Trainer, "_train", return_value={}), \
        self.assertLogs("absl", level="INFO") as logs:
      trainer.train()
    return trainer.jit_compile, logs.output

  def test_auto_on_several_cpus_chooses_no_xla(self):
    chosen, logs = self._resolved("auto", two_replicas())
    self.assertFalse(chosen)
    self.assertTrue(any("jit_compile=auto chose no XLA: 2 replicas not all on GPUs" in line
                        for line in logs), logs)

  def test_explicit_true_on_several_cpus_is_kept(self):
    chosen, logs = self._resolved(True, two_replicas())
    self.assertTrue(chosen)
    chosen, _ = self._resolved("auto", tf.distribute.get_strategy())  # one device
    self.assertTrue(chosen)


if __name__ == "__main__":
  tf.test.main()
