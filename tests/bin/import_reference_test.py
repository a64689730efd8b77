"""End-to-end tests of `python -m tfgen.bin.import_reference` (no PyTorch needed)."""

import json
import os
import re
import shlex

import pytest

from tests import test_case
from tests.interop import svg_reference_test

FIXTURE = svg_reference_test.FIXTURE


def run_import(*args):
  return test_case.run_binary("tfgen.bin.import_reference", *args)


class ImportReferenceBinaryTest(test_case.TestCase):

  def test_existing_workdir_needs_overwrite(self):
    workdir = os.path.join(self.make_temp_dir(), "svg")
    os.makedirs(workdir)
    marker = os.path.join(workdir, "mine.txt")
    with open(marker, "w") as f:
      f.write("keep")
    result = run_import(f"--checkpoint={FIXTURE}", f"--workdir={workdir}")
    self.assertEqual(result.returncode, 1)
    self.assertIn("already exists and is not empty; pass --overwrite", result.stderr)
    self.assertEqual(os.listdir(workdir), ["mine.txt"])
    result = run_import(f"--checkpoint={FIXTURE}", f"--workdir={workdir}", "--overwrite")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertFalse(os.path.exists(marker))
    self.assertIn("skip_mode=reference", result.stdout)
    for name in ("config.json", "model_summary.json", "checkpoints/ckpt-0.index"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    with open(os.path.join(workdir, "config.json")) as f:
      self.assertEqual(json.load(f)["model"]["skip_mode"], "reference")

  @pytest.mark.slow
  def test_import_then_train_resumes_from_it(self):
    workdir = os.path.join(self.make_temp_dir(), "svg")
    result = run_import(f"--checkpoint={FIXTURE}", f"--workdir={workdir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    # The printed command fine-tunes: the trainer accepts the config and resumes at step 0.
    command = re.search(r"To fine-tune: python -m tfgen\.bin\.train (.*)", result.stdout)
    self.assertIsNotNone(command, result.stdout)
    data_flags = [f"--data_dir={test_case.test_data_dir()}"] if test_case.test_data_dir() else []
    train = test_case.run_binary(
        "tfgen.bin.train", *shlex.split(command.group(1)), "--steps=1", *data_flags,
        "--config.train.jit_compile=False", "--config.train.num_image_sequences=2")
    self.assertEqual(train.returncode, 0, train.stderr[-3000:])
    self.assertIn("Resumed from", train.stderr)
    self.assertTrue(os.path.exists(os.path.join(workdir, "checkpoints/ckpt-1.index")))

  def test_bad_input_fails_without_writing(self):
    directory = self.make_temp_dir()
    workdir = os.path.join(directory, "w")
    bad = os.path.join(directory, "bad.pth")
    with open(bad, "wb") as f:
      f.write(b"\x00" * 100)
    result = run_import(f"--checkpoint={bad}", f"--workdir={workdir}")
    self.assertEqual(result.returncode, 1)
    self.assertIn("Error: ", result.stderr)
    self.assertIn("is not a PyTorch checkpoint", result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertEqual(os.listdir(directory), ["bad.pth"])
