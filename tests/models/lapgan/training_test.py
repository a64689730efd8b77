"""Tests of LAPGAN training through the trainer: levels in sub-workdirs, one level alone,
assembly, pictures, a failing level, mismatched pyramids."""

import json
import os
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.models.lapgan import tiny
from tfgen.models.lapgan import sample_pictures
from tfgen.models.lapgan import training
from tfgen.train import trainer as trainer_lib
from tfgen.train import workdir as workdir_lib

_SHARED = {}


def shared_run():
  """One tiny 3-level run (4 steps per level), shared by the tests that only read it."""
  if "run" not in _SHARED:
    workdir = tempfile.mkdtemp(prefix="tfgen_lapgan_training_test_")
    _SHARED["run"] = (workdir, trainer_lib.train(tiny.tiny_config(), workdir))
  return _SHARED["run"]


def event_tags(directory):
  tags = set()
  for event_file in tf.io.gfile.glob(os.path.join(directory, "train", "events.*")):
    for event in tf.compat.v1.train.summary_iterator(event_file):
      tags.update(v.tag for v in event.summary.value)
  return tags


class TrainingTest(test_case.TestCase):

  def test_every_level_in_its_own_workdir(self):
    workdir, metrics = shared_run()
    self.assertEqual(set(metrics), {0, 1, 2})
    for level in range(3):
      directory = training.level_dir(workdir, level)
      config = workdir_lib.load_config(directory)
      self.assertEqual((config.model.name, config.model.level, config.lapgan.level),
                       ("lapgan_level", level, level))
      self.assertEqual(os.path.basename(tf.train.latest_checkpoint(
          os.path.join(directory, "checkpoints"))), "ckpt-4")
      with open(os.path.join(directory, "model_summary.json")) as f:
        self.assertEqual(set(json.load(f)["trainable_parameters"]),
                         {"generator", "discriminator"})
      # TensorBoard: both losses, D's accuracy on real and generated images, both learning
      # rates (the schedules), sample grids.
      tags = event_tags(directory)
      self.assertContainsSubset(
          {"generator_loss", "discriminator_loss", "discriminator_accuracy_real",
           "discriminator_accuracy_generated", "learning_rate",
           "learning_rate/discriminator_optimizer"}, tags)
      self.assertTrue(any("samples" in tag for tag in tags), tags)
    top = workdir_lib.load_config(workdir)
    self.assertEqual((top.model.name, top.lapgan.level), ("lapgan", -1))
    self.assertEqual(os.path.basename(tf.train.latest_checkpoint(
        os.path.join(workdir, "checkpoints"))), "ckpt-12")

  def test_assembled_lapgan_holds_each_level(self):
    workdir, _ = shared_run()
    lapgan, _, _ = workdir_lib.load_model(workdir)
    for k in range(3):
      level, _, _ = workdir_lib.load_model(training.level_dir(workdir, k))
      for a, b in zip(lapgan.levels[k].get_weights(), level.get_weights()):
        self.assertAllEqual(a, b)
    # The data statistics travel with the weights (MNIST per channel, in [0, 1] units).
    mean = float(lapgan.levels[0].data_mean.numpy()[0])
    self.assertBetween(mean, 0.05, 0.3)

  def test_samples_written(self):
    workdir, _ = shared_run()
    output = sample_pictures.write_samples(workdir, num_samples=3, num_sequences=2, seed=1)
    for name in ("samples.png", "chains.png", "redraws.png", "interpolation.png",
                 "sample_pictures.txt"):
      self.assertTrue(os.path.exists(os.path.join(output, name)), name)
    grids = sample_pictures.pictures(workdir_lib.load_model(workdir)[0], 3, 2, seed=1)
    self.assertEqual(grids["samples.png"].shape, (2 * 29 + 1, 3 * 29 + 1, 1))
    # Chains: x_2, u(x_2), x_1, u(x_1), x_0.
    self.assertEqual(grids["chains.png"].shape, (2 * 29 + 1, 5 * 29 + 1, 1))
    with self.assertRaisesRegex(ValueError, "num_samples must be >= 1"):
      sample_pictures.write_samples(workdir, num_samples=0)

  def test_one_level_then_assembly(self):
    workdir = self.make_temp_dir()
    trainer_lib.train(tiny.tiny_config(steps=2, level=1), workdir)
    self.assertTrue(os.path.isdir(training.level_dir(workdir, 1)))
    self.assertFalse(os.path.exists(training.level_dir(workdir, 0)))
    self.assertIsNone(tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")))
    with self.assertRaisesRegex(ValueError, "Unknown LAPGAN level 3.*0..2"):
      trainer_lib.train(tiny.tiny_config(level=3), workdir)

  def test_level_of_another_pyramid_is_refused(self):
    workdir = self.make_temp_dir()
    trainer_lib.train(tiny.tiny_config(steps=2, level=1), workdir)
    other = tiny.tiny_config(steps=2, level=1)
    other.model.sizes = [28, 14, 8]
    with self.assertRaisesRegex(ValueError, "another (config|model).*sizes"):
      trainer_lib.train(other, workdir)

  def test_assembly_refuses_a_level_of_another_pyramid(self):
    workdir = self.make_temp_dir()
    config = tiny.tiny_config(steps=2)
    trainer_lib.train(config, workdir)
    # Replace level 1's directory with one trained for a 28 -> 16 -> 7 pyramid.
    other = tiny.tiny_config(steps=2, level=1)
    other.model.sizes = [28, 16, 7]
    stray = self.make_temp_dir()
    trainer_lib.train(other, stray)
    os.rename(training.level_dir(workdir, 1), training.level_dir(workdir, 1) + ".old")
    os.rename(training.level_dir(stray, 1), training.level_dir(workdir, 1))
    with self.assertRaisesRegex(ValueError, r"level_1 was trained for another LAPGAN: "
                                r"sizes: level has \[28, 16, 7\], the LAPGAN \[28, 14, 7\]"):
      training.assemble(workdir)

  def test_non_finite_level_stops_alone(self):
    workdir = self.make_temp_dir()
    original = trainer_lib.Trainer.train

    def train(trainer):
      if trainer.config.model.level == 1:
        raise trainer_lib.NonFiniteLossError("Non-finite loss at step 3")
      return original(trainer)

    with mock.patch.object(trainer_lib.Trainer, "train", train):
      with self.assertRaisesRegex(trainer_lib.NonFiniteLossError,
                                  r"level 1: Non-finite.*levels \[0, 2\] trained normally"):
        trainer_lib.train(tiny.tiny_config(steps=2), workdir)
    for level in (0, 2):
      self.assertIsNotNone(tf.train.latest_checkpoint(
          os.path.join(training.level_dir(workdir, level), "checkpoints")))

  def test_bad_config(self):
    config = tiny.tiny_config()
    config.train.batch_size = 6
    with self.assertRaisesRegex(ValueError, "multiple of 4, got 6"):
      trainer_lib.train(config, self.make_temp_dir())


if __name__ == "__main__":
  tf.test.main()
