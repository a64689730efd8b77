"""End-to-end tests of `python -m tfgen.bin.evaluate` as a user runs it (subprocesses)."""

import json
import os
import shutil
import tempfile

from tests import test_case
from tests.evaluation import evaluate_test


def run_binary(*args):
  return test_case.run_binary("tfgen.bin.evaluate", *args)


class EvaluateBinaryTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.workdir = os.path.join(cls.root, "lp")
    evaluate_test.untrained_workdir("svg_lp", cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_evaluates(self):
    result = run_binary(f"--workdir={self.workdir}", "--num_samples=2",
                        "--num_future_frames=3", "--num_test_sequences=3", "--batch_size=2",
                        "--selection=both", "--ssim=both")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertRegex(result.stdout, r"reference: ssim_legacy [0-9.e-]+, ssim_gaussian")
    self.assertIn("per_metric: ", result.stdout)
    output_dir = os.path.join(self.workdir, "evaluation")
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["per_metric.png", "reference.png", "results.csv", "results.json",
                      "scores.npz"])
    with open(os.path.join(output_dir, "results.json")) as f:
      document = json.load(f)
    self.assertEqual((document["num_samples"], document["num_future_frames"],
                      document["num_test_sequences"], document["ssim"]), (2, 3, 3, "both"))
    self.assertEqual(document["model_name"], "svg_lp")

  @test_case.parameterized.named_parameters(
      ("no_samples", ["--num_samples=0"], "num_samples must be an integer >= 1, got 0"),
      ("no_checkpoint", ["--workdir={empty}"], "not a training work directory"),
  )
  def test_bad_input(self, args, message):
    empty = self.make_temp_dir()
    if not any(a.startswith("--workdir") for a in args) and args:
      args = args + [f"--workdir={self.workdir}", f"--output_dir={empty}/out"]
    result = run_binary(*[a.format(empty=empty) for a in args])
    self.assertEqual(result.returncode, 1, result.stderr[-3000:])
    self.assertIn(message, result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertFalse(os.path.exists(os.path.join(empty, "out")))


if __name__ == "__main__":
  test_case.tf.test.main()
