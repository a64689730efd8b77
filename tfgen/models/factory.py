"""Model families: the registry through which shared code (the trainer) reaches each family.

A model never reads a config; its family's entry here maps `config.model` to constructor
arguments and tells the shared trainer the few things that differ between families, so
the trainer has no `if model == ...`:

- `build(**fields)`: the model, from `config.model` without its `name`;
- `compile(model, train_config)`: creates the family's optimisers from `config.train` and
  compiles the model with them, every optimiser built (the trainer calls it inside the
  strategy scope);
- `check_data(config)`: raises `ValueError` when `config.data` cannot feed the model;
- `training_data(dataset, config, start_index)`: the registered data set's training stream
  (batches of clips, the first being clip `start_index`) turned into what the model's
  `train_step` takes.

What the trainer asks of the model itself: `train_step`, `metrics`, `submodules_by_name()`
(summaries), `optimizers_by_name()` (the checkpoint; "optimizer", the main one, is
`model.optimizer`) and, for pictures, `picture_rows(video, num_samples, seed)`.
"""

import dataclasses
from typing import Callable, Optional


@dataclasses.dataclass(frozen=True)
class ModelFamily:
  """What the shared code needs of one model family (module docstring)."""
  build: Callable
  compile: Callable
  check_data: Callable
  training_data: Optional[Callable] = None


# ----------------------------------------------------------------------------- SVG


def _build_svg(**fields):
  from tfgen.models.svg.svg import SVG  # pylint: disable=g-import-not-at-top
  return SVG(**fields)


def _compile_svg(model, train_config):
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(optimizer=optimizers.make_optimizer(train_config))
  # `model.optimizer`: a LossScaleOptimizer under mixed_float16.
  model.optimizer.build(model.trainable_variables)


def _check_svg_data(config):
  expected_frames = config.model.num_context_frames + config.model.num_future_frames
  if config.data.num_frames != expected_frames:
    raise ValueError(f"config.data.num_frames ({config.data.num_frames}) must equal "
                     f"num_context_frames + num_future_frames ({expected_frames}).")


# ----------------------------------------------------------------------------- DrNET


def _build_drnet(**fields):
  from tfgen.models.drnet.drnet import DrNet  # pylint: disable=g-import-not-at-top
  return DrNet(**fields)


def _compile_drnet(model, train_config):
  # One optimiser per player, both from config.train (drnet-py: Adam lr 0.002, betas
  # (0.5, 0.999), eps 1e-8 for every network); DrNet.compile builds both.
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(discriminator_optimizer=optimizers.make_optimizer(train_config),
                optimizer=optimizers.make_optimizer(train_config))


def _check_drnet_data(config):
  from tfgen.models.drnet import frame_sampling  # pylint: disable=g-import-not-at-top
  data = config.data
  frame_sampling.check(data.get("frame_sampling", None), data.num_frames,
                       data.get("max_offset", None))


def _drnet_training_data(dataset, config, start_index):
  from tfgen.models.drnet import frame_sampling  # pylint: disable=g-import-not-at-top
  data = config.data
  return frame_sampling.sample_frames(
      dataset, data.frame_sampling, batch_size=config.train.batch_size,
      num_frames=data.num_frames, seed=config.train.seed, start_index=start_index,
      max_offset=data.get("max_offset", None))


# ----------------------------------------------------------------------------- registry

FAMILIES = {
    "svg": ModelFamily(build=_build_svg, compile=_compile_svg, check_data=_check_svg_data),
    "drnet": ModelFamily(build=_build_drnet, compile=_compile_drnet,
                         check_data=_check_drnet_data, training_data=_drnet_training_data),
}
MODEL_FAMILIES = tuple(FAMILIES)


def get_family(name):
  """The `ModelFamily` registered as `name` (`config.model.name`)."""
  if name not in FAMILIES:
    raise ValueError(f"Unknown model family {name!r}; valid: {', '.join(MODEL_FAMILIES)}.")
  return FAMILIES[name]


def build_model(model_config):
  """Builds the model named by `model_config.name` from the rest of its fields."""
  fields = dict(model_config)
  return get_family(fields.pop("name")).build(**fields)
