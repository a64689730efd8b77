"""Several video models' evaluations in one table and one plot (thesis Fig. 5.6, 6.8).

`python -m tfgen.bin.evaluate` writes one `results.json` per run (SVG-LP / FP, the
deterministic baseline, DrNET's pose LSTM, the AE-LSTM); `compare` puts runs scored by
the same protocol side by side: `comparison.csv` (run, selection, metric, frame, mean, 95%
CI) and `comparison.png` (metric vs frame, one line per run, the training horizon marked).
Runs scored on other data, other context / future lengths or other test sequences are
refused, naming what differs: their curves would not be comparable.
"""

import csv
import io
import json
import os

import numpy as np

from tfgen.evaluation import evaluate

MARKER_FILE = "comparison.csv"
# What must be equal for two runs' curves to be comparable.
_PROTOCOL = ("num_context_frames", "num_future_frames", "num_test_sequences", "ssim")


def results_path(path):
  """`path` itself if it is a `results.json`, else `<path>/results.json` or the default
  `<path>/evaluation/results.json` of a work directory."""
  for candidate in (path, os.path.join(path, evaluate.RESULTS_FILE),
                    os.path.join(path, "evaluation", evaluate.RESULTS_FILE)):
    if os.path.isfile(candidate):
      return candidate
  raise ValueError(f"No {evaluate.RESULTS_FILE} at {path!r} (nor in its evaluation/): run "
                   f"`python -m tfgen.bin.evaluate --workdir={path}` first.")


def load(paths):
  """The results documents of `paths`, checked comparable; returns `[(label, document)]`."""
  if len(paths) < 2:
    raise ValueError(f"Comparing needs at least two runs, got {len(paths)}.")
  runs = []
  for path in paths:
    with open(results_path(path)) as f:
      document = json.load(f)
    if "results" not in document or "steps" not in document:
      raise ValueError(f"{results_path(path)!r} is not a video evaluation's results (no "
                       "per-step results).")
    runs.append((path, document))
  first_path, first = runs[0]
  problems = []
  for path, document in runs[1:]:
    for key in _PROTOCOL:
      if document.get(key) != first.get(key):
        problems.append(f"{key}: {first_path} has {first.get(key)!r}, {path} has "
                        f"{document.get(key)!r}")
    if document["data"].get("name") != first["data"].get("name"):
      problems.append(f"data set: {first_path} has {first['data'].get('name')!r}, {path} "
                      f"has {document['data'].get('name')!r}")
  if problems:
    raise ValueError("The runs were not scored by the same protocol: " + "; ".join(problems)
                     + ". Evaluate them with the same flags on the same data.")
  labels = _labels(runs)
  return list(zip(labels, (document for _, document in runs)))


def _labels(runs):
  names = [document.get("model_name", "run") for _, document in runs]
  if len(set(names)) == len(names):
    return names
  return [f"{name} ({os.path.basename(os.path.normpath(path))})"
          for name, (path, _) in zip(names, runs)]


def selections(runs):
  """The selections every run has, in the first run's order."""
  common = [s for s in runs[0][1]["results"]
            if all(s in document["results"] for _, document in runs)]
  if not common:
    raise ValueError("The runs share no selection rule (reference / per_metric).")
  return common


def csv_text(runs):
  out = io.StringIO()
  writer = csv.writer(out, lineterminator="\n")
  writer.writerow(["run", "num_samples", "selection", "metric", "frame", "mean",
                   "ci95_low", "ci95_high"])
  for selection in selections(runs):
    for label, document in runs:
      frames = [step["frame"] for step in document["steps"]]
      for metric, entry in document["results"][selection].items():
        for i, frame in enumerate(frames):
          writer.writerow([label, document["num_samples"], selection, metric, frame,
                           entry["mean"][i], entry["ci95_low"][i], entry["ci95_high"][i]])
  return out.getvalue()


def plot(runs, selection, path):
  """Metric vs frame, one line (and 95% CI band) per run, one panel per shared metric."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top

  metrics = [m for m in runs[0][1]["results"][selection]
             if all(m in document["results"][selection] for _, document in runs)]
  figure, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4),
                              squeeze=False)
  as_float = lambda xs: np.array([np.nan if x is None else float(x) for x in xs])
  for axis, metric in zip(axes[0], metrics):
    for label, document in runs:
      frames = [step["frame"] for step in document["steps"]]
      entry = document["results"][selection][metric]
      axis.plot(frames, as_float(entry["mean"]), marker=".",
                label=f"{label} (N={document['num_samples']})")
      axis.fill_between(frames, as_float(entry["ci95_low"]), as_float(entry["ci95_high"]),
                        alpha=0.2, linewidth=0)
    horizons = sorted({document["training_horizon_frame"] for _, document in runs})
    for horizon in horizons:
      axis.axvline(horizon + 0.5, color="k", linestyle="--", linewidth=1)
    axis.set_xlabel("time step")
    axis.set_title(metric)
    axis.grid(alpha=0.3)
  axes[0][0].legend(fontsize="small")
  figure.suptitle(f"{selection} selection, {runs[0][1]['num_test_sequences']} test "
                  "sequences (dashed: training horizons)", fontsize="medium")
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def compare(paths, output_dir):
  """Writes `comparison.csv`, `comparison[_<selection>].png` and `runs.json` into
  `output_dir` (replaced whole, or left as it was on failure); returns `output_dir`."""
  runs = load(paths)
  evaluate.check_output_dir(output_dir, marker=MARKER_FILE)

  def write(staging):
    with open(os.path.join(staging, MARKER_FILE), "w") as f:
      f.write(csv_text(runs))
    for selection in selections(runs):
      plot(runs, selection, os.path.join(staging, f"comparison_{selection}.png"))
    with open(os.path.join(staging, "runs.json"), "w") as f:
      json.dump([{"label": label, "workdir": document.get("workdir"),
                  "checkpoint": document.get("checkpoint"),
                  "num_samples": document.get("num_samples")}
                 for label, document in runs], f, indent=2)

  return evaluate.replace_directory(output_dir, write)
