"""Tests of the trainer: exact resume, distribution, checkpoints, summaries, bad losses."""

import inspect
import json
import os
import shutil

from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.models import factory
from tfgen.models.drnet import drnet as drnet_lib
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


def tiny_drnet_config(steps=4, batch_size=4):
  """DrNET's quick config shrunk: width 2, |h_c| 6, |h_p| 3, C 5 units, 5-frame clips, K 2."""
  config = config_loader.load("drnet", "mnist", "quick")
  config.model.update(dict(base_filters=2, content_dim=6, pose_dim=3, sd_nf=5))
  config.data.update(dict(num_frames=5, max_offset=2))
  config.data.data_dir = test_case.test_data_dir()
  config.train.update(dict(steps=steps, batch_size=batch_size, log_every=2,
                           checkpoint_every=2, image_every=100, num_image_sequences=2))
  return config


DRNET_METRICS = {"loss", "reconstruction_loss", "similarity_loss", "adversarial_loss",
                 "discriminator_loss", "discriminator_accuracy"}


def restore_weights(config, workdir):
  model = factory.build_model(config.model)
  model.build()
  path = tf.train.latest_checkpoint(os.path.join(workdir, trainer_lib.CHECKPOINT_DIR))
  checkpointing.restore_model(model, path)
  return model.get_weights(), path


_SHARED = {}


def shared_run(family="svg"):
  """One 4-step run per family, shared by the tests that only read its work directory."""
  if family not in _SHARED:
    import tempfile  # pylint: disable=g-import-not-at-top
    workdir = tempfile.mkdtemp(prefix=f"tfgen_trainer_test_{family}_")
    config = tiny_config() if family == "svg" else tiny_drnet_config()
    _SHARED[family] = (workdir, trainer_lib.train(config, workdir))
  return _SHARED[family]


def event_tags(workdir):
  tags = set()
  for event_file in tf.io.gfile.glob(os.path.join(workdir, "train", "events.*")):
    for event in tf.compat.v1.train.summary_iterator(event_file):
      tags.update(v.tag for v in event.summary.value)
  return tags


def restored_state(config, workdir):
  """A trainer's freshly built model and counters, restored from the latest checkpoint."""
  trainer = trainer_lib.Trainer(config, workdir)
  model, _, examples_seen = trainer._build()  # pylint: disable=protected-access
  step = trainer._new_step_counter()  # pylint: disable=protected-access
  path = tf.train.latest_checkpoint(os.path.join(workdir, trainer_lib.CHECKPOINT_DIR))
  trainer._restore(path, model, examples_seen, step)  # pylint: disable=protected-access
  return model, int(examples_seen.numpy()), int(step.numpy())


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
    tags = event_tags(workdir)
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
    model, examples_seen, step = restored_state(tiny_config(steps=8), workdir)
    self.assertEqual(examples_seen, 16)
    self.assertEqual(step, 4)
    self.assertEqual(int(model.optimizer.iterations.numpy()), 4)

  def test_checkpoint_without_step_counter_resumes_from_optimizer_iterations(self):
    # Checkpoints written before the trainer had its own step counter hold no "step": the
    # main optimiser's iterations give it. Such a run resumed to 4 steps equals 4 steps
    # in one go.
    straight, _ = shared_run()
    old = self.make_temp_dir()
    trainer_lib.train(tiny_config(steps=2), old)
    model, examples_seen, step = restored_state(tiny_config(steps=2), old)
    self.assertEqual((examples_seen, step), (8, 2))
    # Rewrite the work directory's checkpoints in the old layout (no step variable).
    shutil.rmtree(os.path.join(old, trainer_lib.CHECKPOINT_DIR))
    legacy = checkpointing.training_checkpoint(
        model, model.optimizer, examples_seen=tf.Variable(examples_seen, dtype=tf.int64))
    manager = tf.train.CheckpointManager(legacy, os.path.join(old, trainer_lib.CHECKPOINT_DIR),
                                         max_to_keep=3)
    path = manager.save(checkpoint_number=2)
    self.assertFalse(checkpointing.has_variable(path, "step"))
    self.assertTrue(checkpointing.has_variable(path, "examples_seen"))
    with self.assertLogs("absl", level="INFO") as logs:
      trainer_lib.train(tiny_config(steps=4), old)
    self.assertTrue(any("(step 2)" in line for line in logs.output), logs.output[:5])
    a, path_a = restore_weights(tiny_config(), straight)
    b, path_b = restore_weights(tiny_config(), old)
    self.assertEqual(os.path.basename(path_a), os.path.basename(path_b))
    for x, y in zip(a, b):
      self.assertAllClose(x, y, rtol=1e-5, atol=1e-6)
    self.assertEqual(restored_state(tiny_config(), old)[2], 4)

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
    self.assertTrue(any("jit_compile=false" in line for line in logs.output))  # Quick's.

  def test_pictures_from_a_test_split_smaller_than_asked(self):
    # 3 test clips for 4 picture clips: the pictures show the 3 (no error, no empty batch).
    config = tiny_config(steps=1)
    config.data.options.num_test_sequences = 3
    config.train.num_image_sequences = 4
    workdir = self.make_temp_dir()
    trainer_lib.train(config, workdir)
    self.assertTrue(os.path.exists(os.path.join(workdir, "samples", "step_00000001.png")))

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

  # ------------------------------------------------------------------ DrNET

  def test_drnet_writes_everything(self):
    workdir, metrics = shared_run("drnet")
    self.assertEqual(set(metrics), DRNET_METRICS)
    with open(os.path.join(workdir, "config.json")) as f:
      self.assertEqual(config_loader.from_json(f.read()).to_dict(),
                       tiny_drnet_config().to_dict())
    with open(os.path.join(workdir, "model_summary.json")) as f:
      summary = json.load(f)
    self.assertEqual(summary["model"], "DrNet")
    self.assertEqual(set(summary["trainable_parameters"]),
                     {"content_encoder", "pose_encoder", "decoder", "scene_discriminator"})
    for name in ("samples/step_00000004.png", "samples/samples.gif",
                 "checkpoints/ckpt-4.index"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    tags = event_tags(workdir)
    self.assertContainsSubset(
        DRNET_METRICS | {"learning_rate", "learning_rate/discriminator_optimizer"}, tags)
    self.assertTrue(any("samples" in tag for tag in tags), tags)

  def test_drnet_checkpoint_holds_both_optimizers_and_the_step(self):
    workdir, _ = shared_run("drnet")
    path = tf.train.latest_checkpoint(os.path.join(workdir, trainer_lib.CHECKPOINT_DIR))
    names = [name for name, _ in tf.train.list_variables(path)]
    model, examples_seen, step = restored_state(tiny_drnet_config(), workdir)
    self.assertEqual((examples_seen, step), (16, 4))
    self.assertContainsSubset({"model", "optimizer", "discriminator_optimizer",
                               "examples_seen", "step"}, {n.split("/")[0] for n in names})
    for key, optimizer in model.optimizers_by_name().items():
      saved = [n for n in names if n.startswith(key + "/")]
      self.assertLen(saved, len(optimizer.variables), key)
      self.assertEqual(int(optimizer.iterations.numpy()), 4, key)
    self.assertLen([n for n in names if n.startswith("model/")], len(model.variables))

  def test_drnet_exact_resume(self):
    straight, _ = shared_run("drnet")
    resumed = self.make_temp_dir()
    trainer_lib.train(tiny_drnet_config(steps=2), resumed)
    trainer_lib.train(tiny_drnet_config(steps=4), resumed)
    a, path_a = restore_weights(tiny_drnet_config(), straight)
    b, path_b = restore_weights(tiny_drnet_config(), resumed)
    self.assertEqual(os.path.basename(path_a), os.path.basename(path_b))
    for x, y in zip(a, b):
      self.assertAllClose(x, y, rtol=1e-5, atol=1e-6)

  def test_resume_takes_the_configs_learning_rate_for_every_optimizer(self):
    workdir = self.make_temp_dir()
    shutil.copytree(shared_run("drnet")[0], workdir, dirs_exist_ok=True)
    config = tiny_drnet_config(steps=6)
    config.train.learning_rate = 0.0005
    trainer_lib.train(config, workdir)
    model, _, step = restored_state(config, workdir)
    self.assertEqual(step, 6)
    self.assertLen(model.optimizers_by_name(), 2)
    for key, optimizer in model.optimizers_by_name().items():
      self.assertAllClose(float(np.asarray(optimizer.learning_rate.value)), 0.0005, msg=key)

  @test_case.parameterized.named_parameters(
      # A NaN from the third step on, in C's loss or in the main objective.
      ("discriminator_step", "discriminator_loss", "discriminator_optimizer"),
      ("main_step", "reconstruction_loss", "optimizer"),
  )
  def test_drnet_non_finite_loss_stops_and_keeps_last_good_checkpoint(self, loss, optimizer):
    workdir = self.make_temp_dir()
    trainer_lib.train(tiny_drnet_config(steps=2), workdir)
    good, good_path = restore_weights(tiny_drnet_config(), workdir)
    original = getattr(drnet_lib.DrNet, loss)
    # Inherited losses may be static methods (the adversarial base's); the patch is not.
    static = isinstance(inspect.getattr_static(drnet_lib.DrNet, loss), staticmethod)

    def poisoned(model, *args):
      value = original(*args) if static else original(model, *args)
      step = getattr(model, optimizer).iterations
      return tf.where(step >= 2, tf.constant(np.nan, value.dtype), value)

    with mock.patch.object(drnet_lib.DrNet, loss, poisoned), \
        self.assertRaisesRegex(trainer_lib.NonFiniteLossError, "Non-finite loss at step 3"):
      trainer_lib.train(tiny_drnet_config(steps=6), workdir)
    after, after_path = restore_weights(tiny_drnet_config(), workdir)
    self.assertEqual(good_path, after_path)
    for x, y in zip(good, after):
      self.assertAllEqual(x, y)

  def test_drnet_data_check(self):
    config = tiny_drnet_config()
    config.data.max_offset = 5
    with self.assertRaisesRegex(ValueError, r"num_frames \(5\) must be >= max_offset \+ 1"):
      trainer_lib.Trainer(config, self.make_temp_dir())
    config = tiny_config()
    config.data.num_frames = 5
    with self.assertRaisesRegex(ValueError, r"config.data.num_frames \(5\) must equal "
                                r"num_context_frames \+ num_future_frames \(4\)"):
      trainer_lib.Trainer(config, self.make_temp_dir())

  def test_bad_batch_for_replicas(self):
    config = tiny_config(batch_size=3)
    devices = tf.config.list_logical_devices("CPU")
    strategy = trainer_lib.mirrored_strategy([d.name for d in devices[:2]])
    with self.assertRaisesRegex(ValueError, "batch_size 3 must be divisible.*2"):
      trainer_lib.Trainer(config, self.make_temp_dir(), strategy)


if __name__ == "__main__":
  tf.test.main()
