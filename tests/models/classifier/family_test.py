"""The classifier through THE trainer and binary: configs, data checks, scoring, features."""

import json
import os

import numpy as np

from tests import test_case
from tests.data import cifar10_test
from tfgen.evaluation import feature_distances
from tfgen.models import factory
from tfgen.models.classifier import scoring
from tfgen.train import trainer
from tfgen.utils import config_loader


def quick_config(steps=40, **train):
  config = config_loader.load("classifier", "mnist_digits", "quick")
  config.data.data_dir = test_case.test_data_dir()  # Real MNIST in CI, shipped set otherwise.
  config.train.update(dict(steps=steps, log_every=10, checkpoint_every=steps, **train))
  return config


class ClassifierFamilyTest(test_case.TestCase):

  def test_trains_through_the_trainer_and_beats_chance(self):
    workdir = self.make_temp_dir()
    config = quick_config()
    metrics = trainer.train(config, workdir)
    self.assertEqual(set(metrics), {"loss", "accuracy"})
    model, saved, path = scoring.load(workdir)
    self.assertTrue(path.endswith("ckpt-40"))
    self.assertEqual(saved.to_dict(), config.to_dict())
    accuracy, count = scoring.accuracy(model, saved)
    self.assertGreaterEqual(count, 500)  # the shipped subset's test digits, or all 10,000
    self.assertGreater(accuracy, 0.3)  # 40 steps of 16 digits; chance is 0.1
    with open(os.path.join(workdir, trainer.SUMMARY_FILE)) as f:
      self.assertEqual(set(json.load(f)["trainable_parameters"]), {"features", "head"})
    # Its features and logits feed the feature-space distances.
    images = np.random.default_rng(0).random((20, 28, 28, 1)).astype("float32")
    features, logits = feature_distances.classifier_outputs(model, images, batch_size=8)
    self.assertEqual((features.shape, logits.shape), ((20, 32), (20, 10)))
    self.assertAllClose(logits, model(images, training=False), atol=1e-5)
    self.assertAlmostEqual(feature_distances.frechet_distance(features, features), 0.0,
                           delta=1e-6 * np.trace(np.cov(features, rowvar=False)))

  def test_binary(self):
    workdir = self.make_temp_dir()
    result = test_case.run_binary(
        "tfgen.bin.train", "--model=classifier", "--dataset=mnist_digits",
        f"--workdir={workdir}", "--quick", "--config.train.steps=2",
        "--config.train.checkpoint_every=2",
        *([f"--config.data.data_dir={test_case.test_data_dir()}"]
          if test_case.test_data_dir() else []))
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertTrue(os.path.exists(os.path.join(workdir, "checkpoints", "ckpt-2.index")))

  def test_cifar10_quick_config_on_files_in_the_native_format(self):
    root = self.make_temp_dir()
    cifar10_test.write_cifar(root)
    for variant, size in ((None, 32), ("crop28", 28)):
      config = config_loader.load("classifier", "cifar10", variant)
      config.model.update(dict(filters=[2, 3], hidden_units=4))
      config.data.data_dir = root
      config.data.options.num_validation = 3
      config.train.update(dict(steps=2, batch_size=4, log_every=1, checkpoint_every=2))
      self.assertEqual(config.model.example_shape, [size, size, 3])
      metrics = trainer.train(config, self.make_temp_dir())
      self.assertTrue(np.isfinite(metrics["loss"]), variant)

  def test_configs_load_build_and_round_trip(self):
    for dataset, variant, shape in (("mnist_digits", None, (28, 28, 1)),
                                    ("mnist_digits", "quick", (28, 28, 1)),
                                    ("cifar10", None, (32, 32, 3)),
                                    ("cifar10", "quick", (32, 32, 3)),
                                    ("cifar10", "crop28", (28, 28, 3))):
      config = config_loader.load("classifier", dataset, variant)
      self.assertEqual((config.model_name, config.data.name), ("classifier", dataset))
      factory.get_family("classifier").check_data(config)
      text = config_loader.to_json(config)
      self.assertEqual(config_loader.from_json(text).to_dict(), config.to_dict())
      model = factory.build_model(config.model)
      model.build()
      self.assertEqual(model.example_shape, shape)
    with self.assertRaisesRegex(ValueError, "Unknown variant"):
      config_loader.load("classifier", "cifar10", "large")

  def test_bad_data(self):
    family = factory.get_family("classifier")
    config = quick_config()
    config.data.name = "smmnist"
    with self.assertRaisesRegex(ValueError, "image data sets.*'smmnist' \\(video\\)"):
      family.check_data(config)
    config = quick_config()
    config.model.update(dict(architecture="mlp", example_shape=[128]))
    with self.assertRaisesRegex(ValueError, "architecture 'mlp'"):
      trainer.Trainer(config, self.make_temp_dir())

  def test_scoring_refuses_another_family(self):
    workdir = self.make_temp_dir()
    config = quick_config()
    config.model.name = "drnet"
    with open(os.path.join(workdir, trainer.CONFIG_FILE), "w") as f:
      f.write(config_loader.to_json(config))
    with self.assertRaisesRegex(ValueError, "not a classifier"):
      scoring.load(workdir)


if __name__ == "__main__":
  test_case.tf.test.main()
