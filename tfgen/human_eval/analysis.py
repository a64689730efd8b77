"""The thesis's analysis of a human study (Fig. 4.9): fraction judged real vs presentation time.

For each source and requested duration, each subject's fraction of "real" answers; the curve
is the mean of those fractions over the subjects who saw that cell, the error bar +-1 sigma
of the inter-subject spread (the population standard deviation of the subjects' fractions,
0 with one subject). The pooled fraction (all answers of the cell together) is reported
beside it. Trials whose timing was flagged (`storage.timing_flags`) are kept in the CSV but
left out of the analysis unless `include_flagged`.
"""

import csv
import io
import os

import numpy as np

from tfgen.human_eval import study as study_lib

REPORT_DIR = "report"
# The thesis's colours (real red, GAN magenta, LAPGAN blue, CC-LAPGAN green); others cycle.
COLOURS = {"real": "tab:red", "gan": "m", "lapgan": "tab:blue", "cc_lapgan": "tab:green",
           "cclapgan": "tab:green", "cc-lapgan": "tab:green"}
CSV_COLUMNS = ("subject_id", "trial_index", "source", "stimulus", "requested_ms",
               "measured_ms", "timing_source", "raf_ms", "paint_ms", "paint_onset_ms",
               "max_frame_gap_ms", "frame_period_ms", "visibility", "answer", "reaction_ms",
               "times_served", "flags", "flagged", "excluded", "received")


def fraction_real(rows, sources, durations_ms, include_flagged=False):
  """Per source and duration: mean and sigma over subjects of the fraction judged real.

  Args:
    rows: answers as dicts with subject_id, source, requested_ms, answer, flagged.
    sources, durations_ms: the study's (cells nobody answered get None).
    include_flagged: also count trials whose timing was flagged.

  Returns:
    {"curves": {source: [{"duration_ms", "mean", "sigma", "pooled", "num_trials",
     "num_subjects"}, ...]}, "num_trials_used", "num_trials_excluded", "num_subjects"}.
  """
  used = [r for r in rows if include_flagged or not r["flagged"]]
  per_subject = {}  # (source, duration) -> subject -> [num real, num answers]
  for r in used:
    counts = per_subject.setdefault((r["source"], int(r["requested_ms"])), {}).setdefault(
        r["subject_id"], [0, 0])
    counts[0] += r["answer"] == "real"
    counts[1] += 1
  curves = {}
  for source in sources:
    curve = []
    for duration in durations_ms:
      subjects = per_subject.get((source, int(duration)), {})
      fractions = np.array([real / total for real, total in subjects.values()], np.float64)
      num_real = sum(real for real, _ in subjects.values())
      num_trials = sum(total for _, total in subjects.values())
      curve.append({
          "duration_ms": int(duration),
          "mean": float(fractions.mean()) if fractions.size else None,
          "sigma": float(fractions.std()) if fractions.size else None,
          "pooled": num_real / num_trials if num_trials else None,
          "num_trials": num_trials,
          "num_subjects": int(fractions.size),
      })
    curves[source] = curve
  return {"curves": curves, "include_flagged": bool(include_flagged),
          "num_trials_used": len(used), "num_trials_excluded": len(rows) - len(used),
          "num_subjects": len({r["subject_id"] for r in used})}


def figure(summary, title="Fraction judged real vs presentation time"):
  """The plot of `fraction_real`'s summary (matplotlib Figure, no pyplot: thread-safe)."""
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  fig = Figure(figsize=(6.4, 4.4), dpi=100)
  axis = fig.add_subplot()
  cycle = iter(["tab:orange", "tab:purple", "tab:brown", "tab:olive", "tab:cyan", "tab:grey"])
  for source, curve in summary["curves"].items():
    points = [c for c in curve if c["mean"] is not None]
    if not points:
      continue
    colour = COLOURS.get(source.lower()) or next(cycle, None)
    axis.errorbar([c["duration_ms"] for c in points], [c["mean"] for c in points],
                  yerr=[c["sigma"] for c in points], marker="o", capsize=3, color=colour,
                  label=f"{source} (n={sum(c['num_trials'] for c in points)})")
  axis.set_xscale("log")
  durations = sorted({c["duration_ms"] for curve in summary["curves"].values() for c in curve})
  if durations:
    axis.set_xticks(durations, [str(d) for d in durations], rotation=45, fontsize=8)
    axis.set_xticks([], minor=True)
  axis.set_ylim(-0.02, 1.02)
  axis.set_xlabel("Presentation time (ms)")
  axis.set_ylabel("Fraction judged real")
  axis.set_title(title, fontsize=10)
  axis.grid(True, which="both", alpha=0.3)
  if summary["curves"]:
    axis.legend(loc="best", fontsize=8)
  excluded = summary["num_trials_excluded"]
  fig.text(0.01, 0.01, f"{summary['num_subjects']} subjects, {summary['num_trials_used']} "
           f"trials; error bars \u00b11 sigma across subjects; {excluded} trials with flagged "
           f"timing {'included' if summary['include_flagged'] else 'left out'}", fontsize=7)
  fig.tight_layout(rect=(0, 0.03, 1, 1))
  return fig


def figure_png(summary):
  buffer = io.BytesIO()
  figure(summary).savefig(buffer, format="png")
  return buffer.getvalue()


def trials_csv(rows, include_flagged=False):
  buffer = io.StringIO()
  writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
  writer.writeheader()
  for r in rows:
    writer.writerow(dict(r, excluded=int(bool(r["flagged"]) and not include_flagged)))
  return buffer.getvalue()


def protocol(study):
  """study.json without its stimulus table (which only maps opaque names to sources)."""
  return {k: v for k, v in study.items() if k != "stimuli"}


def summarize(study_dir, include_flagged=False):
  """(study, rows, summary) of the study in `study_dir`."""
  from tfgen.human_eval import storage  # pylint: disable=g-import-not-at-top
  study = study_lib.load_study(study_dir)
  rows = storage.open_store(study_dir, study).answers()
  summary = fraction_real(rows, [s["name"] for s in study["sources"]], study["durations_ms"],
                          include_flagged)
  return study, rows, summary


def write_report(study_dir, output_dir=None, include_flagged=False):
  """Writes fraction_real.png, trials.csv and summary.json (each atomically); returns paths."""
  from tfgen.utils import files  # pylint: disable=g-import-not-at-top  (TensorFlow: slow)
  output_dir = output_dir or os.path.join(study_dir, REPORT_DIR)
  study, rows, summary = summarize(study_dir, include_flagged)
  paths = {name: os.path.join(output_dir, name)
           for name in ("fraction_real.png", "trials.csv", "summary.json")}
  files.atomic_write(paths["fraction_real.png"], figure_png(summary))
  files.atomic_write(paths["trials.csv"], trials_csv(rows, include_flagged))
  files.atomic_write_json(paths["summary.json"], {
      "protocol": protocol(study), "num_answers": len(rows), **summary})
  return paths
