"""End-to-end tests of `python -m tfgen.bin.analyze` as a user runs it (subprocesses)."""

import json
import os
import shutil
import tempfile

from tests import test_case
from tests.models.svg import trajectories_test
from tfgen.evaluation import evaluate


def run_binary(*args):
  return test_case.run_binary("tfgen.bin.analyze", *args)


class AnalyzeBinaryTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.lp = trajectories_test.tiny_workdir(os.path.join(cls.root, "lp"))
    cls.det = trajectories_test.tiny_workdir(os.path.join(cls.root, "det"), model="svg_det",
                                             num_digits=2)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_all_analyses_of_a_single_digit_lp_run(self):
    for workdir in (self.lp, self.det):
      evaluate.evaluate(workdir, num_samples=2, num_future_frames=6, num_test_sequences=4,
                        batch_size=2)
    result = run_binary(f"--workdir={self.lp}", "--analysis=all",
                        f"--baseline_workdir={self.det}", "--num_sequences=4",
                        "--num_steps=12", "--num_trajectories=1",
                        "--num_digits_per_trajectory=2", "--num_samples=2",
                        "--num_future_frames=6")
    # The det run has 2 digits: the comparison refuses different SM-MNIST settings.
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("different SM-MNIST settings", result.stderr)
    self.assertRegex(result.stdout, r"prior_sigma: collision_ratio")
    self.assertRegex(result.stdout, r"trajectories: mean TV before the first collision")
    for name in ("prior_analysis/prior_sigma.csv", "trajectories/trajectories.json"):
      self.assertTrue(os.path.exists(os.path.join(self.lp, name)), name)
    with open(os.path.join(self.lp, "prior_analysis", "prior_sigma.json")) as f:
      self.assertEqual(len(json.load(f)["sigma_mean"]), 11)

  def test_bad_input(self):
    cases = [
        (["--analysis=collision_ssim"], "needs --baseline_workdir"),
        (["--analysis=prior_sigma"], "svg_lp"),
        (["--analysis=trajectories"], "one digit|num_digits"),
        (["--analysis=all"], "No analysis applies"),
    ]
    for args, message in cases:
      result = run_binary(f"--workdir={self.det}", *args)
      self.assertNotEqual(result.returncode, 0, args)
      self.assertRegex(result.stderr, message)
    result = run_binary("--analysis=all")
    self.assertIn("--workdir is required", result.stderr)


if __name__ == "__main__":
  test_case.tf.test.main()
