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

Adding a model (e.g. when the DrNET pose LSTM lands as config `drnet_lstm`): register its
shape below, next to the existing ones:

  register(PipelineShape(
      model="drnet_lstm",
      stages=(TrainingStage("drnet", config_model="drnet"),
              TrainingStage("pose_lstm", config_model="drnet_lstm", after="drnet",
                            upstream_field="model.drnet_workdir")),
      evaluation="pipelines.evaluation", thresholds={...}))

and LAPGAN, whose levels train independently:

  register(PipelineShape(
      model="lapgan",
      stages=(TrainingStage("levels", config_model="lapgan", parallel_over="model.levels"),),
      evaluation=..., thresholds={...}))

Sequential stages (`after`) are built today (`tests/pipelines/kfp_pipeline_test.py`
compiles a two-stage shape). `parallel_over` is the declared extension point for LAPGAN:
`register` refuses it until `pipelines.kfp_pipeline.build` has its `dsl.ParallelFor`
branch (one Trainer task per item, `config.<parallel_over>` set to the item through the
Trainer's overrides, the tasks' outputs passed on with `dsl.Collected` to a stage or an
Evaluator that takes a list), which LAPGAN's helper adds with its shape.
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
    parallel_over: a config field holding a list; one training per item, in parallel.
  """
  name: str
  config_model: str
  after: Optional[str] = None
  upstream_field: Optional[str] = None
  parallel_over: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class PipelineShape:
  """A model's pipeline (module docstring)."""
  model: str
  stages: Tuple[TrainingStage, ...]
  evaluation: str
  thresholds: Dict[str, float]
  export_stage: Optional[str] = None

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
    if (stage.after is None) != (stage.upstream_field is None):
      raise ValueError(f"Stage {stage.name!r} of {shape.model!r}: give both `after` and "
                       "`upstream_field`, or neither.")
    if stage.parallel_over is not None:
      raise ValueError(
          f"Stage {stage.name!r} of {shape.model!r} trains in parallel over "
          f"{stage.parallel_over!r}: parallel stages are not built yet (LAPGAN brings the "
          "first; `pipelines.kfp_pipeline.build` then wraps the stage's Trainer in "
          "dsl.ParallelFor over the field's items and passes dsl.Collected outputs on).")
  _SHAPES[shape.model] = shape
  return shape


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

# DrNET's first stage (the content / pose networks). Its pose LSTM (config `drnet_lstm`,
# in progress) adds a second stage `after="drnet"` (module docstring); until tfgen has
# DrNET's own evaluation, the Evaluator scores the test-set reconstruction error of its
# `test_step`.
register(PipelineShape(
    model="drnet", stages=(TrainingStage("drnet", config_model="drnet"),),
    evaluation="pipelines.evaluation", thresholds={"reconstruction_loss": 1.0}))
