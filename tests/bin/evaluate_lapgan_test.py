"""`python -m tfgen.bin.evaluate` on a LAPGAN work directory, as a user runs it."""

import json
import os
import shutil
import tempfile

import pytest

from tests import test_case
from tests.models.lapgan import tiny
from tfgen.train import trainer


def run_binary(*args):
  return test_case.run_binary("tfgen.bin.evaluate", *args)


class EvaluateLAPGANBinaryTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="tfgen_evaluate_lapgan_test_")
    cls.workdir = os.path.join(cls.root, "lapgan")
    trainer.train(tiny.tiny_config(steps=2), cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_evaluates(self):
    output = os.path.join(self.root, "out")
    result = run_binary(f"--workdir={self.workdir}", f"--output_dir={output}",
                        "--num_samples=20", "--batch_size=10", "--num_images=6",
                        "--num_validation_images=5", "--sigma_grid=0.2,0.5",
                        "--multiscale_num_images=3", "--num_noise_samples=4",
                        "--num_train_images=30", "--num_nn_samples=2", "--num_neighbours=3")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertRegex(result.stdout, r"Parzen log-likelihood \(6 test images, 20 samples, "
                                    r"sigma 0\.[25]\): -?[0-9.]+ \+- ")
    self.assertIn("Multi-scale Parzen (3 images, orthonormal)", result.stdout)
    self.assertIn("Classifier features skipped: no classifier_workdir", result.stdout)
    self.assertEqual(sorted(os.listdir(output)),
                     ["arrays.npz", "nn_pixels.png", "results.csv", "results.json",
                      "samples.png"])
    with open(os.path.join(output, "results.json")) as f:
      protocol = json.load(f)["protocol"]
    self.assertEqual((protocol["num_samples"], protocol["sigma_grid"], protocol["seed"]),
                     (20, [0.2, 0.5], 0))

  # Three subprocesses, each loading TensorFlow: ~25 s on a loaded 2-core machine.
  @pytest.mark.slow
  def test_bad_flags_fail_before_any_work(self):
    for args, message in (
        (["--sigma_grid=0.1,-1"], "sigma_grid must hold finite positive bandwidths"),
        (["--num_future_frames=3"], "--num_future_frames: not an option of this run's"),
        (["--num_samples=5"], "fewer than the Parzen batch"),
    ):
      fresh = os.path.join(self.root, "fresh")
      result = run_binary(f"--workdir={self.workdir}", f"--output_dir={fresh}", *args)
      self.assertEqual(result.returncode, 1, result.stderr[-3000:])
      self.assertIn(message, result.stderr)
      self.assertNotIn("Traceback", result.stderr)
      self.assertFalse(os.path.exists(fresh))


if __name__ == "__main__":
  test_case.tf.test.main()
