"""Tests of the analysis (fraction judged real, sigma across subjects) and the report files."""

import csv
import json
import os

from tests import test_case
from tests.human_eval import storage_test
from tests.human_eval import testdata
from tfgen.human_eval import analysis
from tfgen.human_eval import storage


def row(subject, source, duration, answer, flagged=0):
  return {"subject_id": subject, "source": source, "requested_ms": duration,
          "answer": answer, "flagged": flagged}


ROWS = [
    row("s1", "real", 50, "real"), row("s1", "real", 50, "real"),
    row("s1", "real", 50, "generated"), row("s1", "real", 500, "real"),
    row("s1", "lapgan", 50, "generated"), row("s1", "lapgan", 50, "generated"),
    row("s1", "lapgan", 50, "real", flagged=1),
    row("s2", "real", 50, "real"),
    row("s2", "lapgan", 50, "real"), row("s2", "lapgan", 50, "generated"),
]


class FractionRealTest(test_case.TestCase):

  def cell(self, summary, source, duration):
    (cell,) = [c for c in summary["curves"][source] if c["duration_ms"] == duration]
    return {k: v for k, v in cell.items() if k != "duration_ms"}

  def test_hand_computed_cells_with_flagged_trials_left_out(self):
    summary = analysis.fraction_real(ROWS, ["real", "lapgan"], [50, 500])
    self.assertEqual((summary["num_trials_used"], summary["num_trials_excluded"],
                      summary["num_subjects"]), (9, 1, 2))
    # real @ 50 ms: s1 2/3, s2 1/1 -> mean 5/6, population sigma 1/6, pooled 3/4.
    self.assertAllClose(list(self.cell(summary, "real", 50).values()),
                        [5 / 6, 1 / 6, 3 / 4, 4, 2])
    self.assertAllClose(list(self.cell(summary, "real", 500).values()), [1, 0, 1, 1, 1])
    # lapgan @ 50 ms: s1 0/2, s2 1/2 -> mean 1/4, sigma 1/4, pooled 1/4.
    self.assertAllClose(list(self.cell(summary, "lapgan", 50).values()),
                        [1 / 4, 1 / 4, 1 / 4, 4, 2])
    self.assertEqual(self.cell(summary, "lapgan", 500),
                     {"mean": None, "sigma": None, "pooled": None, "num_trials": 0,
                      "num_subjects": 0})

  def test_flagged_trials_included_on_request(self):
    summary = analysis.fraction_real(ROWS, ["real", "lapgan"], [50, 500],
                                     include_flagged=True)
    # lapgan @ 50 ms: s1 1/3, s2 1/2 -> mean 5/12, sigma 1/12, pooled 2/5.
    self.assertAllClose(list(self.cell(summary, "lapgan", 50).values()),
                        [5 / 12, 1 / 12, 2 / 5, 5, 2])
    self.assertEqual(summary["num_trials_excluded"], 0)


class WriteReportTest(test_case.TestCase):

  def test_report_files_agree_with_the_stored_answers(self):
    root = testdata.tempdir(self)
    study = testdata.make_study(root, trials_per_subject=6)
    directory = os.path.join(root, "study")
    store = storage.open_store(directory)
    expected = {}  # (source, duration) -> per-subject [real, total], unflagged only.
    for s, pattern in enumerate(("rrgrgg", "grrrrg")):
      subject = store.create_subject()
      for i, letter in enumerate(pattern):
        trial = store.next_trial(subject)
        flagged = s == 1 and i == 0  # One trial with a frame gap.
        timing = storage_test.timing_for(trial["duration_ms"],
                                          max_frame_gap_ms=40.0 if flagged else 16.7)
        store.record_answer(subject, trial["trial_index"],
                            "real" if letter == "r" else "generated", trial["duration_ms"],
                            timing)
    for r in store.answers():
      if not r["flagged"]:
        counts = expected.setdefault((r["source"], r["requested_ms"]), {}).setdefault(
            r["subject_id"], [0, 0])
        counts[0] += r["answer"] == "real"
        counts[1] += 1
    paths = analysis.write_report(directory)
    self.assertEqual(sorted(os.listdir(os.path.join(directory, "report"))),
                     ["fraction_real.png", "summary.json", "trials.csv"])
    with open(paths["fraction_real.png"], "rb") as f:
      self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
    with open(paths["trials.csv"], newline="") as f:
      trials = list(csv.DictReader(f))
    self.assertLen(trials, 12)
    self.assertEqual(sum(int(t["excluded"]) for t in trials), 1)
    self.assertEqual([t["flags"] for t in trials if t["excluded"] == "1"], ["frame_gap"])
    with open(paths["summary.json"]) as f:
      summary = json.load(f)
    self.assertEqual(summary["protocol"]["durations_ms"], study["durations_ms"])
    self.assertEqual(summary["protocol"]["seed"], study["seed"])
    self.assertNotIn("stimuli", summary["protocol"])
    self.assertEqual((summary["num_answers"], summary["num_trials_excluded"]), (12, 1))
    for source, curve in summary["curves"].items():
      for cell in curve:
        subjects = expected.get((source, cell["duration_ms"]), {})
        fractions = [real / total for real, total in subjects.values()]
        self.assertEqual(cell["num_trials"], sum(t for _, t in subjects.values()))
        if fractions:
          mean = sum(fractions) / len(fractions)
          self.assertAlmostEqual(cell["mean"], mean)
          self.assertAlmostEqual(
              cell["sigma"], (sum((f - mean) ** 2 for f in fractions) / len(fractions)) ** .5)


if __name__ == "__main__":
  test_case.tf.test.main()
