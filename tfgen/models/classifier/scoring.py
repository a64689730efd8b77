"""A trained classifier from its work directory, and its accuracy on a split."""

import numpy as np

from tfgen.data import registry
from tfgen.train import workdir as workdir_lib


def load(workdir, example_shape=None):
  """`(classifier, config, checkpoint_path)` of a `--model=classifier` run's latest checkpoint.

  Args:
    workdir: the classifier's work directory.
    example_shape: when given, the shape of one example the caller will classify.

  Raises:
    ValueError: the work directory holds another model family, no config, no checkpoint,
      or a classifier of examples of another shape.
  """
  config = workdir_lib.load_config(workdir)
  if config.model.name != "classifier":
    raise ValueError(f"{workdir!r} holds a {config.model.name!r} run, not a classifier "
                     "(train one with --model=classifier).")
  if example_shape is not None:
    expected = tuple(config.model.get("example_shape", ()))
    if expected != tuple(example_shape):
      raise ValueError(f"The classifier of {workdir!r} classifies examples of shape "
                       f"{expected}; these are {tuple(example_shape)}.")
  return workdir_lib.load_model(workdir, config)


def accuracy(model, config, split="test", batch_size=500):
  """`(accuracy, num_images)` of `model` on every image of `split` of `config.data`."""
  data = config.data
  dataset = registry.build(data.name, split, batch_size=batch_size, num_frames=None,
                           seed=config.train.seed, data_dir=data.data_dir,
                           drop_remainder=False, **dict(data.get("options", {})))
  correct = total = 0
  for batch in dataset:
    logits = model(batch["image"], training=False)
    correct += int(np.sum(np.argmax(logits, axis=-1) == batch["label"].numpy()))
    total += int(batch["label"].shape[0])
  if not total:
    raise ValueError(f"The {split} split of {data.name!r} holds no image.")
  return correct / total, total
