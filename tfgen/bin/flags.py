"""Flags shared by every tfgen binary, and the `--config.<field>=<value>` overrides.

Every binary that trains or reads data has `--steps`, `--batch_size` and `--data_dir`
(and `train` `--precision`);
any other config field is set with `--config.<field>=<value>` (e.g.
`--config.model.z_dim=16`, `--config.train.precision=mixed_bfloat16`). Overrides are
checked against the config before any work: an unknown field or a value of the wrong
type stops the binary with a message naming it.
"""

import contextlib
import sys

from absl import flags
from absl import logging

from tfgen.utils import config_loader

CONFIG_PREFIX = "--config."


def define_data_flags():
  flags.DEFINE_integer("steps", None, "Training steps (overrides config.train.steps).")
  flags.DEFINE_integer("batch_size", None,
                       "Global batch size, split across replicas (config.train.batch_size).")
  flags.DEFINE_string("data_dir", None,
                      "Where the data set lives (smmnist, mnist: a Keras-layout mnist.npz or "
                      "its folder; kth/bair: the output of tfgen.bin.prepare).")


def define_precision_flag():
  flags.DEFINE_string(
      "precision", None,
      "Training precision (config.train.precision): float32, mixed_bfloat16, mixed_float16, "
      "or auto (mixed_bfloat16 on CPUs with AVX512_BF16/AMX and GPUs with bfloat16 units, "
      "float32 elsewhere; the log says which and why).")


def define_model_flags():
  flags.DEFINE_string("model", None, "Model name, e.g. svg_lp, svg_fp, svg_det, drnet.")
  flags.DEFINE_string("dataset", None, "Data set name, e.g. smmnist, kth, bair, mnist.")
  flags.DEFINE_bool("quick", False, "Use the config's quick variant (minutes on a CPU); "
                    "the same as --variant=quick.")
  flags.DEFINE_string("variant", None,
                      "A named variant of the config (its get_config(variant)), e.g. quick, "
                      "repro; see the config file's docstring.")


_OVERRIDES = []


@contextlib.contextmanager
def user_errors(*extra_errors):
  """Bad input (`ValueError`, `FileNotFoundError`, `extra_errors`) -> one line and exit 1.

  The errors tfgen raises for bad input name the input and what was expected; a binary
  prints that message on stderr (no traceback) and exits with status 1.
  """
  try:
    yield
  except (ValueError, FileNotFoundError) + tuple(extra_errors) as e:
    logging.error("%s", e)
    sys.stderr.write(f"Error: {e}\n")
    sys.exit(1)


def parse_flags_with_overrides(argv):
  """absl `flags_parser` that sets aside `--config.<field>=<value>` for `config_overrides()`."""
  rest = []
  for arg in argv:
    if arg.startswith(CONFIG_PREFIX):
      _OVERRIDES.append(arg[len(CONFIG_PREFIX):])
    else:
      rest.append(arg)
  try:
    return flags.FLAGS(rest)
  except flags.Error as e:
    sys.stderr.write(f"FATAL Flags parsing error: {e}\n")
    sys.stderr.write("Pass --helpfull to see help on flags.\n")
    sys.exit(1)


def config_overrides():
  return list(_OVERRIDES)


def resolve_config(model, dataset, quick=False, variant=None):
  """Loads the config of (`model`, `dataset`) and applies the plain flags and overrides."""
  if not model or not dataset:
    raise ValueError(f"--model and --dataset are required; available: "
                     f"{config_loader.available()}.")
  if quick and variant not in (None, "quick"):
    raise ValueError(f"--quick and --variant={variant} contradict each other; pass one.")
  config = config_loader.load(model, dataset, "quick" if quick else variant)
  config_loader.apply_overrides(config, config_overrides())
  values = flags.FLAGS
  if values["steps"].value is not None:
    config.train.steps = values.steps
  if values["batch_size"].value is not None:
    config.train.batch_size = values.batch_size
  if values["data_dir"].value is not None:
    config.data.data_dir = values.data_dir
  if "precision" in values and values["precision"].value is not None:
    config.train.precision = values.precision
  if config.get("train") is not None and "precision" in config.train:
    from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
    machine.resolve_precision(config.train.precision)  # Unknown: lists the valid ones.
  if config.train.steps < 1 or config.train.batch_size < 1:
    raise ValueError(f"steps and batch_size must be >= 1, got {config.train.steps} and "
                     f"{config.train.batch_size}.")
  return config
