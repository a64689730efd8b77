"""The Evaluator's scores of a trained work directory on the ExampleGen artifact's test split.

A shape's `evaluation` module (`pipelines.shapes`). Here, per model family:
- SVG: tfgen's best-of-N evaluation (`tfgen.evaluation.evaluate`: N futures per test clip,
  the reference's selection, legacy SSIM), scored on the test clips ExampleGen wrote;
  metrics `ssim` and `psnr` (means over the predicted steps, higher is better) and `mse`.
- DrNET's pose LSTM (`drnet_lstm`): the same best-of-N evaluation (its predictions are
  deterministic, so every one of the N futures is the same) and metrics.
- DrNET's first stage alone: the mean of its `test_step` metrics over the test
  clips, `reconstruction_loss` first (lower is better).

`evaluate(workdir, test_data_dir, options)` returns `{"metrics": {...}, "details": {...}}`.
"""

import os

HIGHER_IS_BETTER = {"ssim": True, "psnr": True, "mse": False, "reconstruction_loss": False,
                    "similarity_loss": False, "loss": False}


def test_dataset(test_data_dir, num_frames, batch_size, num_test_sequences=None,
                 drop_remainder=False):
  """Float32 clips `(batch, num_frames, H, W, C)` in [0, 1] from a prepared test split."""
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top
  shards = tfrecords.complete_shards(test_data_dir, "test")
  info = tfrecords.read_dataset_info(test_data_dir)
  frame_shape = (info["image_size"], info["image_size"], info["channels"])
  clips = tfrecords.test_clips(shards, num_frames, num_test_sequences)
  return tfrecords.batch_clips(clips, batch_size, drop_remainder, frame_shape, num_frames)


def evaluate(workdir, test_data_dir, options):
  """Scores `workdir`'s latest checkpoint (module docstring).

  Args:
    workdir: a trained tfgen work directory.
    test_data_dir: an ExampleGen artifact's `data/` directory (holds a "test" split).
    options: dict: `num_samples`, `num_test_sequences`, `num_future_frames` (None: the
      evaluation's default), `seed`, `output_dir` (where the full results go).
  """
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  config = workdir_lib.load_config(workdir)
  if config.model.name in ("svg", "drnet_lstm"):
    return _evaluate_svg(workdir, config, test_data_dir, options)
  return _evaluate_test_step(workdir, config, test_data_dir, options)


def _evaluate_svg(workdir, config, test_data_dir, options):
  from tfgen.evaluation import evaluate as evaluate_lib  # pylint: disable=g-import-not-at-top
  model, checkpoint = evaluate_lib.load_model(workdir, config)
  resolved = evaluate_lib._resolve(  # pylint: disable=protected-access
      evaluate_lib.EvaluationOptions(
          num_samples=options["num_samples"], num_future_frames=options.get("num_future_frames"),
          num_test_sequences=options.get("num_test_sequences"), seed=options.get("seed", 0)),
      config, model)
  resolved.check()
  num_frames = resolved.num_context_frames + resolved.num_future_frames
  dataset = test_dataset(test_data_dir, num_frames, resolved.batch_size,
                         resolved.num_test_sequences)
  metric_names = resolved.metric_names
  scores = evaluate_lib.run(model, dataset, resolved, metric_names)
  if not next(iter(scores.values())).shape[0]:
    raise ValueError(f"The test split in {test_data_dir} has no clip of {num_frames} frames.")
  document, indices = evaluate_lib.summarize(scores, resolved, config, checkpoint, workdir)
  if options.get("output_dir"):
    evaluate_lib.write_outputs(options["output_dir"], document, scores, indices)
  results = document["results"]["reference"]
  metrics = {"ssim": results["ssim_legacy"]["mean_over_steps"],
             "psnr": results["psnr"]["mean_over_steps"],
             "mse": results["mse"]["mean_over_steps"]}
  details = {key: document[key] for key in ("num_samples", "num_context_frames",
                                            "num_future_frames", "num_test_sequences", "seed")}
  details.update(checkpoint=checkpoint, selection="reference", ssim="legacy")
  return {"metrics": metrics, "details": details}


def _evaluate_test_step(workdir, config, test_data_dir, options):
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  model, _, checkpoint = workdir_lib.load_model(workdir, config)
  family = factory.get_family(config.model.name)
  batch_size = min(int(config.train.batch_size), int(options.get("num_test_sequences") or 64))
  # Full batches: the family's frame sampling (DrNET's) needs them.
  clips = test_dataset(test_data_dir, config.data.num_frames, batch_size,
                       options.get("num_test_sequences"), drop_remainder=True)
  if family.training_data is not None:
    # The frames a step sees (e.g. DrNET's four), drawn from the test clips with a fixed seed.
    clips = family.training_data(clips, config, 0)
  totals, batches = {}, 0
  for batch in clips:
    for metric in model.metrics:
      metric.reset_state()
    result = model.test_step(batch)
    for name, value in result.items():
      totals[name] = totals.get(name, 0.0) + float(np.asarray(value))
    batches += 1
  if not batches:
    raise ValueError(f"The test split in {test_data_dir} has no clip of "
                     f"{config.data.num_frames} frames.")
  metrics = {name: value / batches for name, value in totals.items()}
  return {"metrics": metrics, "details": {"checkpoint": checkpoint, "batches": batches,
                                          "batch_size": batch_size,
                                          "workdir": os.path.abspath(workdir)}}
