"""The registry of pipeline shapes: which training stages a model's pipeline has.

Every pipeline has TFX's components in TFX's order (ExampleGen, StatisticsGen, SchemaGen,
ExampleValidator, Trainer, Evaluator, InfraValidator, Pusher). What differs between models
is the training part and how a trained model is scored, and that is all a shape says:

- `stages`: the Trainer stages, in order. Each `TrainingStage` trains one tfgen config
  (`config_model`, on the pipeline's data set) through tfgen's one trainer and becomes one
  Trainer component named `Trainer` (single stage) or `Trainer-<stage name>`. A stage with
  `after` receives the previous stage's trained work directory as an input artifact and as
  the config field named by `upstream_field` (e.g. DrNET's pose LSTM reads the frozen
  DrNET encoders from `config.model.drnet_workdir`). A stage with `parallel_over` names a
  config field holding a list (e.g. LAPGAN's `model.levels`): the pipeline trains one copy
  per item inside `dsl.ParallelFor`, each with `config.<parallel_field>` set to the item,
  and the next component takes the collected work directories.
- `evaluation`: the module (`pipelines.evaluation_<...>`-style, any importable path) with
  `evaluate(workdirs, test_data_dir, options) -> {"metrics": {name: value}, ...}` and
  `HIGHER_IS_BETTER` (`{metric: bool}`): the Evaluator's scores.
- `thresholds`: default blessing thresholds `{metric: bound}` (a lower bound when higher
  is better, an upper one otherwise), overridable by `--threshold=metric:value`.
- `export_stage`: the stage whose model is exported, validated and pushed (the last one by
  default).
- `evaluation_options` / `quick_evaluation_options`: the evaluation's options (merged over
  the command's: `num_samples`, `num_test_sequences`, `seed`), the latter with `--quick`;
  e.g. LAPGAN's Parzen sizes. `--num_eval_samples` still sets `num_samples`.

Adding a model: register its shape below, next to the existing ones. DrNET's pose LSTM
(`drnet_lstm`) is a two-stage shape (`after`); LAPGAN's levels are a parallel stage
followed by an assembling stage:

- A stage with `parallel_over` (a config field, e.g. `lapgan.level`) and `parallel_items`
  (`"module:function"`, called on the stage's resolved config, returning the items, e.g.
  LAPGAN's levels) becomes one Trainer per item inside `dsl.ParallelFor` (kfp.local runs
  them one after another), each trained with `config.<parallel_over>=<item>` and each its
  own artifact (its own fingerprint). Its artifact is not exported.
- The stage `after` a parallel one (no `upstream_field`) takes the collected artifacts
  (`dsl.Collected`): their work directories are merged into its own (LAPGAN's
  `W/level_K/` layout) before it trains, which for LAPGAN trains nothing more and
  assembles `W/checkpoints/` (`tfgen.models.lapgan.training`).
"""

import dataclasses
from typing import Dict, Optional, Tuple


@dataclasses.dataclass(frozen=True)
class TrainingStage:
  """One Trainer stage (module docstring).

  Attributes:
    name: the stage's name (the component is `Trainer-<name>` when there are several).
    config_model: the config's model name, `configs/<config_model>_<dataset>.py`.
    after: the name of the stage whose trained work directory this one takes, or None.
    upstream_field: the config field set to that work directory (with `after`).
    parallel_over: a config field set to each item of `parallel_items`, one training per
      item, in parallel (module docstring).
    parallel_items: `"module:function"` returning the items from the stage's config.
  """
  name: str
  config_model: str
  after: Optional[str] = None
  upstream_field: Optional[str] = None
  parallel_over: Optional[str] = None
  parallel_items: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class PipelineShape:
  """A model's pipeline (module docstring)."""
  model: str
  stages: Tuple[TrainingStage, ...]
  evaluation: str
  thresholds: Dict[str, float]
  export_stage: Optional[str] = None
  evaluation_options: Dict = dataclasses.field(default_factory=dict)
  quick_evaluation_options: Dict = dataclasses.field(default_factory=dict)

  @property
  def exported_stage(self):
    return self.export_stage or self.stages[-1].name

  def component_name(self, stage):
    return "Trainer" if len(self.stages) == 1 else f"Trainer-{stage.name}"


_SHAPES: Dict[str, PipelineShape] = {}


def register(shape):
  """Registers `shape` under `shape.model`; a model registered twice raises `ValueError`."""
  if shape.model in _SHAPES:
    raise ValueError(f"Pipeline shape {shape.model!r} is registered twice.")
  names = [stage.name for stage in shape.stages]
  for stage in shape.stages:
    if stage.after is not None and stage.after not in names[:names.index(stage.name)]:
      raise ValueError(f"Stage {stage.name!r} of {shape.model!r} comes after {stage.after!r}, "
                       f"which is not an earlier stage ({names}).")
    by_name = dict(zip(names, shape.stages))
    after_parallel = stage.after is not None and by_name[stage.after].parallel_over is not None
    if after_parallel and stage.upstream_field is not None:
      raise ValueError(f"Stage {stage.name!r} of {shape.model!r} comes after the parallel "
                       f"stage {stage.after!r}: it takes the collected work directories, "
                       "not an `upstream_field`.")
    if not after_parallel and (stage.after is None) != (stage.upstream_field is None):
      raise ValueError(f"Stage {stage.name!r} of {shape.model!r}: give both `after` and "
                       "`upstream_field`, or neither.")
    if (stage.parallel_over is None) != (stage.parallel_items is None):
      raise ValueError(f"Stage {stage.name!r} of {shape.model!r}: give both `parallel_over` "
                       "and `parallel_items` (\"module:function\"), or neither.")
    if stage.parallel_over is not None and stage.name == shape.exported_stage:
      raise ValueError(f"Stage {stage.name!r} of {shape.model!r} trains in parallel over "
                       f"{stage.parallel_over!r}: it cannot be the exported stage; add a "
                       "stage after it that takes the collected work directories.")
  _SHAPES[shape.model] = shape
  return shape


def parallel_items(stage, config):
  """The items of a parallel `stage` (`parallel_items` called on its resolved config)."""
  import importlib  # pylint: disable=g-import-not-at-top
  module, _, function = stage.parallel_items.partition(":")
  items = list(getattr(importlib.import_module(module), function)(config))
  if not items:
    raise ValueError(f"Stage {stage.name!r} has no item to train over "
                     f"({stage.parallel_items} returned none).")
  return items


def models():
  """The models that have a pipeline, sorted."""
  return sorted(_SHAPES)


def get(model):
  """The shape of `model`; an unknown model raises `ValueError` listing the valid ones."""
  if model not in _SHAPES:
    raise ValueError(f"Unknown model {model!r} for the pipeline; valid models: "
                     f"{', '.join(models())}.")
  return _SHAPES[model]


# SVG: one stage; best-of-N SSIM / PSNR (tfgen.evaluation.evaluate). The default thresholds
# only reject a model that has not learned anything (a frame of uniform grey scores SSIM
# ~0.1 on SM-MNIST); real deployments set their own (`--threshold`).
for _model in ("svg_lp", "svg_fp", "svg_det"):
  register(PipelineShape(
      model=_model, stages=(TrainingStage("svg", config_model=_model),),
      evaluation="pipelines.evaluation", thresholds={"ssim": 0.0, "psnr": 0.0}))

# DrNET's first stage alone (the content / pose networks); the Evaluator scores the
# test-set reconstruction error of its `test_step`.
register(PipelineShape(
    model="drnet", stages=(TrainingStage("drnet", config_model="drnet"),),
    evaluation="pipelines.evaluation", thresholds={"reconstruction_loss": 1.0}))

# DrNET, then its pose LSTM on the frozen DrNET (`--config.drnet_workdir` = the first
# stage's work directory); the LSTM is exported and scored by tfgen's best-of-N evaluation
# (SSIM / PSNR over the predicted frames, as SVG).
register(PipelineShape(
    model="drnet_lstm",
    stages=(TrainingStage("drnet", config_model="drnet"),
            TrainingStage("pose_lstm", config_model="drnet_lstm", after="drnet",
                          upstream_field="drnet_workdir")),
    evaluation="pipelines.evaluation", thresholds={"ssim": 0.0, "psnr": 0.0}))

# LAPGAN: one Trainer per pyramid level in parallel (`--config.lapgan.level=K`), then the
# assembling Trainer (every level's `W/level_K/` merged into one work directory, the plain
# run assembles `W/checkpoints/`), scored by tfgen's LAPGAN evaluation
# (`pipelines.evaluation_lapgan`): blessed on the single-scale Parzen log-likelihood of the
# test images (nats per image, higher is better). The default threshold rejects only a
# broken model; real deployments set theirs (`--threshold=parzen_log_likelihood:V`).
register(PipelineShape(
    model="lapgan",
    stages=(TrainingStage("levels", config_model="lapgan", parallel_over="lapgan.level",
                          parallel_items="tfgen.models.lapgan.training:selected_levels"),
            TrainingStage("assemble", config_model="lapgan", after="levels")),
    evaluation="pipelines.evaluation_lapgan",
    thresholds={"parzen_log_likelihood": -1e9},
    # The evaluation's own sizes (10,000 Parzen centres, ...) unless --quick: then tiny
    # ones that check the chain, not the model (the 32 test and validation images of
    # --quick's ExampleGen).
    evaluation_options={"num_samples": None},
    quick_evaluation_options={
        "num_samples": 200, "lapgan": {
            "batch_size": 50, "sigma_grid": [0.1, 0.2, 0.5, 1.0], "multiscale_num_images": 4,
            "num_noise_samples": 4, "num_train_images": 64, "num_nn_samples": 4,
            "num_neighbours": 3}}))
