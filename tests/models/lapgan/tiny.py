"""Tiny LAPGAN configs for tests: the quick MNIST-digits config shrunk to seconds."""

from tests import test_case
from tfgen.utils import config_loader


def tiny_config(steps=4, batch_size=8, model="lapgan", level=-1):
  config = config_loader.load(model, "mnist_digits", "quick")
  config.model.update(dict(hidden_generator=3, hidden_discriminator=4,
                           coarsest_generator_units=6, coarsest_discriminator_units=5,
                           noise_dim=3))
  config.data.data_dir = test_case.test_data_dir()  # Real MNIST in CI, shipped set otherwise.
  config.train.update(dict(steps=steps, batch_size=batch_size, log_every=2,
                           checkpoint_every=2, image_every=100, steps_per_epoch=2,
                           num_image_sequences=2, num_image_samples=1))
  config.lapgan.level = level
  return config
