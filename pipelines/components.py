"""The pipeline's components as library functions (what each KFP component calls).

Each takes the pipeline root, its parameters and its input artifact paths, runs through
`pipelines.artifacts.execute` (fingerprint, reuse, atomic completion, lineage) and returns
its artifact's path. They are plain functions so that a test, a notebook or another
orchestrator can call them; `pipelines.kfp_pipeline` wraps each as a KFP component.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from pipelines import artifacts
from pipelines import shapes
from pipelines import statistics as statistics_lib

SERVING_LINEAGE = os.path.join("assets.extra", "tfgen_lineage.json")
REPORTS_DIR = "reports"


def resolve_config(config_model, dataset, variant="", overrides=(), steps=0, batch_size=0,
                   data_dir=""):
  """The config of `configs/<config_model>_<dataset>.py` with the pipeline's settings."""
  from tfgen.utils import config_loader  # pylint: disable=g-import-not-at-top
  config = config_loader.load(config_model, dataset, variant or None)
  config_loader.apply_overrides(config, list(overrides))
  if steps:
    config.train.steps = int(steps)
  if batch_size:
    config.train.batch_size = int(batch_size)
  if data_dir:
    config.data.data_dir = data_dir
  return config


# ----------------------------------------------------------------------------- ExampleGen


def example_gen(root, run_id, *, config_model, dataset, variant, overrides, raw_dir, data_dir,
                test_num_frames, num_test_sequences, num_shards, beam_args, image_size,
                version=None):
  """ExampleGen (`pipelines.example_gen`); returns the artifact (its data in `data/`)."""
  from pipelines import example_gen as example_gen_lib  # pylint: disable=g-import-not-at-top
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  example_gen_lib.check_raw_data(dataset, raw_dir)
  config = resolve_config(config_model, dataset, variant, overrides, data_dir=data_dir)
  if dataset in example_gen_lib.PREPARED:
    parameters = {"dataset": dataset, "raw_dir": os.path.abspath(raw_dir),
                  "raw_listing": artifacts.source_listing(raw_dir), "image_size": image_size,
                  "num_shards": num_shards}
  else:
    parameters = {"dataset": dataset, "data": config.data.to_dict(), "seed": config.train.seed,
                  "test_num_frames": test_num_frames,
                  "num_test_sequences": num_test_sequences}
    if config.data.get("data_dir") and os.path.exists(config.data.data_dir):
      # A changed source file is new input.
      parameters["data_files"] = artifacts.source_listing(config.data.data_dir)
  with artifacts.execute(root, "ExampleGen", parameters, {}, run_id, version) as run:
    if not run.reused:
      out = os.path.join(run.work_dir, "data")
      started = time.time()
      if dataset == "kth":
        summary = example_gen_lib.kth(raw_dir, out, image_size, num_shards or 16, beam_args)
      elif dataset == "bair":
        summary = example_gen_lib.bair(raw_dir, out, num_shards or 64, beam_args)
      elif registry.kind(config.data.name) == "image":
        summary = example_gen_lib.materialise_image_splits(config, out,
                                                           num_test_sequences or None)
      else:
        summary = example_gen_lib.materialise_test_split(config, out, test_num_frames,
                                                         num_test_sequences or None)
      run.details.update(
          seconds=time.time() - started,
          examples={s: v["examples"] for s, v in summary.items() if isinstance(v, dict) and
                    "examples" in v},
          skipped={s: len(v["skipped"]) for s, v in summary.items() if isinstance(v, dict) and
                   "skipped" in v})
      if "training_stream" in summary:
        run.details["training_stream"] = summary["training_stream"]
  return run.path


# --------------------------------------------------- StatisticsGen, SchemaGen, ExampleValidator


def statistics_gen(root, run_id, examples, version=None):
  with artifacts.execute(root, "StatisticsGen", {}, {"examples": examples}, run_id,
                         version) as run:
    if not run.reused:
      stats = statistics_lib.statistics(os.path.join(examples, "data"))
      artifacts.write_json_atomic(os.path.join(run.work_dir, "statistics.json"), stats)
      run.details["examples"] = {s: v["examples"] for s, v in stats["splits"].items()}
  return run.path


def schema_gen(root, run_id, statistics, version=None):
  """The kept schema (`ROOT/schema.json`), inferred from `statistics` on the first run."""
  artifacts.require_complete(statistics, "statistics")
  kept_path = os.path.join(root, statistics_lib.SCHEMA_FILE)
  schema = artifacts.read_json(kept_path)
  origin = "kept"
  if schema is None:
    # Inferred before fingerprinting, so the next run, which finds it kept, has the same
    # fingerprint and reuses this artifact.
    stats = artifacts.read_json(os.path.join(statistics, "statistics.json"))
    schema, origin = statistics_lib.infer_schema(stats), "inferred"
    if not any(s["corrupt_shards"] for s in stats["splits"].values()):
      artifacts.write_json_atomic(kept_path, schema)  # kept for later runs
  with artifacts.execute(root, "SchemaGen", {"schema": schema},
                         {"statistics": statistics}, run_id, version) as run:
    if not run.reused:
      run.details["schema"] = origin
      artifacts.write_json_atomic(os.path.join(run.work_dir, "schema.json"), schema)
  return run.path


class AnomaliesError(ValueError):
  """ExampleValidator found anomalies; the pipeline stops."""


def example_validator(root, run_id, statistics, schema, version=None):
  """Checks the statistics against the schema; raises `AnomaliesError` naming each anomaly."""
  with artifacts.execute(root, "ExampleValidator", {},
                         {"statistics": statistics, "schema": schema}, run_id, version) as run:
    if not run.reused:
      stats = artifacts.read_json(os.path.join(statistics, "statistics.json"))
      found = statistics_lib.anomalies(stats, artifacts.read_json(os.path.join(schema,
                                                                                "schema.json")))
      if found:
        report = os.path.join(root, REPORTS_DIR, f"anomalies-{run_id or uuid.uuid4().hex}.json")
        artifacts.write_json_atomic(report, {"anomalies": found, "statistics": statistics,
                                             "schema": schema})
        raise AnomaliesError(
            f"ExampleValidator found {len(found)} anomal{'y' if len(found) == 1 else 'ies'} "
            f"(report: {report}):\n" + "\n".join(f"  - {a}" for a in found) +
            f"\nFix the data (a corrupt ExampleGen output is regenerated by deleting its "
            f"directory under {os.path.join(root, artifacts.ARTIFACTS_DIR, 'ExampleGen')}), or "
            f"delete {os.path.join(root, statistics_lib.SCHEMA_FILE)} if the change is intended.")
      artifacts.write_json_atomic(os.path.join(run.work_dir, "anomalies.json"), {"anomalies": []})
  return run.path


# ------------------------------------------------------------------------------- Trainer


def strategy_from_environment():
  """MultiWorkerMirroredStrategy from `TF_CONFIG`, MirroredStrategy over several GPUs, or
  the default strategy (one device)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tfgen.train import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
  workers = sum(len(v) for k, v in tf_config.get("cluster", {}).items()
                if k in ("chief", "worker"))
  if workers > 1:
    return tf.distribute.MultiWorkerMirroredStrategy()
  return trainer_lib.default_strategy()


def _is_chief_task():
  tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
  task = tf_config.get("task", {})
  cluster = tf_config.get("cluster", {})
  if not task or not cluster:
    return True
  return task.get("type") == "chief" or (task.get("type") == "worker" and
                                         int(task.get("index", 0)) == 0 and "chief" not in cluster)


def trainer(root, run_id, *, stage, config_model, dataset, variant, overrides, steps,
            batch_size, data_dir, examples, validation, upstream="", upstream_field="",
            parallel_field="", parallel_item="", gathered=(), version=None):
  """Trains one stage with tfgen's trainer, resuming a killed run; exports the candidate.

  `stage` is the component's name (`Trainer`, or `Trainer-<stage>` in a multi-stage shape).
  `upstream` (with `upstream_field`): the previous stage's artifact, its work directory
  set as that config field. `parallel_field` / `parallel_item`: one item of a parallel
  stage (`config.<parallel_field>=<item>`, e.g. one LAPGAN level); not exported.
  `gathered`: the artifacts of a parallel stage, whose work directories are merged into
  this one's before training (`pipelines.shapes`).

  The artifact holds `workdir/` (the tfgen work directory) and, on the chief,
  `serving_model/<model_name>/1/` (the candidate export with its warm-up requests).
  """
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top
  examples_data = os.path.join(examples, "data")
  info = tfrecords.read_dataset_info(examples_data) or {}
  if "train" in info.get("num_shards", {}):
    data_dir = examples_data  # KTH / BAIR: train on ExampleGen's shards
  config = resolve_config(config_model, dataset, variant, overrides, steps, batch_size, data_dir)
  inputs = {"examples": examples, "validation": validation}
  if upstream:
    inputs["upstream"] = upstream
    overrides = list(overrides) + [f"{upstream_field}={os.path.join(upstream, 'workdir')}"]
    config = resolve_config(config_model, dataset, variant, overrides, steps, batch_size,
                            data_dir)
  if parallel_field:
    overrides = list(overrides) + [f"{parallel_field}={parallel_item}"]
    config = resolve_config(config_model, dataset, variant, overrides, steps, batch_size,
                            data_dir)
  gathered = list(gathered)
  for index, path in enumerate(gathered):
    inputs[f"gathered_{index}"] = path
  parameters = {"stage": stage, "config": config.to_dict()}
  # Resumable: the same fingerprint continues a killed run from its checkpoints.
  if not _is_chief_task():
    # A non-chief worker of a multi-worker run: it trains (its own throw-away work
    # directory, `tfgen.train.trainer`) and leaves the artifact to the chief.
    from tfgen.train import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
    trainer_lib.Trainer(config, os.path.join(root, artifacts.ARTIFACTS_DIR, stage, "worker"),
                        strategy_from_environment()).train()
    return ""
  with artifacts.execute(root, stage, parameters, inputs, run_id, version,
                         resumable=True) as run:
    if not run.reused:
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      from tfgen.export import exporter  # pylint: disable=g-import-not-at-top
      from tfgen.train import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
      workdir = os.path.join(run.work_dir, "workdir")
      latest = tf.train.latest_checkpoint(os.path.join(workdir, trainer_lib.CHECKPOINT_DIR))
      run.details["resumed_from_step"] = int(latest.rsplit("-", 1)[1]) if latest else 0
      strategy = strategy_from_environment()
      run.details["replicas"] = strategy.num_replicas_in_sync
      for path in gathered:
        merge_workdir(os.path.join(path, "workdir"), workdir)
      metrics = trainer_lib.train(config, workdir, strategy)
      run.details["final_metrics"] = _flat_metrics(metrics)
      run.details["steps"] = int(config.train.steps)
      if parallel_field:
        # One part of a model (e.g. a LAPGAN level): nothing to export.
        run.details["parallel"] = {parallel_field: parallel_item}
      else:
        candidate = os.path.join(run.work_dir, "serving_model")
        shutil.rmtree(candidate, ignore_errors=True)  # a half-done export of a killed run
        path = exporter.export_workdir(workdir, candidate, version=1)
        run.details["candidate"] = os.path.relpath(path, run.work_dir)
  return run.path


def _flat_metrics(metrics, prefix=""):
  """`{name: float}`; a family's nested results (LAPGAN's `{level: metrics}`) flattened."""
  flat = {}
  for key, value in (metrics or {}).items():
    if isinstance(value, dict):
      flat.update(_flat_metrics(value, f"{prefix}{key}/"))
    else:
      flat[f"{prefix}{key}"] = float(value)
  return flat


def merge_workdir(source, target):
  """Copies what `target` lacks of work directory `source` (a parallel stage's part).

  Entries `target` already has are kept (a resumed run's, or the top-level `config.json`
  every part writes alike); the family checks the parts when it uses them (LAPGAN's
  assembly refuses a level trained for another pyramid, naming the fields).
  """
  if not os.path.isdir(source):
    raise ValueError(f"{source} is not a work directory: the gathered Trainer artifact is "
                     "incomplete.")
  os.makedirs(target, exist_ok=True)
  for name in sorted(os.listdir(source)):
    src, dst = os.path.join(source, name), os.path.join(target, name)
    if os.path.exists(dst):
      continue
    staging = os.path.join(target, f".tmp-{name}-{uuid.uuid4().hex[:8]}")
    if os.path.isdir(src):
      shutil.copytree(src, staging)
    else:
      shutil.copy2(src, staging)
    os.rename(staging, dst)


def candidate_export(model):
  """The candidate SavedModel directory inside a Trainer artifact."""
  marker = artifacts.read_marker(model)
  return os.path.join(model, marker["details"]["candidate"])


# ----------------------------------------------------------------------------- Evaluator


def pushed_versions(serving_dir, model_name):
  """`[(version, path, lineage)]` of the versions pushed under `serving_dir/model_name`."""
  from tfgen.export import versions  # pylint: disable=g-import-not-at-top  (no TensorFlow)
  model_dir = os.path.join(serving_dir, model_name)
  found = []
  for version in versions.existing_versions(model_dir):
    path = os.path.join(model_dir, str(version))
    found.append((version, path, artifacts.read_json(os.path.join(path, SERVING_LINEAGE), {})))
  return found


def _baseline(serving_dir, model_name, candidate_fingerprint):
  """The currently pushed version other than the candidate itself, or None."""
  for version, path, lineage in reversed(pushed_versions(serving_dir, model_name)):
    if lineage.get("model_fingerprint") != candidate_fingerprint:
      return version, path, lineage
  return None


def evaluator(root, run_id, *, model_name, shape_model, model, examples, thresholds,
              margin, eval_options, serving_dir, version=None):
  """Scores the candidate and writes a blessing (`blessing.json`).

  Blessed when every threshold holds and no thresholded metric is worse (beyond `margin`)
  than the currently pushed model's on the same test set; the baseline's numbers are in
  the blessing. The baseline's recorded numbers are used when they were computed on this
  ExampleGen artifact with these options; otherwise its work directory is re-evaluated.
  """
  shape = shapes.get(shape_model)
  import importlib  # pylint: disable=g-import-not-at-top
  evaluation = importlib.import_module(shape.evaluation)
  thresholds = dict(shape.thresholds, **thresholds)
  model_fp = artifacts.require_complete(model, "model")["fingerprint"]
  examples_fp = artifacts.require_complete(examples, "examples")["fingerprint"]
  baseline = _baseline(serving_dir, model_name, model_fp)
  parameters = {"thresholds": thresholds, "margin": margin, "options": eval_options,
                "baseline": None if baseline is None else
                {"version": baseline[0], "model_fingerprint": baseline[2].get("model_fingerprint")}}
  with artifacts.execute(root, "Evaluator", parameters, {"model": model, "examples": examples},
                         run_id, version) as run:
    if not run.reused:
      test_data = os.path.join(examples, "data")
      options = dict(eval_options, output_dir=os.path.join(run.work_dir, "evaluation"))
      result = evaluation.evaluate(os.path.join(model, "workdir"), test_data, options)
      metrics = result["metrics"]
      spec = {"examples_fingerprint": examples_fp, "options": eval_options}
      reasons, baseline_record = [], None
      for name, bound in sorted(thresholds.items()):
        if name not in metrics:
          raise ValueError(f"Threshold on {name!r}, which the evaluation does not compute; "
                           f"it computes: {', '.join(sorted(metrics))}.")
        higher = evaluation.HIGHER_IS_BETTER.get(name, True)
        if (metrics[name] < bound) if higher else (metrics[name] > bound):
          reasons.append(f"{name} {metrics[name]:.4g} is {'below' if higher else 'above'} the "
                         f"threshold {bound:.4g}")
      if baseline is not None:
        version_number, path, lineage = baseline
        recorded = lineage.get("evaluation", {})
        if recorded.get("spec") == spec:
          base_metrics, source = recorded["metrics"], "recorded at push (same test set and options)"
        else:
          workdir = lineage.get("workdir")
          if not workdir or not os.path.isdir(workdir):
            raise ValueError(f"The pushed version {path} was evaluated on another test set or "
                             f"with other options, and its work directory ({workdir}) is gone: "
                             "it cannot be compared. Push elsewhere (--serving_dir) or remove it.")
          base_metrics = evaluation.evaluate(workdir, test_data, dict(eval_options))["metrics"]
          source = f"re-evaluated from {workdir} on this test set"
        baseline_record = {"version": version_number, "path": path, "metrics": base_metrics,
                           "source": source}
        for name in sorted(thresholds):
          higher = evaluation.HIGHER_IS_BETTER.get(name, True)
          worse = (metrics[name] < base_metrics[name] - margin) if higher else (
              metrics[name] > base_metrics[name] + margin)
          if worse:
            reasons.append(f"{name} {metrics[name]:.4g} is worse than the pushed version "
                           f"{version_number}'s {base_metrics[name]:.4g}")
      blessing = {"blessed": not reasons, "reasons": reasons, "metrics": metrics,
                  "thresholds": thresholds, "higher_is_better": {
                      k: evaluation.HIGHER_IS_BETTER.get(k, True) for k in thresholds},
                  "margin": margin, "baseline": baseline_record, "spec": spec,
                  "details": result["details"]}
      artifacts.write_json_atomic(os.path.join(run.work_dir, "blessing.json"), blessing)
      run.details.update(blessed=blessing["blessed"], reasons=reasons, metrics=metrics,
                         baseline=baseline_record)
  return run.path


# ------------------------------------------------------------------------ InfraValidator

# Runs in a fresh interpreter that refuses to import tfgen and TensorFlow Probability:
# only TensorFlow (and TF Serving's request protos) load the export, as TF Serving would.
_INFRA_SCRIPT = r"""
import json, sys, time
class _Refuse:
  def find_spec(self, name, path=None, target=None):
    if name.split(".")[0] in ("tfgen", "tensorflow_probability", "pipelines"):
      raise ImportError(f"{name} is not available in the serving process")
    return None
sys.meta_path.insert(0, _Refuse())
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2
path = sys.argv[1]
started = time.time()
loaded = tf.saved_model.load(path)
report = {"load_seconds": time.time() - started, "signatures": sorted(loaded.signatures),
          "requests": []}
for record in tf.data.TFRecordDataset(path + "/assets.extra/tf_serving_warmup_requests"):
  request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
  inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
  started = time.time()
  outputs = loaded.signatures[request.model_spec.signature_name](**inputs)
  for name, value in outputs.items():
    if not bool(tf.reduce_all(tf.math.is_finite(tf.cast(value, tf.float32)))):
      raise ValueError(f"{request.model_spec.signature_name}: output {name} is not finite")
  report["requests"].append({"signature": request.model_spec.signature_name,
                             "outputs": {k: list(v.shape) for k, v in outputs.items()},
                             "seconds": time.time() - started})
if not report["requests"]:
  raise ValueError("the export has no warm-up request")
report["modules"] = sorted({m.split(".")[0] for m in sys.modules})
print("INFRA_REPORT " + json.dumps(report))
"""


def infra_validator(root, run_id, model, timeout=600, version=None):
  """Loads the candidate in a TensorFlow-only process and replays its warm-up requests."""
  with artifacts.execute(root, "InfraValidator", {"timeout": timeout}, {"model": model}, run_id,
                         version) as run:
    if not run.reused:
      export = candidate_export(model)
      env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
      env.pop("PYTHONPATH", None)
      with tempfile.TemporaryDirectory() as cwd:  # not the source tree
        try:
          result = subprocess.run([sys.executable, "-c", _INFRA_SCRIPT, export], cwd=cwd,
                                  env=env, capture_output=True, text=True, timeout=timeout,
                                  check=False)
          output, code = result.stdout + result.stderr, result.returncode
        except subprocess.TimeoutExpired:
          output, code = f"timed out after {timeout} s", -1
      report = {"blessed": False, "export": export}
      lines = [l for l in output.splitlines() if l.startswith("INFRA_REPORT ")]
      if code == 0 and lines:
        report.update(json.loads(lines[-1][len("INFRA_REPORT "):]), blessed=True)
      else:
        report["error"] = "\n".join(output.strip().splitlines()[-5:])
      artifacts.write_json_atomic(os.path.join(run.work_dir, "infra_blessing.json"), report)
      run.details.update(blessed=report["blessed"], error=report.get("error"))
  return run.path


# -------------------------------------------------------------------------------- Pusher


def pusher(root, run_id, *, model_name, model, blessing, infra_blessing, serving_dir,
           version=None):
  """Pushes the blessed, infra-validated candidate as the next version of the served model.

  The version directory appears whole (copied into a hidden temporary sibling, then renamed,
  as `tfgen.export.exporter` does), with its lineage in `assets.extra/tfgen_lineage.json`.
  Imports no TensorFlow (a copy needs none): its process starts in a fraction of a second.
  Not blessed: nothing is written to `serving_dir`, and the reasons are recorded.
  """
  from tfgen.export import versions  # pylint: disable=g-import-not-at-top  (no TensorFlow)
  inputs = {"model": model, "blessing": blessing, "infra_blessing": infra_blessing}
  with artifacts.execute(root, "Pusher", {"serving_dir": os.path.abspath(serving_dir),
                                          "model_name": model_name}, inputs, run_id,
                         version) as run:
    if not run.reused:
      bless = artifacts.read_json(os.path.join(blessing, "blessing.json"))
      infra = artifacts.read_json(os.path.join(infra_blessing, "infra_blessing.json"))
      model_fp = artifacts.read_marker(model)["fingerprint"]
      record = {"pushed": False, "blessing": bless["blessed"], "infra_blessing": infra["blessed"]}
      already = [v for v, _, lineage in pushed_versions(serving_dir, model_name)
                 if lineage.get("model_fingerprint") == model_fp]
      if not bless["blessed"]:
        record["reason"] = "not blessed by Evaluator: " + "; ".join(bless["reasons"])
      elif not infra["blessed"]:
        record["reason"] = "not blessed by InfraValidator: " + str(infra.get("error"))
      elif already:
        record.update(reason=f"this model is already pushed as version {already[-1]}",
                      version=already[-1])
      else:
        model_dir = os.path.join(serving_dir, model_name)
        os.makedirs(model_dir, exist_ok=True)
        number = versions.next_version(model_dir)
        final = os.path.join(model_dir, str(number))
        staging = tempfile.mkdtemp(prefix=f".tmp-{number}-", dir=model_dir)
        try:
          shutil.copytree(candidate_export(model), staging, dirs_exist_ok=True)
          lineage = {
              "version": number, "model_name": model_name, "pushed_at": time.time(),
              "run_id": run_id, "model": os.path.abspath(model), "model_fingerprint": model_fp,
              "workdir": os.path.join(os.path.abspath(model), "workdir"),
              "blessing": os.path.abspath(blessing),
              "infra_blessing": os.path.abspath(infra_blessing),
              "pusher": run.path,
              "evaluation": {"metrics": bless["metrics"], "spec": bless["spec"]}}
          artifacts.write_json_atomic(os.path.join(staging, SERVING_LINEAGE), lineage)
          if os.path.exists(final):
            raise ValueError(f"Version {number} appeared while pushing: {final}.")
          os.rename(staging, final)
        except BaseException:
          shutil.rmtree(staging, ignore_errors=True)
          raise
        record.update(pushed=True, version=number, path=final)
      artifacts.write_json_atomic(os.path.join(run.work_dir, "push.json"), record)
      run.details.update(record)
  return run.path
