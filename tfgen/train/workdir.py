"""Reading back what a training run left in its work directory (config and weights).

Shared by every binary that starts from a trained run (evaluate, generate, export).
"""

import os

import tensorflow as tf

from tfgen.train import checkpointing
from tfgen.utils import config_loader

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"


class WorkdirError(FileNotFoundError, ValueError):
  """A work directory without the config or checkpoint a trained run leaves."""


def load_config(workdir):
  """The resolved config a training run wrote into `workdir`."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not tf.io.gfile.exists(path):
    raise WorkdirError(f"No {CONFIG_FILE} in {workdir}: {workdir!r} is not a training work "
                       "directory (train with `python -m tfgen.bin.train --workdir=...` first).")
  with tf.io.gfile.GFile(path) as f:
    return config_loader.from_json(f.read())


def load_model(workdir, config=None, checkpoint=None):
  """Builds the workdir's model and restores a checkpoint (default: the latest).

  Returns:
    `(model, config, checkpoint_path)`.

  Raises:
    WorkdirError: no config or no checkpoint.
    ValueError: a checkpoint of another model or configuration.
  """
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  config = config or load_config(workdir)
  if checkpoint is None:
    directory = os.path.join(workdir, CHECKPOINT_DIR)
    checkpoint = tf.train.latest_checkpoint(directory)
    if checkpoint is None:
      raise WorkdirError(f"No checkpoint in {directory!r}: train the model first (or point "
                         "--workdir at a trained run).")
  model = factory.build_model(config.model)
  model.build()
  checkpointing.restore_model(model, checkpoint)
  return model, config, checkpoint
