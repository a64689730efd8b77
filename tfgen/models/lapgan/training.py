"""Training a LAPGAN: every level (or one) as its own run of the one trainer.

`python -m tfgen.bin.train --model=lapgan --dataset=D --workdir=W` trains the levels in
sequence, level K (the coarsest) first; `--config.lapgan.level=K` trains only level K, so
levels can run as separate, parallel jobs. Level k is an ordinary trainer run
(`tfgen.train.trainer.Trainer`) of a `PyramidLevel` in `W/level_k/`, with its own
`config.json`, checkpoints, TensorBoard events (losses, D's accuracy on real and generated
images, sample grids) and resumption. A level whose loss goes non-finite stops with its
last good checkpoint kept; the other levels are trained and left untouched, and the run
reports the failure at the end.

Once every level has a checkpoint, the levels are assembled into one `LAPGAN` checkpoint
in `W/checkpoints/`, which `tfgen.bin.generate` and `tfgen.bin.export` read like any
other work directory (rerun the command after parallel per-level jobs to assemble).
"""

import copy
import os

from absl import logging
import ml_collections
import tensorflow as tf

from tfgen.train import checkpointing
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader
from tfgen.utils import files

LEVEL_FAMILY = "lapgan_level"
ALL_LEVELS = -1


def level_dir(workdir, level):
  return os.path.join(workdir, f"level_{level}")


def num_levels(config):
  return len(config.model.sizes)


def selected_levels(config):
  """The levels a run trains: all (coarsest first) or `config.lapgan.level`."""
  count = num_levels(config)
  level = config.lapgan.level
  if level == ALL_LEVELS:
    return list(range(count - 1, -1, -1))
  if not isinstance(level, int) or not 0 <= level < count:
    raise ValueError(f"Unknown LAPGAN level {level!r} (config.lapgan.level): valid are "
                     f"0..{count - 1} for sizes {tuple(config.model.sizes)}, or -1 for all.")
  return [level]


def level_config(config, level):
  """The trainer config of level `level`: model "lapgan_level", the level's train fields."""
  result = copy.deepcopy(config)
  fields = dict(result.model)
  fields.pop("name")
  result.model = ml_collections.ConfigDict(dict(name=LEVEL_FAMILY, level=level, **fields))
  overrides = result.lapgan.get("coarsest_train" if level == num_levels(config) - 1
                                else "conditional_train", None)
  if overrides:
    result.train.update(dict(overrides))
  result.lapgan.level = level
  result.model_name = f"{config.get('model_name', 'lapgan')}_level_{level}"
  return result


def _write_top_config(config, workdir):
  """W/config.json: the whole LAPGAN (level -1, so every per-level job writes the same)."""
  top = copy.deepcopy(config)
  top.lapgan.level = ALL_LEVELS
  path = os.path.join(workdir, workdir_lib.CONFIG_FILE)
  if tf.io.gfile.exists(path):
    saved = workdir_lib.load_config(workdir)
    if saved.model.to_dict() != top.model.to_dict() or saved.data.name != top.data.name:
      raise ValueError(f"{workdir} holds a LAPGAN of another model or data set (saved "
                       f"model {saved.model.to_dict()}, now {top.model.to_dict()}). Rerun "
                       "with the same flags, or choose a new --workdir.")
  files.atomic_write(path, config_loader.to_json(top))


def train(config, workdir, strategy=None):
  """Trains the selected levels (module docstring); returns `{level: last metrics}`."""
  from tfgen.train import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  levels = selected_levels(config)
  tf.io.gfile.makedirs(workdir)
  _write_top_config(config, workdir)
  results, failures = {}, {}
  for level in levels:
    logging.info("LAPGAN level %d (size %d) in %s", level, config.model.sizes[level],
                 level_dir(workdir, level))
    try:
      results[level] = trainer_lib.Trainer(level_config(config, level),
                                           level_dir(workdir, level), strategy).train()
    except trainer_lib.NonFiniteLossError as e:
      logging.error("Level %d stopped: %s", level, e)
      failures[level] = e
  assemble(workdir)
  if failures:
    raise trainer_lib.NonFiniteLossError(
        "; ".join(f"level {k}: {e}" for k, e in sorted(failures.items()))
        + f" (levels {sorted(results)} trained normally).")
  return results


def _latest(directory):
  return tf.train.latest_checkpoint(os.path.join(directory, workdir_lib.CHECKPOINT_DIR))


def assemble(workdir):
  """Writes `W/checkpoints/` from every level's latest checkpoint, if all have one.

  Returns the checkpoint path, or None when a level has no checkpoint yet.

  Raises:
    ValueError: a level directory trained with another pyramid or model.
  """
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  config = workdir_lib.load_config(workdir)
  paths = [_latest(level_dir(workdir, k)) for k in range(num_levels(config))]
  if any(path is None for path in paths):
    missing = [k for k, path in enumerate(paths) if path is None]
    logging.info("Levels %s have no checkpoint yet: the LAPGAN is not assembled.", missing)
    return None
  lapgan = factory.build_model(config.model)
  lapgan.build()
  steps = 0
  for k, path in enumerate(paths):
    expected = level_config(config, k).model.to_dict()
    saved = workdir_lib.load_config(level_dir(workdir, k)).model.to_dict()
    if saved != expected:
      differences = sorted(key for key in set(saved) | set(expected)
                           if saved.get(key) != expected.get(key))
      raise ValueError(
          f"{level_dir(workdir, k)} was trained for another LAPGAN: "
          + "; ".join(f"{key}: level has {saved.get(key)!r}, the LAPGAN {expected.get(key)!r}"
                      for key in differences) + ".")
    level = factory.build_model(level_config(config, k).model)
    level.build()
    checkpointing.restore_model(level, path)
    lapgan.levels[k].set_weights(level.get_weights())
    steps += int(path.rsplit("-", 1)[-1])
  manager = tf.train.CheckpointManager(
      tf.train.Checkpoint(model=checkpointing.model_trackable(lapgan)),
      os.path.join(workdir, workdir_lib.CHECKPOINT_DIR), max_to_keep=1)
  path = manager.save(checkpoint_number=steps)
  logging.info("Assembled the LAPGAN's %d levels into %s", len(paths), path)
  return path
