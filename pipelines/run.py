r"""Runs tfgen's TFX-style pipeline on this machine, or compiles it for Kubeflow / Vertex.

  python -m pipelines.run --model=svg_lp --dataset=smmnist --pipeline_root=R [--quick]
  python -m pipelines.run --model=svg_lp --dataset=kth --raw_dir=KTH_RAW --pipeline_root=R
  python -m pipelines.run --model=svg_lp --dataset=smmnist --pipeline_root=/gcs/B/R \
      --compile=pipeline.yaml --image=IMAGE

ExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Trainer -> Evaluator,
InfraValidator -> Pusher, run locally by `kfp.local` (SubprocessRunner, no Docker). A rerun
reuses every component whose inputs, parameters and code are unchanged, and a run killed
during training continues from its last checkpoint. The summary says what ran, what was
reused and what was pushed where (`ROOT/serving/<model_name>/<version>` by default).
Any config field: `--config.<field>=<value>` (as `tfgen.bin.train`).
"""

import json
import os
import sys
import time
import uuid

from absl import app
from absl import flags
from absl import logging

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("model", None, "Model: svg_lp, svg_fp, svg_det, drnet, drnet_lstm, lapgan.")
flags.DEFINE_string("dataset", None, "Data set, e.g. smmnist, kth, bair, mnist.")
flags.DEFINE_string("pipeline_root", None, "Where every artifact of the pipeline lives.")
flags.DEFINE_bool("quick", False, "The config's quick variant, a small test set and N=5.")
flags.DEFINE_string("variant", None, "A named config variant (see the config file).")
flags.DEFINE_integer("steps", None, "Training steps (config.train.steps).")
flags.DEFINE_integer("batch_size", None, "Global batch size (config.train.batch_size).")
flags.DEFINE_string("raw_dir", None, "KTH / BAIR: the original distribution (see "
                    "tfgen.bin.prepare).")
flags.DEFINE_string("data_dir", None, "SM-MNIST / Moving MNIST: mnist.npz (default: the "
                    "shipped subset).")
flags.DEFINE_integer("image_size", 64, "KTH frame size, 64 or 128.")
flags.DEFINE_integer("num_shards", None, "ExampleGen shards per split (default 16 KTH, 64 "
                     "BAIR, 4 for a generated test split).")
flags.DEFINE_multi_string("beam_pipeline_args", None,
                          "Beam pipeline options of ExampleGen, e.g. --beam_pipeline_args="
                          "--runner=DataflowRunner (repeat the flag); default: the local "
                          "DirectRunner in multi-processing mode.")
flags.DEFINE_integer("num_test_sequences", None, "Test clips, or for image sets test and "
                     "validation images (default: the data set's; 32 with --quick).")
flags.DEFINE_integer("num_eval_samples", None, "Evaluator: futures per test clip, N "
                     "(default 100; 5 with --quick); for LAPGAN the Parzen centres "
                     "(default 10,000; 200 with --quick).")
flags.DEFINE_multi_string("threshold", None, "Evaluator: metric:value blessing thresholds "
                          "(a lower bound when higher is better), e.g. ssim:0.6.")
flags.DEFINE_float("margin", 0.0, "Evaluator: how much worse than the pushed model a "
                   "candidate may be and still be blessed.")
flags.DEFINE_string("serving_dir", None, "Pusher's TF Serving base directory (default "
                    "PIPELINE_ROOT/serving).")
flags.DEFINE_string("compile", None, "Write the pipeline as KFP IR YAML here instead of "
                    "running it.")
flags.DEFINE_string("image", None, "Container image of the components (with --compile).")
FLAGS = flags.FLAGS

IDENTITY_FILE = "pipeline.json"


def check_root(root, identity):
  """Creates / checks the pipeline root: writable, and not another pipeline's."""
  try:
    os.makedirs(root, exist_ok=True)
    probe = os.path.join(root, f".write-test-{uuid.uuid4().hex}")
    with open(probe, "w", encoding="utf-8") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise ValueError(f"--pipeline_root={root} is not a writable directory ({e.strerror}): "
                     "choose a directory you can write to.") from None
  path = os.path.join(root, IDENTITY_FILE)
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      existing = json.load(f)
    if existing.get("pipeline") != identity["pipeline"]:
      raise ValueError(
          f"--pipeline_root={root} holds the runs of another pipeline "
          f"({existing.get('pipeline')!r}; this is {identity['pipeline']!r}): runs are not "
          "mixed. Choose another --pipeline_root.")
    return
  leftovers = [n for n in os.listdir(root) if not n.startswith(".")]
  if leftovers:
    raise ValueError(f"--pipeline_root={root} is not empty and holds no {IDENTITY_FILE} "
                     f"(found {', '.join(sorted(leftovers)[:5])}): it is not a tfgen "
                     "pipeline root. Choose an empty or new directory.")
  from pipelines import artifacts  # pylint: disable=g-import-not-at-top
  artifacts.write_json_atomic(path, identity)


def pipeline_arguments(model, dataset, root, *, quick=False, variant=None, steps=None,
                       batch_size=None, raw_dir=None, data_dir=None, image_size=64,
                       num_shards=None, beam_args=None, num_test_sequences=None,
                       num_eval_samples=None, thresholds=None, margin=0.0, serving_dir=None,
                       overrides=(), run_id=None, code_version=None):
  """Validates the user's choices; returns `(shape, pipeline arguments)`.

  Raises:
    ValueError: unknown model or dataset (listing the valid ones), bad threshold.
    FileNotFoundError: missing raw data (saying how to get it).
  """
  from pipelines import artifacts  # pylint: disable=g-import-not-at-top
  from pipelines import components  # pylint: disable=g-import-not-at-top
  from pipelines import example_gen  # pylint: disable=g-import-not-at-top
  from pipelines import shapes  # pylint: disable=g-import-not-at-top
  shape = shapes.get(model)
  if quick and variant not in (None, "quick"):
    raise ValueError(f"--quick and --variant={variant} contradict each other; pass one.")
  variant = "quick" if quick else (variant or "")
  # Unknown data set or a model without a config for it: the message lists the valid ones.
  config = components.resolve_config(shape.stages[0].config_model, dataset, variant,
                                     overrides, steps or 0, batch_size or 0, data_dir or "")
  example_gen.check_raw_data(dataset, raw_dir)
  parsed_thresholds = {}
  for text in thresholds or ():
    name, _, value = text.partition(":")
    try:
      parsed_thresholds[name] = float(value)
    except ValueError:
      raise ValueError(f"Bad --threshold={text!r}: expected metric:value, e.g. ssim:0.6; "
                       f"metrics of {model}: {', '.join(shape.thresholds)}.") from None
  if num_test_sequences is None and quick:
    num_test_sequences = 32
  explicit_num_samples = num_eval_samples
  if num_eval_samples is None:
    num_eval_samples = 5 if quick else 100
  test_num_frames = config.data.get("num_frames", 1)  # image sets (LAPGAN): one frame
  exported = next(s for s in shape.stages if s.name == shape.exported_stage)
  if exported.config_model != shape.stages[0].config_model:
    config = components.resolve_config(exported.config_model, dataset, variant, overrides,
                                       steps or 0, batch_size or 0, data_dir or "")
  if config.model.name in ("svg", "drnet_lstm"):
    from tfgen.evaluation import evaluate  # pylint: disable=g-import-not-at-top
    future = evaluate.DEFAULT_FUTURE_FRAMES.get(dataset, 2 * config.model.num_future_frames)
    test_num_frames = max(test_num_frames, config.model.num_context_frames + future)
  eval_options = {"num_samples": num_eval_samples, "num_test_sequences": num_test_sequences,
                  "seed": 0}
  eval_options.update(shape.evaluation_options)
  if quick:
    eval_options.update(shape.quick_evaluation_options)
  if explicit_num_samples is not None:
    eval_options["num_samples"] = explicit_num_samples
  root = os.path.abspath(root)
  arguments = dict(
      pipeline_root=root, dataset=dataset, model_name=config.get("model_name", model),
      run_id=run_id or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6],
      code_version=code_version or artifacts.code_version(), variant=variant,
      overrides=json.dumps(list(overrides)), steps=steps or 0, batch_size=batch_size or 0,
      raw_dir=os.path.abspath(raw_dir) if raw_dir else "",
      data_dir=os.path.abspath(data_dir) if data_dir else "", test_num_frames=test_num_frames,
      num_test_sequences=num_test_sequences or 0, num_shards=num_shards or 0,
      beam_args=json.dumps(list(beam_args or [])), image_size=image_size,
      thresholds=json.dumps(parsed_thresholds), margin=float(margin),
      eval_options=json.dumps(eval_options),
      serving_dir=os.path.abspath(serving_dir or os.path.join(root, "serving")))
  return shape, arguments


def stage_items(shape, arguments):
  """`{stage name: items}` of the shape's parallel stages, from the run's config (e.g.
  LAPGAN's levels, or the one level of `--config.lapgan.level=K`)."""
  from pipelines import components  # pylint: disable=g-import-not-at-top
  from pipelines import shapes  # pylint: disable=g-import-not-at-top
  items = {}
  for stage in shape.stages:
    if stage.parallel_over is not None:
      config = components.resolve_config(
          stage.config_model, arguments["dataset"], arguments["variant"],
          json.loads(arguments["overrides"]), arguments["steps"], arguments["batch_size"],
          arguments["data_dir"])
      items[stage.name] = shapes.parallel_items(stage, config)
  return items


def fix_kfp_local_parallel_for():
  """Works around kfp.local 2.17 handing a `dsl.ParallelFor` body the loop item in place
  of every other task output it takes (ExampleGen's and ExampleValidator's outputs
  arrived in LAPGAN's per-level Trainers as "2", "1", "0").

  `kfp.local.orchestrator.task_spec_utils.create_parameter_loop_iteration_task_spec`
  replaces each `task_output_parameter` input of the loop task with the item, where only
  the loop's items source (`ParallelFor(task.output)`) should be. Wrapped here: the other
  task-output inputs are kept as they are. The compiled YAML is unaffected (KFP's backend
  resolves them), and running twice patches once.
  """
  from kfp.local.orchestrator import task_spec_utils  # pylint: disable=g-import-not-at-top
  from kfp.pipeline_spec import pipeline_spec_pb2  # pylint: disable=g-import-not-at-top
  original = task_spec_utils.create_parameter_loop_iteration_task_spec
  if getattr(original, "tfgen_fixed", False):
    return

  def create(original_task_spec, loop_item, loop_task_name):
    spec = pipeline_spec_pb2.PipelineTaskSpec()
    spec.CopyFrom(original_task_spec)
    source = ""
    if spec.WhichOneof("iterator") == "parameter_iterator":
      source = spec.parameter_iterator.items.input_parameter
    kept = {}
    for name, input_spec in spec.inputs.parameters.items():
      if input_spec.HasField("task_output_parameter") and name != source:
        kept[name] = pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec()
        kept[name].CopyFrom(input_spec)
    for name in kept:
      del spec.inputs.parameters[name]
    result = original(spec, loop_item, loop_task_name)
    for name, input_spec in kept.items():
      result.inputs.parameters[name].CopyFrom(input_spec)
    return result

  create.tfgen_fixed = True
  task_spec_utils.create_parameter_loop_iteration_task_spec = create


def run_locally(shape, arguments):
  """Runs the pipeline with kfp.local; returns `(ok, summary lines)`."""
  from kfp import local  # pylint: disable=g-import-not-at-top
  from pipelines import artifacts  # pylint: disable=g-import-not-at-top
  from pipelines import kfp_pipeline  # pylint: disable=g-import-not-at-top
  fix_kfp_local_parallel_for()
  root = arguments["pipeline_root"]
  check_root(root, {"pipeline": f"tfgen-{shape.model}-{arguments['dataset']}",
                    "model": shape.model, "dataset": arguments["dataset"]})
  local.init(runner=local.SubprocessRunner(use_venv=False),
             pipeline_root=os.path.join(root, "kfp"), raise_on_error=False)
  pipeline = kfp_pipeline.build(shape, items=stage_items(shape, arguments))
  started = time.time()
  pipeline(**arguments)
  events = artifacts.read_events(root, arguments["run_id"])
  return summarize(events, time.time() - started, arguments)


def summarize(events, seconds, arguments):
  """`(ok, lines)`: one line per component (ran / reused / failed) and what was pushed."""
  lines = [f"Run {arguments['run_id']} in {seconds:.1f} s "
           f"(pipeline root {arguments['pipeline_root']}):"]
  ok = True
  for event in events:
    status = event["status"]
    line = f"  {event['component']:<17} {status:<7} {event['seconds']:7.1f} s  {event['path']}"
    if status == "failed":
      ok = False
      line += f"\n      {event['error']}"
    lines.append(line)
  failed_all = [e for e in events if e["status"] == "failed"]
  if not events or (not failed_all and events[-1]["component"] != "Pusher"):
    ok = False
    lines.append("  The pipeline stopped before Pusher (see the log above).")
  push = next((e for e in events if e["component"] == "Pusher" and e["status"] != "failed"),
              None)
  if push:
    details = push["details"]
    if details.get("pushed"):
      lines.append(f"Pushed version {details['version']} to {details['path']}.")
    else:
      lines.append(f"Nothing pushed: {details.get('reason')}.")
  return ok, lines


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  with tfgen_flags.user_errors():
    if not FLAGS.model or not FLAGS.dataset or not FLAGS.pipeline_root:
      from pipelines import shapes  # pylint: disable=g-import-not-at-top
      raise ValueError(f"--model, --dataset and --pipeline_root are required; models: "
                       f"{', '.join(shapes.models())}.")
    shape, arguments = pipeline_arguments(
        FLAGS.model, FLAGS.dataset, FLAGS.pipeline_root, quick=FLAGS.quick,
        variant=FLAGS.variant, steps=FLAGS.steps, batch_size=FLAGS.batch_size,
        raw_dir=FLAGS.raw_dir, data_dir=FLAGS.data_dir, image_size=FLAGS.image_size,
        num_shards=FLAGS.num_shards, beam_args=FLAGS.beam_pipeline_args,
        num_test_sequences=FLAGS.num_test_sequences, num_eval_samples=FLAGS.num_eval_samples,
        thresholds=FLAGS.threshold, margin=FLAGS.margin, serving_dir=FLAGS.serving_dir,
        overrides=tfgen_flags.config_overrides())
    if FLAGS.compile:
      from kfp import compiler  # pylint: disable=g-import-not-at-top
      from pipelines import kfp_pipeline  # pylint: disable=g-import-not-at-top
      arguments.pop("run_id")  # each submission gets its own (KFP's run id is another)
      compiler.Compiler().compile(
          kfp_pipeline.build(shape, FLAGS.image or kfp_pipeline.DEFAULT_IMAGE,
                             stage_items(shape, arguments)), FLAGS.compile,
          pipeline_parameters=arguments)
      print(f"Wrote {FLAGS.compile} (pipeline tfgen-{shape.model}, image "
            f"{FLAGS.image or kfp_pipeline.DEFAULT_IMAGE}).")
      return
    ok, lines = run_locally(shape, arguments)
  print("\n".join(lines), flush=True)
  logging.info("Summary:\n%s", "\n".join(lines))
  if not ok:
    sys.exit(1)


if __name__ == "__main__":
  app.run(main, flags_parser=tfgen_flags.parse_flags_with_overrides)
