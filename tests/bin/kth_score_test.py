"""End-to-end tests of `python -m tfgen.bin.kth_score` as a user runs it."""

import os
import shutil
import tempfile

import pytest

from tests import test_case
from tests.models.drnet import kth_score_test


def run_binary(*args):
  return test_case.run_binary("tfgen.bin.kth_score", *args)


class KTHScoreBinaryTest(test_case.TestCase):

  def test_bad_classifier_workdir(self):
    root = tempfile.mkdtemp(prefix="kth_score_bin_")
    self.addCleanup(shutil.rmtree, root, ignore_errors=True)
    result = run_binary(f"--classifier_workdir={root}", f"--workdir={root}",
                        f"--output_dir={root}/out")
    self.assertEqual(result.returncode, 1)
    self.assertIn(f"Error: No config.json in {root}: {root!r} is not a training work "
                  "directory", result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertFalse(os.path.exists(os.path.join(root, "out")))

  @pytest.mark.slow
  def test_scores_a_prediction_run(self):
    root = tempfile.mkdtemp(prefix="kth_score_bin_")
    self.addCleanup(shutil.rmtree, root, ignore_errors=True)
    _, classifier, predictor = kth_score_test.trained_runs(root)
    output_dir = os.path.join(root, "score")
    result = run_binary(f"--classifier_workdir={classifier}", f"--workdir={predictor}",
                        "--num_future_frames=5", "--num_neighbour_candidates=10",
                        f"--output_dir={output_dir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertRegex(result.stdout, r"ae_lstm: KTH score by offset [0-9.]+ [0-9.]+\n")
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["kth_score.csv", "kth_score.json", "kth_score.png", "logits.npz",
                      "neighbours_ae_lstm.png"])
