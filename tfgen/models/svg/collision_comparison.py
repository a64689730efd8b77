"""Best-of-N scores of two evaluated SM-MNIST runs before and after the first wall collision.

The thesis (§6.3.2, Fig. 6.8) finds that SVG's best-of-N SSIM stays above the
deterministic baseline once the future becomes uncertain, i.e. after a digit hits a wall
(SM-MNIST re-draws its velocity there). This module measures that on two runs that
`tfgen.bin.evaluate` scored on the same fixed test set:

- the test sequences are regenerated (same generator options, `smmnist.TEST_SEED`, the
  runs' MNIST source) to read each sequence's wall collisions;
- a collision flagged at frame f (the digit is clamped at the wall before frame f is
  drawn and its velocity re-drawn) first shows at frame f + 1, the first frame whose
  position cannot be predicted from the past. Predicted steps whose frame index is
  > f for the first collision f at or after the first predicted frame are "after the
  first collision"; the other predicted steps are "before". Sequences without a
  collision in the predicted window only have "before" steps;
- per model: the mean score of the selected sample (the evaluation's `reference` rule:
  one sample per sequence, best mean SSIM; the `per_metric` rule when only that was
  computed) over the before-steps and over the after-steps; per sequence with a
  collision, the paired difference (model - baseline) of the after-step means, with its
  mean and 95% normal confidence interval over sequences; and the per-step means aligned
  on the first collision (steps since it), plotted.

Frame indices here are 0-based over context + future (frame `num_context` is the first
predicted one); predicted steps are 1-based.

Outputs (`output_dir`, default `<workdir>/collision_comparison`, replaced whole):
`collision_comparison.json`, `collision_comparison.csv` (per step since the first
collision: both models' means and counts) and `collision_comparison.png`.
"""

import json
import math
import os

import numpy as np

from tfgen.data import smmnist
from tfgen.evaluation import evaluate

RESULT_FILE = "collision_comparison.json"


def _load_evaluation(workdir, evaluation_dir=None):
  """`(document, scores.npz arrays)` of the evaluation of `workdir`."""
  directory = evaluation_dir or os.path.join(workdir, "evaluation")
  path = os.path.join(directory, evaluate.RESULTS_FILE)
  if not os.path.exists(path):
    raise ValueError(f"No {evaluate.RESULTS_FILE} in {directory!r}: evaluate the run first "
                     f"(`python -m tfgen.bin.evaluate --workdir={workdir}`).")
  with open(path) as f:
    document = json.load(f)
  with np.load(os.path.join(directory, "scores.npz")) as arrays:
    scores = dict(arrays)
  return document, scores


def _selected(document, scores, metric):
  """`(S, F)` scores of each sequence's selected sample and the rule used."""
  values = scores.get(f"scores_{metric}")
  if values is None:
    raise ValueError(f"The evaluation of {document['workdir']!r} has no {metric} scores "
                     f"(it computed {', '.join(document['metrics'])}); rerun it with that "
                     "metric.")
  for selection in ("reference", "per_metric"):
    index = scores.get(f"selected_{selection}_{metric}")
    if index is not None:
      return values[np.arange(values.shape[0]), index], selection
  raise ValueError(f"The evaluation of {document['workdir']!r} has no selected samples.")


def test_source(data, num_frames):
  """The generator of the fixed SM-MNIST test set the evaluation scored (same options)."""
  options = dict(data.get("options") or {})
  return smmnist.StochasticMovingMNIST(
      "test", num_digits=options.get("num_digits", 2), num_frames=num_frames,
      deterministic_bounce=options.get("deterministic_bounce", False),
      velocity_distribution=options.get("velocity_distribution", "uniform"),
      seed=smmnist.TEST_SEED, data_dir=data.get("data_dir"))


def first_collision_frames(data, num_frames, num_sequences, first_predicted_frame):
  """Frame of each test sequence's first collision at or after `first_predicted_frame`.

  Args:
    data: the runs' data config (dict with `data_dir` and `options`).
    num_frames: frames per evaluated clip (context + future).
    num_sequences: test sequences evaluated (the first ones of the fixed test set).
    first_predicted_frame: 0-based index of the first predicted frame.

  Returns:
    int `(num_sequences,)`: the 0-based frame index, -1 where no collision happens in
    `[first_predicted_frame, num_frames)`.
  """
  source = test_source(data, num_frames)
  frames = np.full(num_sequences, -1, np.int64)
  for i in range(num_sequences):
    collisions = source.sequence(i)["collisions"].any(axis=-1)  # (T,)
    hits = np.flatnonzero(collisions[first_predicted_frame:])
    if hits.size:
      frames[i] = first_predicted_frame + hits[0]
  return frames


def after_collision_mask(first_frames, num_context, num_future):
  """bool `(S, F)`: predicted step k (frame num_context + k - 1) comes after the collision."""
  frame = num_context + np.arange(num_future)[None, :]  # (1, F)
  return (first_frames[:, None] >= 0) & (frame > first_frames[:, None])


def _mean(values):
  return float(values.mean()) if values.size else float("nan")


def _ci(values):
  n = values.size
  if n < 2:
    return float("nan")
  return float(1.96 * values.std(ddof=1) / math.sqrt(n))


def compare(scores_model, scores_baseline, first_frames, num_context):
  """The before/after statistics of two `(S, F)` selected-score arrays (module doc)."""
  num_sequences, num_future = scores_model.shape
  after = after_collision_mask(first_frames, num_context, num_future)
  has_collision = first_frames >= 0
  result = {
      "num_sequences": int(num_sequences),
      "num_sequences_with_collision": int(has_collision.sum()),
      "num_steps_after": int(after.sum()),
      "num_steps_before": int((~after).sum()),
  }
  for label, values in (("model", scores_model), ("baseline", scores_baseline)):
    result[f"{label}_mean_before"] = _mean(values[~after])
    result[f"{label}_mean_after"] = _mean(values[after])
  rows = has_collision & after.any(axis=1)
  per_sequence = np.array([
      scores_model[i, after[i]].mean() - scores_baseline[i, after[i]].mean()
      for i in np.flatnonzero(rows)])
  result["paired_difference_after_mean"] = _mean(per_sequence)
  result["paired_difference_after_ci95_halfwidth"] = _ci(per_sequence)
  result["paired_difference_after_num_sequences"] = int(per_sequence.size)
  before_rows = (~after).any(axis=1)
  per_sequence_before = np.array([
      scores_model[i, ~after[i]].mean() - scores_baseline[i, ~after[i]].mean()
      for i in np.flatnonzero(before_rows)])
  result["paired_difference_before_mean"] = _mean(per_sequence_before)
  result["paired_difference_before_ci95_halfwidth"] = _ci(per_sequence_before)
  # Aligned on the first collision: offset = frame - first collision frame.
  frame = num_context + np.arange(num_future)[None, :]
  offsets = np.where(has_collision[:, None], frame - first_frames[:, None], np.iinfo(int).min)
  aligned = []
  for offset in range(-num_future, num_future + 1):
    mask = offsets == offset
    if mask.any():
      aligned.append({"frames_since_collision": offset, "count": int(mask.sum()),
                      "model_mean": _mean(scores_model[mask]),
                      "baseline_mean": _mean(scores_baseline[mask])})
  result["aligned"] = aligned
  return result


def _clean(value):
  """JSON-safe: NaN -> None (as `evaluate` writes it)."""
  if isinstance(value, dict):
    return {k: _clean(v) for k, v in value.items()}
  if isinstance(value, list):
    return [_clean(v) for v in value]
  if isinstance(value, float) and not math.isfinite(value):
    return None
  return value


def _plot(document, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  figure, ax = plt.subplots(figsize=(6, 4))
  rows = document["comparison"]["aligned"]
  x = [r["frames_since_collision"] for r in rows]
  nan = float("nan")
  ax.plot(x, [nan if r["model_mean"] is None else r["model_mean"] for r in rows], "o-",
          label=document["model"]["name"])
  ax.plot(x, [nan if r["baseline_mean"] is None else r["baseline_mean"] for r in rows], "s-",
          label=document["baseline"]["name"])
  ax.axvline(0.5, color="red", linestyle="--", linewidth=1)
  ax.set_xlabel("frames since the first collision (first uncertain frame: 1)")
  ax.set_ylabel(f"best-of-N {document['metric']}")
  ax.set_title(f"{document['metric']} around the first wall collision "
               f"({document['comparison']['num_sequences_with_collision']} sequences)",
               fontsize="medium")
  ax.legend()
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def _csv(document):
  lines = ["frames_since_collision,count,model_mean,baseline_mean"]
  for r in document["comparison"]["aligned"]:
    lines.append(f"{r['frames_since_collision']},{r['count']},{r['model_mean']:.6g},"
                 f"{r['baseline_mean']:.6g}")
  return "\n".join(lines) + "\n"


def compare_runs(workdir, baseline_workdir, output_dir=None, metric="ssim_legacy",
                 evaluation_dir=None, baseline_evaluation_dir=None):
  """Compares the evaluations of `workdir` and `baseline_workdir` around first collisions.

  Args:
    workdir: the model's training work directory, already evaluated.
    baseline_workdir: the baseline's (e.g. svg_det), evaluated with the same test set,
      context and horizon.
    output_dir: default `<workdir>/collision_comparison`.
    metric: "ssim_legacy", "ssim_gaussian", "psnr" or "mse" (as evaluated).
    evaluation_dir, baseline_evaluation_dir: where the evaluations are (default
      `<workdir>/evaluation`).

  Returns:
    The document written to `collision_comparison.json`, with `output_dir`.

  Raises:
    ValueError: a run not evaluated, not SM-MNIST, or evaluated differently from the other.
  """
  output_dir = output_dir or os.path.join(workdir, "collision_comparison")
  evaluate.check_output_dir(output_dir, marker=RESULT_FILE)
  model_doc, model_scores = _load_evaluation(workdir, evaluation_dir)
  base_doc, base_scores = _load_evaluation(baseline_workdir, baseline_evaluation_dir)
  for doc in (model_doc, base_doc):
    if doc["data"]["name"] != "smmnist":
      raise ValueError(f"{doc['workdir']!r} was trained on {doc['data']['name']!r}; the "
                       "collision comparison needs SM-MNIST runs.")
  for key in ("num_context_frames", "num_future_frames", "num_test_sequences"):
    if model_doc[key] != base_doc[key]:
      raise ValueError(f"The two evaluations differ in {key} ({model_doc[key]} vs "
                       f"{base_doc[key]}): evaluate both runs the same way.")
  model_data = {k: v for k, v in model_doc["data"].items() if k != "data_dir"}
  base_data = {k: v for k, v in base_doc["data"].items() if k != "data_dir"}
  if model_data != base_data:
    raise ValueError(f"The two runs were trained on different SM-MNIST settings "
                     f"({model_data} vs {base_data}).")
  model_values, model_rule = _selected(model_doc, model_scores, metric)
  base_values, base_rule = _selected(base_doc, base_scores, metric)
  num_context, num_future = model_doc["num_context_frames"], model_doc["num_future_frames"]
  first_frames = first_collision_frames(model_doc["data"], num_context + num_future,
                                        model_values.shape[0], num_context)
  comparison = compare(model_values, base_values, first_frames, num_context)
  document = {
      "metric": metric,
      "model": {"name": model_doc["model_name"], "workdir": model_doc["workdir"],
                "checkpoint": model_doc["checkpoint"], "num_samples": model_doc["num_samples"],
                "selection": model_rule},
      "baseline": {"name": base_doc["model_name"], "workdir": base_doc["workdir"],
                   "checkpoint": base_doc["checkpoint"],
                   "num_samples": base_doc["num_samples"], "selection": base_rule},
      "num_context_frames": num_context,
      "num_future_frames": num_future,
      "collision_rule": "a collision flagged at frame f first shows at frame f + 1; steps "
                        "with frame > f (first collision in the predicted window) are "
                        "'after'",
      "first_collision_frames": first_frames.tolist(),
      "comparison": comparison,
  }
  document = _clean(document)

  def write(staging):
    with open(os.path.join(staging, RESULT_FILE), "w") as f:
      json.dump(document, f, indent=2, allow_nan=False)
      f.write("\n")
    with open(os.path.join(staging, "collision_comparison.csv"), "w") as f:
      f.write(_csv(document))
    _plot(document, os.path.join(staging, "collision_comparison.png"))

  document["output_dir"] = evaluate.replace_directory(output_dir, write)
  return document
