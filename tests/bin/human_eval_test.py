"""End-to-end tests of `python -m tfgen.bin.human_eval serve|report` as a user runs it."""

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

from tests import test_case
from tests.human_eval import storage_test
from tests.human_eval import testdata
from tfgen.human_eval import analysis
from tfgen.human_eval import storage


def run_binary(*args):
  return test_case.run_binary("tfgen.bin.human_eval", *args, timeout=120)


class HumanEvalBinaryTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.root = testdata.tempdir(self)
    self.real = testdata.write_image_folder(os.path.join(self.root, "real"),
                                            testdata.pictures(3, seed=1))
    self.fake = testdata.write_image_folder(os.path.join(self.root, "fake"),
                                            testdata.pictures(4, seed=2, noisy=True))

  def test_serve_prepares_a_study_and_serves_it_on_loopback(self):
    study_dir = os.path.join(self.root, "study")
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgen.bin.human_eval", "serve", f"--study={study_dir}",
         f"--source=real={self.real}", f"--source=lapgan={self.fake}",
         "--items_per_source=3", "--port=0", "--trials_per_subject=5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    try:
      lines = []
      for line in process.stdout:
        lines.append(line)
        match = re.search(r"Serving (http://127\.0\.0\.1:\d+)/", line)
        if match:
          break
      self.assertIsNotNone(match, "".join(lines))
      output = "".join(lines)
      self.assertIn("real (3 images), lapgan (3 images)", output)
      self.assertIn("durations [50, 72, 105, 151, 219, 316, 457, 661, 956, 1383, 2000] ms",
                    output)
      with urllib.request.urlopen(match.group(1) + "/", timeout=30) as response:
        self.assertIn("Real or generated?", response.read().decode())
      with self.assertRaises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(urllib.request.Request(
            match.group(1) + "/api/wrong/subjects", method="POST"), timeout=30)
      self.assertEqual(raised.exception.code, 404)
    finally:
      process.terminate()
      process.wait(timeout=30)
      process.stdout.close()
    with open(os.path.join(study_dir, "study.json")) as f:
      study = json.load(f)
    self.assertEqual(study["trials_per_subject"], 5)

  def test_report(self):
    testdata.make_study(self.root)
    study_dir = os.path.join(self.root, "study")
    store = storage.open_store(study_dir)
    subject = store.create_subject()
    for _ in range(3):
      trial = store.next_trial(subject)
      store.record_answer(subject, trial["trial_index"], "real", trial["duration_ms"],
                          storage_test.timing_for(trial["duration_ms"]))
    result = run_binary("report", f"--study={study_dir}")
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertIn("Report:", result.stdout)
    with open(os.path.join(study_dir, "report", "summary.json")) as f:
      self.assertEqual(json.load(f)["num_trials_used"], 3)

  def test_bad_input(self):
    empty = os.path.join(self.root, "empty")
    os.makedirs(empty)
    result = run_binary("serve", f"--study={self.root}/s1", f"--source=real={self.real}",
                        f"--source=lapgan={empty}")
    self.assertEqual(result.returncode, 1)
    self.assertIn("no images (PNG/JPEG)", result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertFalse(os.path.exists(os.path.join(self.root, "s1", "study.json")))
    # `report` of a folder without a study raises FileNotFoundError: one line, exit 1.
    with self.assertRaisesRegex(FileNotFoundError, "No study at"):
      analysis.write_report(os.path.join(self.root, "nothing"))


if __name__ == "__main__":
  test_case.tf.test.main()
