"""Best-of-N evaluation of a trained video model on its test set (thesis §6.3.2-6.3.4, SPEC §1.5).

For each test sequence the model sees `num_context_frames` frames and draws `num_samples`
futures of `num_future_frames` frames in ONE batched `generate` call per batch of
sequences (the samples are folded into the batch); one `tf.function` then scores every
sample at every step against the ground truth, `(batch, num_samples, num_future_frames)`
per metric, with the in-graph metrics of `tfgen.metrics.image_metrics`. Only those small
score arrays leave the graph.

Metrics: `ssim_legacy` (the reference's old scikit-image SSIM), `ssim_gaussian` (11x11
Gaussian, SAVP / SRVP), `psnr` (the reference's `compare_psnr`, data range 1) and `mse`.

Selection rules (which of the N samples a sequence is scored by):
- "reference" (the SVG code and thesis): ONE sample per sequence, the one with the
  highest mean SSIM over the predicted frames (the legacy SSIM when it is computed, else
  the Gaussian one); every metric is reported for that sample.
- "per_metric" (SRVP, Franceschi et al. 2020): for each metric separately, the sample
  with the best mean over the predicted frames (highest SSIM / PSNR, lowest MSE).
A deterministic model (SVG's `prior="none"`, DrNET's pose LSTM: `stochastic` False) has
one possible future: N is 1 and both rules give its single-sample scores.

Any model family is evaluated through one contract (`check_predicts`, the model-family
registry `tfgen.models.factory`): its model's `generate(context, num_future_frames,
num_samples, seed)` returns `{"samples": (B, N, F, H, W, C)}`, with `num_context_frames`
and `stochastic`; the test clips are the config's data set's fixed test split, so SVG
and DrNET runs on one data set are scored on the same clips.

Statistics per predicted step: the mean over test sequences and a 95% confidence
interval of that mean from the normal approximation, mean +- 1.96 * s / sqrt(n) with s
the sample standard deviation (ddof = 1) over the n sequences (NaN, written as null, when
n = 1). The training horizon (the config's `num_future_frames`) is marked: every step
carries `beyond_training_horizon`, and the plots draw a vertical line after it.

Outputs (`output_dir`, default `<workdir>/evaluation`): `results.json` (everything, with
the config, model name, N, SSIM variants and CI rule), `results.csv` (one row per
selection x metric x step), `scores.npz` (the raw `(sequences, N, steps)` scores of every
metric and the selected sample indices) and one `<selection>.png` plot per selection like
thesis Fig. 6.8 / 6.9. The directory is written whole or not at all: everything goes to
a staging directory beside it that then replaces the old one by renames, so a rerun
never mixes old and new files and a crash leaves the previous results intact.
"""

import dataclasses
import json
import math
import os
import shutil
import uuid
from typing import Optional

from absl import logging
import numpy as np
import tensorflow as tf
import tqdm

from tfgen.data import registry
from tfgen.metrics import image_metrics
from tfgen.train import workdir as workdir_lib

CONFIG_FILE = workdir_lib.CONFIG_FILE
CHECKPOINT_DIR = workdir_lib.CHECKPOINT_DIR
RESULTS_FILE = "results.json"
SELECTIONS = ("reference", "per_metric")
SELECTION_CHOICES = SELECTIONS + ("both",)
SSIM_CHOICES = ("legacy", "gaussian", "both")
# Higher is better for every metric but MSE.
LOWER_IS_BETTER = ("mse",)
# Predicted frames per data set in the papers' evaluations (SPEC §1.2 table): SM-MNIST
# 5 -> 20 (thesis Fig. 6.8), KTH 10 -> 20, BAIR 2 -> 28. Other data sets: twice the
# training horizon.
DEFAULT_FUTURE_FRAMES = {"smmnist": 20, "kth": 20, "bair": 28}
CONFIDENCE_INTERVAL = "95% normal: mean +- 1.96 * std(ddof=1) / sqrt(n) over test sequences"


@dataclasses.dataclass
class EvaluationOptions:
  """What to evaluate and how (the flags of `python -m tfgen.bin.evaluate`).

  Attributes:
    num_samples: futures drawn per test sequence (N; the thesis uses 100). Forced to 1 for
      a deterministic model.
    num_context_frames: frames conditioned on; default the model's (`n_past`).
    num_future_frames: frames predicted and scored (`n_eval - n_past` in the reference);
      default `DEFAULT_FUTURE_FRAMES[dataset]` or twice the training horizon.
    selection: "reference", "per_metric" or "both" (see the module docstring).
    ssim: "legacy", "gaussian" or "both": which SSIMs to compute.
    num_test_sequences: evaluate the first this many test sequences (default: the data
      set's test set, e.g. 256 for SM-MNIST and BAIR).
    batch_size: test sequences per `generate` call (each makes `num_samples` rows);
      default `max(1, 512 // num_samples)`.
    output_dir: where the results go; default `<workdir>/evaluation`. Replaced wholesale.
    seed: int, base of the stateless seeds of the samples (batch i uses `(seed, i)`).
  """
  num_samples: int = 100
  num_context_frames: Optional[int] = None
  num_future_frames: Optional[int] = None
  selection: str = "reference"
  ssim: str = "legacy"
  num_test_sequences: Optional[int] = None
  batch_size: Optional[int] = None
  output_dir: Optional[str] = None
  seed: int = 0

  def check(self):
    """Raises `ValueError` on an option out of range, naming it and the valid values."""
    if self.selection not in SELECTION_CHOICES:
      raise ValueError(f"Unknown selection {self.selection!r}; valid: "
                       f"{', '.join(SELECTION_CHOICES)}.")
    if self.ssim not in SSIM_CHOICES:
      raise ValueError(f"Unknown ssim {self.ssim!r}; valid: {', '.join(SSIM_CHOICES)}.")
    for name in ("num_samples", "num_context_frames", "num_future_frames",
                 "num_test_sequences", "batch_size"):
      value = getattr(self, name)
      if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")

  @property
  def selections(self):
    return SELECTIONS if self.selection == "both" else (self.selection,)

  @property
  def metric_names(self):
    ssims = {"legacy": ["ssim_legacy"], "gaussian": ["ssim_gaussian"],
             "both": ["ssim_legacy", "ssim_gaussian"]}[self.ssim]
    return tuple(ssims) + ("psnr", "mse")


# ----------------------------------------------------------------------------- loading


def load_config(workdir):
  """The resolved config a training run wrote into `workdir` (`tfgen.train.workdir`)."""
  return workdir_lib.load_config(workdir)


def load_model(workdir, config=None):
  """Builds the workdir's model and restores its latest checkpoint.

  Returns:
    (model, checkpoint_path).

  Raises:
    ValueError: no config, no checkpoint, or a checkpoint of another model.
  """
  model, _, path = workdir_lib.load_model(workdir, config)
  return model, path


def test_dataset(config, num_frames, batch_size, num_test_sequences=None):
  """The fixed test set with clips of `num_frames` frames; checks the data provide them.

  Raises:
    ValueError: the data set cannot give `num_frames` frames per test sequence (e.g. BAIR
      beyond 30 frames, or no KTH test sub-sequence that long).
  """
  data = config.data
  options = dict(data.get("options", {}))
  if num_test_sequences is not None:
    options["num_test_sequences"] = num_test_sequences
  try:
    dataset = registry.build(data.name, "test", batch_size=batch_size, num_frames=num_frames,
                             seed=config.train.seed, data_dir=data.data_dir,
                             drop_remainder=False, **options)
    first = next(iter(dataset.take(1)), None)
  except (ValueError, tf.errors.InvalidArgumentError) as e:
    raise ValueError(f"The {data.name} test set cannot provide {num_frames} frames per "
                     f"sequence (context + future): {str(e).splitlines()[0]}") from e
  if first is None:
    raise ValueError(f"The {data.name} test set has no sequence with {num_frames} frames "
                     "(context + future): shorten --num_future_frames.")
  return dataset


# ----------------------------------------------------------------------------- scoring

_METRIC_FUNCTIONS = {
    "ssim_legacy": image_metrics.ssim_skimage_legacy,
    "ssim_gaussian": image_metrics.ssim_gaussian,
    "psnr": image_metrics.psnr,
    "mse": image_metrics.mse,
}


def score_frames(truth, samples, metric_names):
  """Scores every sample at every step: in-graph, one step of all samples at a time.

  Args:
    truth: `(B, F, H, W, C)` ground-truth future frames.
    samples: `(B, N, F, H, W, C)` predicted futures.
    metric_names: names from `ssim_legacy`, `ssim_gaussian`, `psnr`, `mse`.

  Returns:
    dict name -> `(B, N, F)` float32 scores.
  """
  truth = tf.convert_to_tensor(truth, tf.float32)
  samples = tf.convert_to_tensor(samples, tf.float32)

  def one_step(t):
    # Scoring step by step bounds the SSIM intermediates to B * N frames at a time.
    predicted = samples[:, :, t]  # (B, N, H, W, C)
    target = tf.broadcast_to(truth[:, None, t], tf.shape(predicted))
    return {name: _METRIC_FUNCTIONS[name](target, predicted) for name in metric_names}

  num_steps = tf.shape(samples)[2]
  per_step = tf.map_fn(
      one_step, tf.range(num_steps),
      fn_output_signature={name: tf.TensorSpec((None, None), tf.float32)
                           for name in metric_names})  # name -> (F, B, N)
  return {name: tf.transpose(value, (1, 2, 0)) for name, value in per_step.items()}


def make_scorer(model, num_context_frames, num_future_frames, num_samples, metric_names,
                return_samples=False, frame_shape=None):
  """A `tf.function(video, seed)` drawing N futures of each clip and scoring them.

  Args:
    model: a video-prediction model with `generate` (`check_predicts`; e.g. `SVG`,
      `PoseLSTM`).
    num_context_frames: frames conditioned on.
    num_future_frames: frames predicted.
    num_samples: futures per clip (all drawn in one `generate` call).
    metric_names: metrics to compute (see `score_frames`).
    return_samples: also return the samples `(B, N, F, H, W, C)` under "samples".
    frame_shape: `(H, W, C)`; when given, the function is traced once for every batch size
      (a last, smaller test batch does not retrace it).

  Returns:
    fn(video `(B, context + future, H, W, C)`, seed `[2]` int64) -> dict name -> `(B, N, F)`.
  """

  signature = None
  if frame_shape is not None:
    num_frames = num_context_frames + num_future_frames
    signature = [tf.TensorSpec((None, num_frames) + tuple(frame_shape), tf.float32),
                 tf.TensorSpec((2,), tf.int64)]

  @tf.function(input_signature=signature, reduce_retracing=True)
  def score(video, seed):
    context = video[:, :num_context_frames]
    truth = video[:, num_context_frames:num_context_frames + num_future_frames]
    samples = model.generate(context, num_future_frames, num_samples, seed=seed)["samples"]
    scores = score_frames(truth, samples, metric_names)
    if return_samples:
      scores["samples"] = samples
    return scores

  return score


def primary_ssim(metric_names):
  """The SSIM the reference rule selects by: legacy when computed, else Gaussian."""
  return "ssim_legacy" if "ssim_legacy" in metric_names else "ssim_gaussian"


def select(scores, selection):
  """Picks each sequence's scored sample.

  Args:
    scores: dict name -> `(S, N, F)` numpy scores.
    selection: "reference" or "per_metric".

  Returns:
    (selected, indices): dict name -> `(S, F)` scores of the chosen samples, and dict
    name -> `(S,)` chosen sample indices.
  """
  if selection not in SELECTIONS:
    raise ValueError(f"Unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}.")
  selected, indices = {}, {}
  if selection == "reference":
    by = primary_ssim(list(scores))
    index = np.argmax(scores[by].mean(axis=2), axis=1)  # (S,)
  for name, values in scores.items():
    if selection == "per_metric":
      means = values.mean(axis=2)  # (S, N)
      index = np.argmin(means, axis=1) if name in LOWER_IS_BETTER else np.argmax(means, axis=1)
    rows = np.arange(values.shape[0])
    selected[name] = values[rows, index]  # (S, F)
    indices[name] = index
  return selected, indices


def step_statistics(values):
  """Per-step mean, sample std and 95% CI half-width of `(S, F)` scores over sequences."""
  n = values.shape[0]
  mean = values.mean(axis=0)
  with np.errstate(invalid="ignore", divide="ignore"):
    std = values.std(axis=0, ddof=1) if n > 1 else np.full_like(mean, np.nan)
    halfwidth = 1.96 * std / math.sqrt(n)
  return {"mean": mean, "std": std, "ci95_halfwidth": halfwidth,
          "ci95_low": mean - halfwidth, "ci95_high": mean + halfwidth}


# ----------------------------------------------------------------------------- running


PREDICTION_CONTRACT = ("generate", "num_context_frames", "stochastic")


def check_predicts(model, config):
  """Raises `ValueError` unless `model` predicts video (`tfgen.models.factory` docstring).

  Every family whose model has `generate(context, num_future_frames, num_samples, seed)`,
  `num_context_frames` and `stochastic` is evaluated alike: SVG's variants and DrNET's
  pose LSTM (deterministic: one future, N = 1) sit in one table.
  """
  missing = [name for name in PREDICTION_CONTRACT if not hasattr(model, name)]
  if missing:
    raise ValueError(f"A {config.model.name!r} run does not predict future frames (its model "
                     f"{type(model).__name__} has no {', '.join(missing)}): evaluate a "
                     "video-prediction run (e.g. DrNET's pose LSTM, --model=drnet_lstm).")


def _resolve(options, config, model):
  """Fills the defaults of `options` from the config and model; returns a new copy."""
  check_predicts(model, config)
  options = dataclasses.replace(options)
  if options.num_context_frames is None:
    options.num_context_frames = model.num_context_frames
  if options.num_future_frames is None:
    options.num_future_frames = DEFAULT_FUTURE_FRAMES.get(
        config.data.name, 2 * config.model.num_future_frames)
  if not model.stochastic and options.num_samples != 1:
    logging.info("Deterministic model: one future per sequence, N = 1.")
    options.num_samples = 1
  if options.batch_size is None:
    options.batch_size = max(1, 512 // options.num_samples)
  if getattr(model, "skip_mode", None) == "reference" and options.num_context_frames < 2:
    raise ValueError("skip_mode='reference' needs num_context_frames >= 2, got "
                     f"{options.num_context_frames}.")
  return options


def check_output_dir(output_dir, marker=RESULTS_FILE):
  """Refuses to replace a non-empty directory that is not a previous output (no `marker`)."""
  if os.path.exists(os.path.join(output_dir, CONFIG_FILE)) or os.path.isdir(
      os.path.join(output_dir, CHECKPOINT_DIR)):
    raise ValueError(f"--output_dir {output_dir!r} is a training work directory.")
  if os.path.isdir(output_dir) and os.listdir(output_dir) and not os.path.exists(
      os.path.join(output_dir, marker)):
    raise ValueError(f"--output_dir {output_dir!r} exists and holds other files; it would be "
                     "replaced wholesale. Choose an empty or new directory.")


def run(model, dataset, options, metric_names, num_sequences=None):
  """Scores every test sequence: dict name -> `(S, N, F)` numpy scores.

  Args:
    model: the restored model.
    dataset: batches `(B, context + future, H, W, C)`.
    options: resolved `EvaluationOptions`.
    metric_names: metrics to compute.
    num_sequences: for the progress bar, when known.
  """
  scorer = make_scorer(model, options.num_context_frames, options.num_future_frames,
                       options.num_samples, metric_names,
                       frame_shape=tuple(dataset.element_spec.shape[2:]))
  chunks = {name: [] for name in metric_names}
  with tqdm.tqdm(total=num_sequences, unit="seq", dynamic_ncols=True,
                 desc=f"evaluate N={options.num_samples}") as progress:
    for i, video in enumerate(dataset):
      seed = tf.constant([options.seed, i], tf.int64)
      scores = scorer(video, seed)
      for name in metric_names:
        chunks[name].append(scores[name].numpy())
      progress.update(int(video.shape[0]))
  return {name: np.concatenate(values, axis=0) for name, values in chunks.items()}


def summarize(scores, options, config, checkpoint_path, workdir):
  """The results document (`results.json`) of `(S, N, F)` scores."""
  num_context, num_future = options.num_context_frames, options.num_future_frames
  training_horizon = int(config.model.num_future_frames)
  num_sequences = int(next(iter(scores.values())).shape[0])
  steps = [{"step": t + 1, "frame": num_context + t + 1,
            "beyond_training_horizon": t + 1 > training_horizon} for t in range(num_future)]
  results, indices = {}, {}
  for selection in options.selections:
    selected, chosen = select(scores, selection)
    indices[selection] = chosen
    results[selection] = {}
    for name, values in selected.items():
      stats = step_statistics(values)
      entry = {key: [_json_float(v) for v in value] for key, value in stats.items()}
      entry["mean_over_steps"] = _json_float(values.mean())
      within = values[:, :min(training_horizon, num_future)]
      entry["mean_within_training_horizon"] = _json_float(within.mean())
      if num_future > training_horizon:
        entry["mean_beyond_training_horizon"] = _json_float(values[:, training_horizon:].mean())
      results[selection][name] = entry
  document = {
      "model_name": config.get("model_name", config.model.name),
      "model": config.model.to_dict(),
      "data": config.data.to_dict(),
      "workdir": os.path.abspath(workdir),
      "checkpoint": checkpoint_path,
      "num_samples": options.num_samples,
      "num_context_frames": num_context,
      "num_future_frames": num_future,
      "training_horizon": training_horizon,
      "training_horizon_frame": num_context + training_horizon,
      "num_test_sequences": num_sequences,
      "metrics": list(scores),
      "ssim": options.ssim,
      "ssim_variants": {
          "ssim_legacy": "skimage compare_ssim (<=0.15) per channel: 7x7 uniform window, "
                         "K1 0.01, K2 0.03, data range 2.0, sample covariance, mean over "
                         "the valid region (the SVG reference)",
          "ssim_gaussian": "11x11 Gaussian sigma 1.5, K1 0.01, K2 0.03, data range 1.0, "
                           "population covariance (tf.image.ssim; SAVP, SRVP)",
      },
      "psnr": "per channel 10 log10(1 / MSE) (compare_psnr data range 1.0 for [0, 1] "
              "ground truth), averaged over channels",
      "selection_rules": {
          "reference": f"one sample per sequence: best mean {primary_ssim(list(scores))} "
                       "over the predicted frames",
          "per_metric": "best sample per metric (max SSIM/PSNR, min MSE of the mean over "
                        "the predicted frames)",
      },
      "selections": list(options.selections),
      "confidence_interval": CONFIDENCE_INTERVAL,
      "seed": options.seed,
      "batch_size": options.batch_size,
      "steps": steps,
      "results": results,
  }
  return document, indices


def _json_float(value):
  value = float(value)
  return value if math.isfinite(value) else (None if math.isnan(value) else
                                             ("inf" if value > 0 else "-inf"))


def csv_text(document):
  """One row per selection x metric x step, with the run's identifying fields."""
  header = ["model_name", "num_samples", "num_context_frames", "num_test_sequences", "ssim",
            "selection", "metric", "step", "frame", "beyond_training_horizon", "mean", "std",
            "ci95_halfwidth", "ci95_low", "ci95_high"]
  lines = [",".join(header)]
  for selection, per_metric in document["results"].items():
    for metric, entry in per_metric.items():
      for i, step in enumerate(document["steps"]):
        row = [document["model_name"], document["num_samples"],
               document["num_context_frames"], document["num_test_sequences"],
               document["ssim"], selection, metric, step["step"], step["frame"],
               int(step["beyond_training_horizon"])]
        row += ["" if entry[key][i] is None else entry[key][i]
                for key in ("mean", "std", "ci95_halfwidth", "ci95_low", "ci95_high")]
        lines.append(",".join(str(v) for v in row))
  return "\n".join(lines) + "\n"


_LABELS = {"ssim_legacy": "SSIM (skimage legacy 7x7)", "ssim_gaussian": "SSIM (Gaussian 11x11)",
           "psnr": "PSNR (dB)", "mse": "MSE"}


def plot(document, selection, path):
  """Metric vs predicted frame with the 95% CI band and the training horizon (Fig. 6.8)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  per_metric = document["results"][selection]
  frames = [step["frame"] for step in document["steps"]]
  figure, axes = plt.subplots(1, len(per_metric), figsize=(4.2 * len(per_metric), 3.4),
                              squeeze=False)
  for axis, (metric, entry) in zip(axes[0], per_metric.items()):
    as_float = lambda xs: np.array([np.nan if x is None else float(x) for x in xs])
    mean = as_float(entry["mean"])
    axis.plot(frames, mean, marker=".", label=document["model_name"])
    axis.fill_between(frames, as_float(entry["ci95_low"]), as_float(entry["ci95_high"]),
                      alpha=0.3, linewidth=0)
    axis.axvline(document["training_horizon_frame"] + 0.5, color="k", linestyle="--",
                 linewidth=1, label="training horizon")
    axis.set_xlabel("time step")
    axis.set_title(_LABELS.get(metric, metric))
    axis.grid(alpha=0.3)
  axes[0][0].legend(fontsize="small")
  figure.suptitle(f"{document['model_name']}: {selection} selection, best of "
                  f"N={document['num_samples']}, {document['num_test_sequences']} sequences",
                  fontsize="medium")
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def replace_directory(output_dir, write):
  """Runs `write(staging_dir)`, then puts the staging directory in place of `output_dir`.

  The new directory replaces the old one by two renames (old aside, new in), so readers
  see either the old or the new outputs, never a mix; if `write` fails the old outputs
  stay and the staging directory is removed. Local file systems only.
  """
  output_dir = os.path.abspath(output_dir)
  os.makedirs(os.path.dirname(output_dir), exist_ok=True)
  staging = f"{output_dir}.tmp-{uuid.uuid4().hex}"
  os.makedirs(staging)
  try:
    write(staging)
    old = None
    if os.path.exists(output_dir):
      old = f"{output_dir}.old-{uuid.uuid4().hex}"
      os.rename(output_dir, old)
    os.rename(staging, output_dir)
    if old is not None:
      shutil.rmtree(old, ignore_errors=True)
  finally:
    if os.path.exists(staging):
      shutil.rmtree(staging, ignore_errors=True)
  return output_dir


def write_outputs(output_dir, document, scores, indices):
  """Writes results.json, results.csv, scores.npz and the plots, whole or not at all."""

  def write(staging):
    with open(os.path.join(staging, RESULTS_FILE), "w") as f:
      json.dump(document, f, indent=2, sort_keys=False)
      f.write("\n")
    with open(os.path.join(staging, "results.csv"), "w") as f:
      f.write(csv_text(document))
    arrays = {f"scores_{name}": values for name, values in scores.items()}
    for selection, chosen in indices.items():
      arrays.update({f"selected_{selection}_{name}": index for name, index in chosen.items()})
    np.savez(os.path.join(staging, "scores.npz"), **arrays)
    for selection in document["results"]:
      plot(document, selection, os.path.join(staging, f"{selection}.png"))

  return replace_directory(output_dir, write)


def evaluate(workdir, options=None, **kwargs):
  """Evaluates the latest checkpoint of `workdir` (module docstring) and writes the results.

  Args:
    workdir: a training work directory (`config.json`, `checkpoints/`).
    options: `EvaluationOptions`; or pass its fields as keyword arguments.

  Returns:
    The results document (as written to `results.json`), with `output_dir` added.

  Raises:
    ValueError: bad options, no config or checkpoint, a checkpoint of another model, a
      horizon the test data cannot provide, or an output directory that is not ours; all
      raised before any sample is drawn.
  """
  options = options or EvaluationOptions(**kwargs)
  options.check()
  output_dir = options.output_dir or os.path.join(workdir, "evaluation")
  check_output_dir(output_dir)
  config = load_config(workdir)
  model, checkpoint_path = load_model(workdir, config)
  options = _resolve(options, config, model)
  num_frames = options.num_context_frames + options.num_future_frames
  dataset = test_dataset(config, num_frames, options.batch_size, options.num_test_sequences)
  num_sequences = options.num_test_sequences or dict(config.data.get("options", {})).get(
      "num_test_sequences")
  logging.info("Evaluating %s (%s): N=%d, %d -> %d frames, SSIM %s, selection %s.",
               workdir, checkpoint_path, options.num_samples, options.num_context_frames,
               options.num_future_frames, options.ssim, options.selection)
  metric_names = options.metric_names
  scores = run(model, dataset, options, metric_names, num_sequences)
  document, indices = summarize(scores, options, config, checkpoint_path, workdir)
  document["output_dir"] = write_outputs(output_dir, document, scores, indices)
  return document
