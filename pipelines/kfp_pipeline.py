"""The pipeline as Kubeflow Pipelines v2 components, built from a model's shape.

`build(shape, image)` returns a `@dsl.pipeline` function: ExampleGen -> StatisticsGen ->
SchemaGen -> ExampleValidator -> Trainer stage(s) -> Evaluator, InfraValidator -> Pusher.
The same function runs locally (`kfp.local`, SubprocessRunner, `pipelines.run`) and
compiles to KFP IR YAML for Kubeflow Pipelines or Vertex AI Pipelines (`--compile`).

Components are lightweight Python components: each imports `pipelines.components` (the
library functions that do the work, cache by fingerprint and record lineage) and
passes artifact paths under the pipeline root as string parameters. On a cluster the root
must be storage every step sees at the same path (a mounted volume, or Vertex's `/gcs/`
bucket mount) and the container image must have tfgen installed (`--image`).
"""

from kfp import dsl

from pipelines import shapes

DEFAULT_IMAGE = "tfgen:latest"


def example_gen(pipeline_root: str, run_id: str, code_version: str, config_model: str,
                dataset: str, variant: str, overrides: str, raw_dir: str, data_dir: str,
                test_num_frames: int, num_test_sequences: int, num_shards: int, beam_args: str,
                image_size: int) -> str:
  """ExampleGen: the data as sharded TFRecords (Beam for KTH and BAIR)."""
  import json  # pylint: disable=g-import-not-at-top,redefined-outer-name,reimported
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.example_gen(
      pipeline_root, run_id, config_model=config_model, dataset=dataset, variant=variant,
      overrides=json.loads(overrides), raw_dir=raw_dir, data_dir=data_dir,
      test_num_frames=test_num_frames, num_test_sequences=num_test_sequences,
      num_shards=num_shards, beam_args=json.loads(beam_args), image_size=image_size,
      version=code_version)


def statistics_gen(pipeline_root: str, run_id: str, code_version: str, examples: str) -> str:
  """StatisticsGen: per split counts, shapes, value range, pixel mean/std, lengths, persons."""
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.statistics_gen(pipeline_root, run_id, examples, version=code_version)


def schema_gen(pipeline_root: str, run_id: str, code_version: str, statistics: str) -> str:
  """SchemaGen: the kept schema, inferred on the first run."""
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.schema_gen(pipeline_root, run_id, statistics, version=code_version)


def example_validator(pipeline_root: str, run_id: str, code_version: str, statistics: str,
                      schema: str) -> str:
  """ExampleValidator: stops the pipeline on any anomaly, naming each."""
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.example_validator(pipeline_root, run_id, statistics, schema,
                                      version=code_version)


def trainer(pipeline_root: str, run_id: str, code_version: str, stage: str, config_model: str,
            dataset: str, variant: str, overrides: str, steps: int, batch_size: int,
            data_dir: str, examples: str, validation: str, upstream: str,
            upstream_field: str, parallel_field: str, parallel_item: str,
            gathered: list) -> str:
  """Trainer: tfgen's trainer (strategy from the environment / TF_CONFIG); resumes."""
  import json  # pylint: disable=g-import-not-at-top,redefined-outer-name,reimported
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.trainer(
      pipeline_root, run_id, stage=stage, config_model=config_model, dataset=dataset,
      variant=variant, overrides=json.loads(overrides), steps=steps, batch_size=batch_size,
      data_dir=data_dir, examples=examples, validation=validation, upstream=upstream,
      upstream_field=upstream_field, parallel_field=parallel_field,
      parallel_item=parallel_item, gathered=list(gathered), version=code_version)


def evaluator(pipeline_root: str, run_id: str, code_version: str, model_name: str,
              shape_model: str, model: str, examples: str, thresholds: str, margin: float,
              eval_options: str, serving_dir: str) -> str:
  """Evaluator: the family's scores and a blessing against thresholds and the pushed model."""
  import json  # pylint: disable=g-import-not-at-top,redefined-outer-name,reimported
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.evaluator(
      pipeline_root, run_id, model_name=model_name, shape_model=shape_model, model=model,
      examples=examples, thresholds=json.loads(thresholds), margin=margin,
      eval_options=json.loads(eval_options), serving_dir=serving_dir, version=code_version)


def infra_validator(pipeline_root: str, run_id: str, code_version: str, model: str) -> str:
  """InfraValidator: loads the export in a TensorFlow-only process, replays its warm-up."""
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.infra_validator(pipeline_root, run_id, model, version=code_version)


def pusher(pipeline_root: str, run_id: str, code_version: str, model_name: str, model: str,
           blessing: str, infra_blessing: str, serving_dir: str) -> str:
  """Pusher: the next TF Serving version when blessed; nothing otherwise."""
  from pipelines import components  # pylint: disable=g-import-not-at-top
  return components.pusher(pipeline_root, run_id, model_name=model_name, model=model,
                           blessing=blessing, infra_blessing=infra_blessing,
                           serving_dir=serving_dir, version=code_version)


COMPONENT_FUNCTIONS = {
    "ExampleGen": example_gen, "StatisticsGen": statistics_gen, "SchemaGen": schema_gen,
    "ExampleValidator": example_validator, "Trainer": trainer, "Evaluator": evaluator,
    "InfraValidator": infra_validator, "Pusher": pusher,
}


def make_components(image):
  """`{TFX name: KFP component}` running in container `image` on a cluster.

  Without KFP's per-component `pip install kfp==...` (`install_kfp_package=False`): kfp is
  a dependency of tfgen, so `image` (tfgen installed) and a local environment already have
  it. With it, every component started by checking it with pip (about a second of CPU),
  and kfp.local serialises those checks under one lock, so the parallel LAPGAN levels
  waited for each other (`benchmarks/pipeline_overhead.py --component_overhead`).
  """
  return {name: dsl.component(func=fn, base_image=image, install_kfp_package=False)
          for name, fn in COMPONENT_FUNCTIONS.items()}


def build(shape, image=DEFAULT_IMAGE, items=None):
  """The `@dsl.pipeline` of `shape` (`pipelines.shapes.PipelineShape`).

  Args:
    shape: the model's pipeline shape.
    image: the container image of every component (KFP / Vertex).
    items: `{stage name: [item, ...]}` of each parallel stage (`pipelines.run.stage_items`
      computes them from the run's config; e.g. LAPGAN's levels `[2, 1, 0]`): the
      `dsl.ParallelFor` items, fixed when the pipeline is built.

  Raises:
    ValueError: a parallel stage without items.
  """
  ops = make_components(image)
  items = dict(items or {})
  for stage in shape.stages:
    if stage.parallel_over is not None and not items.get(stage.name):
      raise ValueError(f"Stage {stage.name!r} of {shape.model!r} trains in parallel over "
                       f"{stage.parallel_over!r}: pass its items (build(..., items={{"
                       f"{stage.name!r}: [...]}}), see pipelines.run.stage_items).")

  @dsl.pipeline(name=f"tfgen-{shape.model}".replace("_", "-"),
                description=f"tfgen's TFX-style pipeline for {shape.model}")
  def pipeline(pipeline_root: str, dataset: str, model_name: str, run_id: str = "",
               code_version: str = "", variant: str = "", overrides: str = "[]",
               steps: int = 0, batch_size: int = 0, raw_dir: str = "", data_dir: str = "",
               test_num_frames: int = 0, num_test_sequences: int = 0, num_shards: int = 0,
               beam_args: str = "[]", image_size: int = 64, thresholds: str = "{}",
               margin: float = 0.0, eval_options: str = "{}", serving_dir: str = ""):
    common = dict(pipeline_root=pipeline_root, run_id=run_id, code_version=code_version)
    first = shape.stages[0]
    examples = ops["ExampleGen"](
        config_model=first.config_model, dataset=dataset, variant=variant, overrides=overrides,
        raw_dir=raw_dir, data_dir=data_dir, test_num_frames=test_num_frames,
        num_test_sequences=num_test_sequences, num_shards=num_shards, beam_args=beam_args,
        image_size=image_size, **common).set_display_name("ExampleGen")
    stats = ops["StatisticsGen"](examples=examples.output, **common).set_display_name(
        "StatisticsGen")
    schema = ops["SchemaGen"](statistics=stats.output, **common).set_display_name("SchemaGen")
    validation = ops["ExampleValidator"](statistics=stats.output, schema=schema.output,
                                         **common).set_display_name("ExampleValidator")
    trained = {}
    parallel = {stage.name for stage in shape.stages if stage.parallel_over is not None}
    for stage in shape.stages:
      name = shape.component_name(stage)
      gathers = stage.after in parallel
      arguments = dict(
          stage=name, config_model=stage.config_model, dataset=dataset, variant=variant,
          steps=steps, batch_size=batch_size, data_dir=data_dir, examples=examples.output,
          validation=validation.output,
          upstream=trained[stage.after] if stage.after and not gathers else "",
          upstream_field=stage.upstream_field or "",
          gathered=trained[stage.after] if gathers else [], **common)
      if stage.name in parallel:
        # One Trainer per item (kfp.local runs them in sequence); the next stage gets the
        # list of their artifacts.
        with dsl.ParallelFor([str(item) for item in items[stage.name]]) as item:
          task = ops["Trainer"](overrides=overrides, parallel_field=stage.parallel_over,
                                parallel_item=item, **arguments).set_display_name(name)
        trained[stage.name] = dsl.Collected(task.output)
      else:
        task = ops["Trainer"](overrides=overrides, parallel_field="", parallel_item="",
                              **arguments).set_display_name(name)
        trained[stage.name] = task.output
    model = trained[shape.exported_stage]
    blessing = ops["Evaluator"](
        model_name=model_name, shape_model=shape.model, model=model, examples=examples.output,
        thresholds=thresholds, margin=margin, eval_options=eval_options,
        serving_dir=serving_dir, **common).set_display_name("Evaluator")
    infra = ops["InfraValidator"](model=model, **common).set_display_name("InfraValidator")
    ops["Pusher"](model_name=model_name, model=model, blessing=blessing.output,
                  infra_blessing=infra.output, serving_dir=serving_dir,
                  **common).set_display_name("Pusher")

  return pipeline

