"""End-to-end tests of `python -m tfgen.bin.import_reference` (no PyTorch needed).

Fixtures: tests/interop/data's edenton/svg SVG-LP and drnet-py DrNET and pose LSTM files.
"""

import json
import os
import re
import shlex

import pytest

from tests import test_case
from tests.interop import drnet_reference_test
from tests.interop import svg_reference_test

FIXTURE = svg_reference_test.FIXTURE
DRNET_FIXTURE = drnet_reference_test.FIXTURE
LSTM_FIXTURE = drnet_reference_test.LSTM_FIXTURE


def run_import(*args):
  return test_case.run_binary("tfgen.bin.import_reference", *args)


def train_as_printed(test, stdout):
  """Runs the printed fine-tuning command for one step; it must resume from the import."""
  command = re.search(r"To fine-tune: python -m tfgen\.bin\.train (.*)", stdout)
  test.assertIsNotNone(command, stdout)
  data_flags = [f"--data_dir={test_case.test_data_dir()}"] if test_case.test_data_dir() else []
  train = test_case.run_binary(
      "tfgen.bin.train", *shlex.split(command.group(1)), "--steps=1", *data_flags,
      "--config.train.jit_compile=False", "--config.train.num_image_sequences=2")
  test.assertEqual(train.returncode, 0, train.stderr[-3000:])
  test.assertIn("Resumed from", train.stderr)


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
    train_as_printed(self, result.stdout)
    self.assertTrue(os.path.exists(os.path.join(workdir, "checkpoints/ckpt-1.index")))

  def test_lstm_without_its_drnet_is_refused(self):
    # A train_lstm.py file holds the LSTM only: without the DrNET's work directory the
    # binary refuses it, naming the flag, and writes nothing.
    directory = self.make_temp_dir()
    lstm = os.path.join(directory, "lstm")
    result = run_import(f"--checkpoint={LSTM_FIXTURE}", f"--workdir={lstm}")
    self.assertEqual(result.returncode, 1)
    self.assertIn("holds the LSTM only", result.stderr)
    self.assertIn("pass --drnet_workdir", result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertEqual(os.listdir(directory), [])

  @pytest.mark.slow
  def test_drnet_then_its_lstm(self):
    directory = self.make_temp_dir()
    drnet, lstm = os.path.join(directory, "drnet"), os.path.join(directory, "lstm")
    result = run_import(f"--checkpoint={DRNET_FIXTURE}", f"--workdir={drnet}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn("Model: DrNET content_encoder=vgg_unet pose_encoder=resnet", result.stdout)
    self.assertIn("Note: discriminator_labels='reference'", result.stdout)
    self.assertIn("--model=drnet --dataset=mnist", result.stdout)
    result = run_import(f"--checkpoint={LSTM_FIXTURE}", f"--workdir={lstm}",
                        f"--drnet_workdir={drnet}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn("Model: DrNET pose LSTM hidden_size=8 num_layers=2", result.stdout)
    self.assertIn(f"--config.drnet_workdir={drnet}", result.stdout)
    with open(os.path.join(lstm, "config.json")) as f:
      self.assertEqual(json.load(f)["drnet_workdir"], drnet)

  @pytest.mark.slow
  def test_drnet_and_lstm_imports_then_train_resumes_from_them(self):
    directory = self.make_temp_dir()
    drnet, lstm = os.path.join(directory, "drnet"), os.path.join(directory, "lstm")
    result = run_import(f"--checkpoint={DRNET_FIXTURE}", f"--workdir={drnet}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    lstm_result = run_import(f"--checkpoint={LSTM_FIXTURE}", f"--workdir={lstm}",
                             f"--drnet_workdir={drnet}")
    self.assertEqual(lstm_result.returncode, 0, lstm_result.stderr[-3000:])
    train_as_printed(self, result.stdout)
    train_as_printed(self, lstm_result.stdout)
    for workdir in (drnet, lstm):
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
