"""Model families: the registry through which shared code reaches each family.

What belongs to one family lives in its folder, `tfgen/models/<family>/`: the model, its
export signatures, its pictures and analyses, and `family.py`, whose `FAMILY` is a
`ModelFamily` telling the shared code (trainer, exporter, binaries) the few things that
differ between families, so none of it has an `if model == ...`:

- `build(**fields)`: the model, from `config.model` without its `name`;
- `compile(model, train_config)`: creates the family's optimisers from `config.train` and
  compiles the model with them, every optimiser built (the trainer calls it inside the
  strategy scope);
- `check_data(config)`: raises `ValueError` when `config.data` cannot feed the model;
- `training_data(dataset, config, start_index)`: the registered data set's training stream
  (batches, the first being example `start_index`) turned into what the model's
  `train_step` takes;
- `signatures`: the module path of the family's export signatures (`signatures(model)`,
  `example_inputs(...)`; `tfgen.export.exporter`);
- `samples`: the module path of the family's pictures (`write_samples(workdir, **flags)`;
  `tfgen.bin.generate`);
- `evaluate` (optional): the module path of the family's evaluation (`FLAG_NAMES`,
  `evaluate(workdir, **flags)`, `summary_lines(document)`; `tfgen.bin.evaluate`);
  without it, best-of-N video evaluation (`tfgen.evaluation.evaluate`);
- `prepare_config(config)` (optional): completes `config` in place from what it refers to
  (e.g. the DrNET run a pose LSTM is trained on) and raises `ValueError` on a bad
  reference; the trainer calls it first, before `check_data`;
- `initialize(model, config)` (optional): initial values that are not drawn at random
  (e.g. frozen networks restored from another run); the trainer calls it on a fresh start
  only, a resumed run restoring everything from its own checkpoint.

Families that predict video (`tfgen.bin.evaluate`, best-of-N) give their model
`generate(context, num_future_frames, num_samples, seed) -> {"samples": (B, N, F, H, W, C)}`,
`num_context_frames` and `stochastic` (False: one future, N = 1).

What the trainer asks of the model itself: `train_step`, `metrics`, `submodules_by_name()`
(summaries), `optimizers_by_name()` (the checkpoint; "optimizer", the main one, is
`model.optimizer`) and, for pictures, `picture_rows(video, num_samples, seed)`.

A new family adds its folder with a `family.py` and one line to `_FAMILY_MODULES`.
"""

import dataclasses
import importlib
from typing import Callable, Optional


@dataclasses.dataclass(frozen=True)
class ModelFamily:
  """What the shared code needs of one model family (module docstring)."""
  build: Callable
  compile: Callable
  check_data: Callable
  training_data: Optional[Callable] = None
  signatures: Optional[str] = None
  samples: Optional[str] = None
  # Optional: a family trained as several trainer runs (LAPGAN: one per pyramid level);
  # `tfgen.train.trainer.train` hands such a run to `train(config, workdir, strategy)`.
  train: Optional[Callable] = None
  prepare_config: Optional[Callable] = None
  initialize: Optional[Callable] = None
  # Optional: the module path of the family's own evaluation (`tfgen.bin.evaluate`):
  # `FLAG_NAMES`, `evaluate(workdir, **flags) -> document`, `summary_lines(document)`.
  # Families without one predict video and get best-of-N (`tfgen.evaluation.evaluate`).
  evaluate: Optional[str] = None


# ----------------------------------------------------------------------------- shared hooks


def compile_with_one_optimizer(model, train_config):
  """`compile` of a one-player family: one optimiser from `config.train`, built (over the
  model's trainable variables unless the model's own `compile` built it)."""
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(optimizer=optimizers.make_optimizer(train_config))
  # `model.optimizer`: a LossScaleOptimizer under mixed_float16.
  if not model.optimizer.built:
    model.optimizer.build(model.trainable_variables)


def check_clip_length(config):
  """`check_data` of a video-prediction family: clips of context + future frames."""
  expected_frames = config.model.num_context_frames + config.model.num_future_frames
  if config.data.num_frames != expected_frames:
    raise ValueError(f"config.data.num_frames ({config.data.num_frames}) must equal "
                     f"num_context_frames + num_future_frames ({expected_frames}).")


# config.model.name -> the module whose FAMILY describes it (imported on first use).
_FAMILY_MODULES = {
    "svg": "tfgen.models.svg.family",
    "drnet": "tfgen.models.drnet.family",
    "drnet_lstm": "tfgen.models.drnet.lstm_family",
    "ae_lstm": "tfgen.models.drnet.ae_lstm_family",
    "lapgan": "tfgen.models.lapgan.family",
    "lapgan_level": "tfgen.models.lapgan.level_family",
    "classifier": "tfgen.models.classifier.family",
}
MODEL_FAMILIES = tuple(_FAMILY_MODULES)


def get_family(name):
  """The `ModelFamily` registered as `name` (`config.model.name`)."""
  if name not in _FAMILY_MODULES:
    raise ValueError(f"Unknown model family {name!r}; valid: {', '.join(MODEL_FAMILIES)}.")
  return importlib.import_module(_FAMILY_MODULES[name]).FAMILY


def family_module(name, hook):
  """The module a family names for `hook` ("signatures", "samples"), imported."""
  path = getattr(get_family(name), hook)
  if path is None:
    with_hook = [f for f in MODEL_FAMILIES if getattr(get_family(f), hook) is not None]
    raise ValueError(f"Model family {name!r} has no {hook}; families with {hook}: "
                     f"{', '.join(with_hook)}.")
  return importlib.import_module(path)


def build_model(model_config):
  """Builds the model named by `model_config.name` from the rest of its fields."""
  fields = dict(model_config)
  return get_family(fields.pop("name")).build(**fields)
