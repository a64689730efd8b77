"""Tests of the trainer: exact resume, distribution, checkpoints, summaries, bad losses."""

import json
import os

from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.models import factory
from tfgen.train import checkpointing
from tfgen.train import trainer as trainer_lib
from tfgen.utils import config_loader
from tfgen.utils import machine


def tiny_config(model="svg_lp", steps=4, batch_size=4):
  config = config_loader.load(model, "smmnist", "quick")
  config.model.update(dict(base_filters=4, g_dim=8, rnn_size=8, z_dim=3,
                           num_context_frames=2, num_future_frames=2))
  config.data.num_frames = 4
  config.data.data_dir = test_case.test_data_dir()  # Real MNIST in CI, shipped set otherwise.
  config.train.update(dict(steps=steps, batch_size=batch_size, log_every=2,
                           checkpoint_every=2, image_every=100, num_image_sequences=2,
                           num_image_samples=2))
  return config


def restore_weights(config, workdir):
  model = factory.build_model(config.model)
  model.build()
  path = tf.train.latest_checkpoint(os.path.join(workdir, trainer_lib.CHECKPOINT_DIR))
  checkpointing.restore_model(model, path)
  return model.get_weights(), path


_SHARED = {}


def shared_run():
  """One 4-step run shared by the tests that only read its work directory."""
  if not _SHARED:
    import tempfile  # pylint: disable=g-import-not-at-top
    workdir = tempfile.mkdtemp(prefix="tfgen_trainer_test_")
    _SHARED["metrics"] = trainer_lib.train(tiny_config(), workdir)
    _SHARED["workdir"] = workdir
  return _SHARED["workdir"], _SHARED["metrics"]


class TrainerTest(test_case.TestCase):

  def test_writes_everything(self):
    workdir, metrics = shared_run()
    config = tiny_config()
    self.assertEqual(set(metrics), {"loss", "mse", "kl"})
    with open(os.path.join(workdir, "config.json")) as f:
      self.assertEqual(config_loader.from_json(f.read()).to_dict(), config.to_dict())
    with open(os.path.join(workdir, "model_summary.json")) as f:
      summary = json.load(f)
    self.assertEqual(set(summary["trainable_parameters"]),
                     {"encoder", "decoder", "frame_predictor", "posterior", "prior"})
    self.assertEqual(summary["total_trainable_parameters"],
                     sum(summary["trainable_parameters"].values()))
    self.assertTrue(os.path.exists(os.path.join(workdir, "samples", "step_00000004.png")))
    self.assertTrue(os.path.exists(os.path.join(workdir, "samples", "samples.gif")))
    checkpoints = tf.train.get_checkpoint_state(os.path.join(workdir, "checkpoints"))
    self.assertEqual(os.path.basename(checkpoints.model_checkpoint_path), "ckpt-4")
    # TensorBoard: every loss term, the learning rate and sample images.
    tags = set()
    for event_file in tf.io.gfile.glob(os.path.join(workdir, "train", "events.*")):
      for event in tf.compat.v1.train.summary_iterator(event_file):
        tags.update(v.tag for v in event.summary.value)
    self.assertContainsSubset({"loss", "mse", "kl", "learning_rate"}, tags)
    self.assertTrue(any("samples" in tag for tag in tags), tags)

  def test_exact_resume(self):
    # 2N steps in one run equal N steps, a restart, and N more (same weights).
    straight = self.make_temp_dir()
    trainer_lib.train(tiny_config(steps=4), straight)
    resumed = self.make_temp_dir()
    trainer_lib.train(tiny_config(steps=2), resumed)
    # A crash in the middle of writing checkpoint 3 leaves its files half-written but
    # never the index: the rerun resumes from checkpoint 2.
    for suffix in (".index", ".data-00000-of-00001"):
      with open(os.path.join(resumed, "checkpoints", "ckpt-3" + suffix), "wb") as f:
        f.write(b"truncated")
    trainer_lib.train(tiny_config(steps=4), resumed)
    a, path_a = restore_weights(tiny_config(), straight)
    b, path_b = restore_weights(tiny_config(), resumed)
    self.assertEqual(os.path.basename(path_a), os.path.basename(path_b))
    for x, y in zip(a, b):
      self.assertAllClose(x, y, rtol=1e-5, atol=1e-6)

  def test_resume_continues_data_stream(self):
    # The data-stream position is part of the checkpoint: after 4 steps of batch 4 the
    # resumed run starts at clip 16, not clip 0.
    workdir, _ = shared_run()
    config = tiny_config(steps=8)
    trainer = trainer_lib.Trainer(config, workdir)
    model, optimizer, examples_seen = trainer._build()
    checkpoint = checkpointing.training_checkpoint(model, optimizer,
                                                   examples_seen=examples_seen)
    checkpoint.restore(tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")))
    self.assertEqual(int(examples_seen.numpy()), 16)
    self.assertEqual(int(optimizer.iterations.numpy()), 4)

  def test_rerun_with_other_model_config_is_refused(self):
    workdir, _ = shared_run()
    config = tiny_config(steps=8)
    config.model.z_dim = 5
    with self.assertRaisesRegex(ValueError, "model.z_dim: saved 3, now 5"):
      trainer_lib.train(config, workdir)

  def test_distributed_loss_equals_single_device(self):
    # Two logical CPUs (tests/conftest.py): the global batch is split across replicas,
    # the per-replica losses are scaled by the global batch, batch norm is synchronised
    # and the noise is sliced from the global draw, so one step gives the same loss and
    # the same weights as on one device.
    config = tiny_config(steps=1, batch_size=4)
    # Plain SGD: its step is proportional to the gradient, so a wrongly scaled replica
    # loss (Adam would normalise it away) changes the weights.
    config.train.optimizer = "sgd"
    config.train.learning_rate = 0.5
    devices = tf.config.list_logical_devices("CPU")
    self.assertGreaterEqual(len(devices), 2)
    single = self.make_temp_dir()
    loss_single = trainer_lib.train(config, single)["loss"]
    mirrored = self.make_temp_dir()
    strategy = trainer_lib.mirrored_strategy([d.name for d in devices[:2]])
    self.assertEqual(strategy.num_replicas_in_sync, 2)
    loss_mirrored = trainer_lib.train(config, mirrored, strategy=strategy)["loss"]
    # Tolerances (test_case.float_tolerance): the longest reduction is the encoder's first
    # batch norm, over 4 clips x 4 frames x 32 x 32 positions.
    n = 4 * 4 * 32 * 32
    self.assertCloseForAccumulation(loss_mirrored, loss_single, n)
    a, _ = restore_weights(config, single)
    b, _ = restore_weights(config, mirrored)
    initial = trainer_lib.Trainer(config, self.make_temp_dir())._build()[0].get_weights()
    # Every weight moves by a step computed through that reduction, so the scale of a
    # rounding difference is the largest step (a conv bias feeding a batch norm has a zero
    # true gradient and moves by rounding noise only); a mis-scaled replica loss changes
    # the steps themselves, by the order of the step.
    step = max(float(np.max(np.abs(x - x0))) for x, x0 in zip(a, initial))
    changed = False
    for x, y, x0 in zip(a, b, initial):
      self.assertCloseForAccumulation(y, x, n, scale=step)
      changed |= not np.allclose(x, x0)
    self.assertTrue(changed)

  def test_precision_auto_logs_and_uses_its_choice(self):
    config = tiny_config(steps=1)
    config.train.precision = "auto"
    chosen = machine.resolve_precision("auto")  # mixed_bfloat16 on bf16 CPUs, else float32.
    with mock.patch.object(keras.mixed_precision, "set_global_policy",
                           wraps=keras.mixed_precision.set_global_policy) as set_policy, \
        self.assertLogs("absl", level="INFO") as logs:
      trainer_lib.train(config, self.make_temp_dir())
    self.assertEqual(set_policy.call_args_list[0].args, (chosen.policy,))
    self.assertTrue(any(f"precision=auto chose {chosen.policy}: " in line
                        for line in logs.output), logs.output[:5])

  def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(self):
    workdir = self.make_temp_dir()
    trainer_lib.train(tiny_config(steps=2), workdir)
    good, good_path = restore_weights(tiny_config(), workdir)
    config = tiny_config(steps=6)
    config.train.learning_rate = 1e30  # Weights of ~1e30 overflow float32 at once.
    with self.assertRaisesRegex(trainer_lib.NonFiniteLossError, "Non-finite (loss|weights) .*step [34]"):
      trainer_lib.train(config, workdir)
    after, after_path = restore_weights(tiny_config(), workdir)
    self.assertEqual(good_path, after_path)
    for x, y in zip(good, after):
      self.assertAllEqual(x, y)

  def test_checkpoint_holds_every_variable(self):
    workdir, _ = shared_run()
    config = tiny_config()
    model = factory.build_model(config.model)
    model.build()
    saved = tf.train.list_variables(
        tf.train.latest_checkpoint(os.path.join(workdir, trainer_lib.CHECKPOINT_DIR)))
    saved_model_variables = [name for name, _ in saved if name.startswith("model/")]
    self.assertLen(saved_model_variables, len(model.variables))
    # A fresh model restored from it differs from its own random initialisation.
    before = model.get_weights()
    weights, _ = restore_weights(config, workdir)
    self.assertTrue(any(not np.array_equal(a, b) for a, b in zip(before, weights)))

  def test_restore_into_other_model_is_refused(self):
    workdir, _ = shared_run()
    config = tiny_config()
    config.model.z_dim = 5
    with self.assertRaisesRegex(ValueError, "does not match this model"):
      restore_weights(config, workdir)

  def test_bad_batch_for_replicas(self):
    config = tiny_config(batch_size=3)
    devices = tf.config.list_logical_devices("CPU")
    strategy = trainer_lib.mirrored_strategy([d.name for d in devices[:2]])
    with self.assertRaisesRegex(ValueError, "batch_size 3 must be divisible.*2"):
      trainer_lib.Trainer(config, self.make_temp_dir(), strategy)


if __name__ == "__main__":
  tf.test.main()
