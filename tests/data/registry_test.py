"""Tests of tfgen.data.registry: splits, kinds and statistics across video and image sets."""

import tensorflow as tf

from tests import test_case
from tfgen.data import registry


class RegistryTest(test_case.TestCase):

  def test_kinds_and_splits(self):
    for name in ("cifar10", "stl10", "lsun", "mnist_digits"):
      self.assertEqual(registry.kind(name), "image")
    for name in ("smmnist", "mnist", "kth", "bair", "norb"):
      self.assertEqual(registry.kind(name), "video")
      self.assertEqual(registry.splits(name), ("train", "test"))
    self.assertEqual(registry.splits("cifar10"), ("train", "validation", "test"))
    self.assertEqual(registry.splits("lsun"), ("train", "validation"))

  def test_video_set_has_no_validation_split(self):
    with self.assertRaisesRegex(ValueError,
                                "'smmnist' has no 'validation' split; its splits are: train, "
                                "test"):
      registry.build("smmnist", "validation", batch_size=1, num_frames=2, seed=0)

  def test_unknown_split(self):
    with self.assertRaisesRegex(ValueError, "Unknown split 'valid'; valid splits: train, "
                                "validation, test"):
      registry.build("cifar10", "valid", batch_size=1, seed=0)

  def test_statistics_of_a_video_set(self):
    with self.assertRaisesRegex(ValueError, "'kth' has no image statistics.*cifar10"):
      registry.statistics("kth")

  def test_unknown_per(self):
    with self.assertRaisesRegex(ValueError, "Unknown per 'image'"):
      registry.statistics("mnist_digits", per="image")


if __name__ == "__main__":
  tf.test.main()
