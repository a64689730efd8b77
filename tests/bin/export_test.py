"""End-to-end tests of `python -m tfgen.bin.export` on a trained workdir (subprocesses)."""

import json
import os

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.bin import train_test
from tests.train import trainer_test
from tfgen.export import exporter
from tfgen.train import trainer as trainer_lib


def run_export(*args):
  return test_case.run_binary("tfgen.bin.export", *args)


class ExportBinaryTest(test_case.TestCase):

  def test_exports_trained_workdir(self):
    workdir = self.make_temp_dir()
    config = trainer_test.tiny_config(steps=2, batch_size=2)
    trainer_lib.train(config, workdir)
    base = self.make_temp_dir()
    request_file = os.path.join(self.make_temp_dir(), "request.json")
    result = run_export(f"--workdir={workdir}", f"--export_dir={base}",
                        f"--rest_request_file={request_file}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    path = os.path.join(base, "svg_lp", "1")
    self.assertEqual(json.loads(result.stdout.strip().splitlines()[-1]), {"export_path": path})
    self.assertEqual(os.listdir(os.path.join(base, "svg_lp")), ["1"])  # No temporary left.

    # The export holds the trained weights: it reproduces the restored model.
    model, _, model_name = exporter.load_workdir_model(workdir)
    self.assertEqual(model_name, "svg_lp")
    with open(request_file) as f:
      body = json.load(f)
    inputs = {k: np.asarray(v) for k, v in body["inputs"].items()}
    loaded = tf.saved_model.load(path)
    declared = loaded.signatures["serving_default"].structured_input_signature[1]
    outputs = loaded.signatures["serving_default"](
        **{k: tf.constant(v, declared[k].dtype) for k, v in inputs.items()})
    expected = model.generate(inputs["context"].astype(np.float32),
                              int(inputs["num_future_frames"]), int(inputs["num_samples"]),
                              inputs["seed"], return_prior_scale=True)
    self.assertAllClose(outputs["samples"], expected["samples"], atol=1e-5)

    # An explicit version; the next default one follows the largest.
    result = run_export(f"--workdir={workdir}", f"--export_dir={base}", "--version=4")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(exporter.existing_versions(os.path.join(base, "svg_lp")), [1, 4])
    self.assertEqual(exporter.next_version(os.path.join(base, "svg_lp")), 5)

  def test_exports_trained_drnet_workdir(self):
    # Trained by the training binary as a user would, then exported by the export binary.
    workdir = self.make_temp_dir()
    data_flags = [f"--data_dir={test_case.test_data_dir()}"] if test_case.test_data_dir() else []
    result = test_case.run_binary(
        "tfgen.bin.train", "--model=drnet", "--dataset=mnist", f"--workdir={workdir}",
        "--quick", "--batch_size=4", "--steps=2", *data_flags,
        *train_test.DRNET_TINY_OVERRIDES)
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    base = self.make_temp_dir()
    request_file = os.path.join(self.make_temp_dir(), "request.json")
    result = run_export(f"--workdir={workdir}", f"--export_dir={base}",
                        f"--rest_request_file={request_file}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    path = os.path.join(base, "drnet", "1")
    self.assertEqual(json.loads(result.stdout.strip().splitlines()[-1]), {"export_path": path})
    self.assertEqual(os.listdir(os.path.join(base, "drnet")), ["1"])

    # The export holds the trained weights: its analogy (serving_default) and encode
    # signatures reproduce the restored model in inference mode.
    model, _, model_name = exporter.load_workdir_model(workdir)
    self.assertEqual(model_name, "drnet")
    with open(request_file) as f:
      inputs = {k: np.asarray(v, np.float32) for k, v in json.load(f)["inputs"].items()}
    self.assertEqual(set(inputs), {"content", "pose"})
    loaded = tf.saved_model.load(path)
    self.assertEqual(set(loaded.signatures), {"serving_default", "analogy", "encode"})
    frames = loaded.signatures["serving_default"](**inputs)["frames"]
    expected = model((inputs["content"], inputs["pose"]), training=False)
    self.assertCloseForAccumulation(frames, expected, 4 * 4 * 2 * 8 * 2)
    codes = loaded.signatures["encode"](frames=inputs["pose"])
    content, _, pose = model.encode(inputs["pose"], training=False)
    self.assertCloseForAccumulation(codes["content"], content, 4 * 4 * 8 * 2)
    self.assertCloseForAccumulation(codes["pose"], pose, 4 * 4 * 8 * 2)

  @test_case.parameterized.named_parameters(
      ("no_flags", [], "--workdir and --export_dir are required"),
      ("not_a_workdir", ["--workdir=/nonexistent", "--export_dir=/tmp/x"],
       "No config.json in /nonexistent"),
  )
  def test_errors(self, args, message):
    result = run_export(*args)
    self.assertEqual(result.returncode, 1)
    self.assertIn(message, result.stderr)


if __name__ == "__main__":
  tf.test.main()
