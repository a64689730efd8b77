"""Tests of `tfgen.evaluation.compare` and `python -m tfgen.bin.compare`."""

import csv
import json
import os

import ml_collections
import numpy as np

from tests import test_case
from tfgen.evaluation import compare
from tfgen.evaluation import evaluate


def write_results(directory, model_name, scores, num_context=2, dataset="smmnist",
                  num_samples=3):
  """`evaluate`'s own results document for `(S, N, F)` scores, written as it writes it."""
  config = ml_collections.ConfigDict({
      "model_name": model_name,
      "model": {"name": "svg", "num_future_frames": 2},
      "data": {"name": dataset},
  })
  num_future = next(iter(scores.values())).shape[2]
  options = evaluate.EvaluationOptions(num_samples=num_samples, num_context_frames=num_context,
                                       num_future_frames=num_future, selection="both")
  document, _ = evaluate.summarize(scores, options, config, "ckpt-1", directory)
  os.makedirs(os.path.join(directory, "evaluation"), exist_ok=True)
  with open(os.path.join(directory, "evaluation", evaluate.RESULTS_FILE), "w") as f:
    json.dump(document, f)
  return document


def random_scores(seed, sequences=4, samples=3, frames=5):
  rng = np.random.default_rng(seed)
  return {"ssim_legacy": rng.uniform(0, 1, (sequences, samples, frames)),
          "psnr": rng.uniform(10, 30, (sequences, samples, frames)),
          "mse": rng.uniform(0, 0.1, (sequences, samples, frames))}


class CompareTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.root = self.make_temp_dir()
    self.a, self.b = os.path.join(self.root, "a"), os.path.join(self.root, "b")
    self.doc_a = write_results(self.a, "svg_lp", random_scores(0))
    self.doc_b = write_results(self.b, "drnet_lstm", random_scores(1))

  def test_table_holds_every_run_step_and_metric_as_evaluated(self):
    output = compare.compare([self.a, self.b], os.path.join(self.root, "out"))
    with open(os.path.join(output, compare.MARKER_FILE)) as f:
      rows = list(csv.DictReader(f))
    # 2 runs x 2 selections x 3 metrics x 5 frames.
    self.assertLen(rows, 2 * 2 * 3 * 5)
    for label, document in (("svg_lp", self.doc_a), ("drnet_lstm", self.doc_b)):
      for selection in ("reference", "per_metric"):
        mine = [r for r in rows if r["run"] == label and r["selection"] == selection
                and r["metric"] == "psnr"]
        self.assertEqual([int(r["frame"]) for r in mine], [3, 4, 5, 6, 7])
        self.assertAllClose([float(r["mean"]) for r in mine],
                            document["results"][selection]["psnr"]["mean"])
    self.assertTrue(os.path.isfile(os.path.join(output, "comparison_reference.png")))
    self.assertTrue(os.path.isfile(os.path.join(output, "comparison_per_metric.png")))

  def test_same_model_names_are_told_apart_by_directory(self):
    c = os.path.join(self.root, "c")
    write_results(c, "svg_lp", random_scores(2))
    runs = compare.load([self.a, c])
    self.assertEqual([label for label, _ in runs], ["svg_lp (a)", "svg_lp (c)"])

  def test_other_protocols_are_refused_naming_the_difference(self):
    c = os.path.join(self.root, "c")
    write_results(c, "svg_fp", random_scores(2), num_context=3)
    with self.assertRaisesRegex(ValueError, "num_context_frames: .* has 2, .* has 3"):
      compare.compare([self.a, c], os.path.join(self.root, "out"))
    d = os.path.join(self.root, "d")
    write_results(d, "svg_fp", random_scores(2), dataset="kth")
    with self.assertRaisesRegex(ValueError, "data set: .*'smmnist'.*'kth'"):
      compare.load([self.a, d])
    self.assertFalse(os.path.exists(os.path.join(self.root, "out")))

  def test_bad_input(self):
    with self.assertRaisesRegex(ValueError, "at least two runs"):
      compare.load([self.a])
    with self.assertRaisesRegex(ValueError, "No results.json .* tfgen.bin.evaluate"):
      compare.load([self.a, os.path.join(self.root, "missing")])
    occupied = os.path.join(self.root, "occupied")
    os.makedirs(occupied)
    open(os.path.join(occupied, "notes.txt"), "w").close()
    with self.assertRaisesRegex(ValueError, "holds other files"):
      compare.compare([self.a, self.b], occupied)

  def test_binary(self):
    output = os.path.join(self.root, "binary_out")
    result = test_case.run_binary("tfgen.bin.compare", f"--runs={self.a},{self.b}",
                                  f"--output_dir={output}")
    self.assertEqual(result.returncode, 0, result.stderr[-2000:])
    self.assertTrue(os.path.isfile(os.path.join(output, compare.MARKER_FILE)))
    result = test_case.run_binary("tfgen.bin.compare", f"--runs={self.a}",
                                  f"--output_dir={output}")
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("at least two runs", result.stderr)


if __name__ == "__main__":
  test_case.main()
