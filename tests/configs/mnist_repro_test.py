"""The MNIST reproduction variants ("repro") of the LAPGAN and plain GAN configs."""

from tests import test_case
from tfgen.models import factory
from tfgen.models.lapgan import training
from tfgen.utils import config_loader


class MNISTReproTest(test_case.TestCase):

  def test_lapgan_repro_only_shortens_the_levels(self):
    default = config_loader.load("lapgan", "mnist_digits", None)
    repro = config_loader.load("lapgan", "mnist_digits", "repro")
    self.assertEqual(repro.model.to_dict(), default.model.to_dict())
    self.assertEqual(tuple(repro.model.sizes), (28, 14, 7))
    steps = {k: training.level_config(repro, k).train.steps for k in range(3)}
    self.assertEqual(steps, {0: 500, 1: 500, 2: 3000})
    for k in range(3):
      level, base = training.level_config(repro, k).train, training.level_config(default, k).train
      differing = {key for key in base if level[key] != base[key]}
      self.assertEqual(differing, {"steps", "checkpoint_every", "image_every"})
    factory.get_family("lapgan").check_data(repro)

  def test_gan_repro_only_shortens_training(self):
    default = config_loader.load("gan", "mnist_digits", None)
    repro = config_loader.load("gan", "mnist_digits", "repro")
    self.assertEqual(repro.model.to_dict(), default.model.to_dict())
    self.assertEqual(training.level_config(repro, 0).train.steps, 3500)
    differing = {key for key in default.train if repro.train[key] != default.train[key]}
    self.assertEqual(differing, {"steps", "checkpoint_every", "image_every"})
    factory.get_family("lapgan").check_data(repro)

  def test_unknown_variant(self):
    for model in ("lapgan", "gan"):
      with self.assertRaisesRegex(ValueError, "valid: None, 'quick', 'repro'"):
        config_loader.load(model, "mnist_digits", "fast")


if __name__ == "__main__":
  test_case.tf.test.main()
