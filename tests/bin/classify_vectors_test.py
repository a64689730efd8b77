"""End-to-end tests of `python -m tfgen.bin.classify_vectors` as a user runs it."""

import json
import os
import shutil
import tempfile

import pytest

from tests import test_case
from tests.models.drnet import vector_classification_test
from tfgen.train import trainer as trainer_lib
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader


def run_binary(*args):
  return test_case.run_binary("tfgen.bin.classify_vectors", *args)


class ClassifyVectorsBinaryTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.root = tempfile.mkdtemp(prefix="classify_vectors_bin_")
    self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)

  def test_refuses_a_run_that_is_not_drnet(self):
    workdir = os.path.join(self.root, "svg")
    os.makedirs(workdir)
    with open(os.path.join(workdir, workdir_lib.CONFIG_FILE), "w") as f:
      f.write(config_loader.to_json(config_loader.load("svg_lp", "smmnist", "quick")))
    result = run_binary(f"--workdir={workdir}", f"--output_dir={self.root}/out")
    self.assertEqual(result.returncode, 1)
    self.assertIn("Error: The work directory holds a 'svg' run, not a DrNET run", result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertFalse(os.path.exists(os.path.join(self.root, "out")))

  @pytest.mark.slow
  def test_classifies_and_refuses_a_vector_the_model_lacks(self):
    if not test_case.test_data_dir():
      self.skipTest("TFGEN_TEST_DATA is not set")
    workdir = os.path.join(self.root, "drnet")
    trainer_lib.train(vector_classification_test.tiny_drnet_config(), workdir)
    result = run_binary(f"--workdir={workdir}", "--vector=pose",
                        "--num_train_examples=30", "--num_validation_examples=10",
                        "--num_test_examples=12", "--max_epochs=3", "--patience=1")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertRegex(result.stdout, r"identity from pose: train [0-9.]+ \(30\), validation "
                     r"[0-9.]+ \(10\), test [0-9.]+ \(12\); chance 0.1000")
    output_dir = os.path.join(workdir, "vector_classification", "identity_pose")
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["classification.csv", "classification.json", "predictions.npz"])
    with open(os.path.join(output_dir, "classification.json")) as f:
      self.assertEqual(json.load(f)["splits"]["test"]["num_examples"], 12)
    # Bad input: one line on stderr naming it, exit status 1, nothing written.
    result = run_binary(f"--workdir={workdir}", "--vector=combined",
                        f"--output_dir={self.root}/bad")
    self.assertEqual(result.returncode, 1)
    self.assertIn("Error: A 'drnet' model has no 'combined' vector; its vectors: content, "
                  "pose.", result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertFalse(os.path.exists(os.path.join(self.root, "bad")))
