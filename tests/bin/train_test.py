"""End-to-end tests of `python -m tfgen.bin.train` as a user runs it (subprocesses)."""

import json
import os
from unittest import mock

from tests import test_case

TINY_OVERRIDES = [
    "--config.model.base_filters=4", "--config.model.g_dim=8", "--config.model.rnn_size=8",
    "--config.model.z_dim=3", "--config.model.num_context_frames=2",
    "--config.model.num_future_frames=2", "--config.data.num_frames=4",
    "--config.train.log_every=1", "--config.train.checkpoint_every=2",
    "--config.train.num_image_sequences=2", "--config.train.num_image_samples=1",
]


DRNET_TINY_OVERRIDES = [
    "--config.model.base_filters=2", "--config.model.content_dim=6",
    "--config.model.pose_dim=3", "--config.model.sd_nf=5", "--config.data.num_frames=5",
    "--config.data.max_offset=2", "--config.train.log_every=1",
    "--config.train.checkpoint_every=2", "--config.train.num_image_sequences=2",
]


def run_train(*args):
  return test_case.run_binary("tfgen.bin.train", *args)


class TrainBinaryTest(test_case.TestCase):

  def test_trains_and_resumes(self):
    workdir = self.make_temp_dir()
    data_flags = [f"--data_dir={test_case.test_data_dir()}"] if test_case.test_data_dir() else []
    common = ["--model=svg_lp", "--dataset=smmnist", f"--workdir={workdir}", "--quick",
              "--batch_size=2", *data_flags, *TINY_OVERRIDES]
    result = run_train(*common, "--steps=2")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    for name in ("config.json", "model_summary.json", "checkpoints/ckpt-2.index",
                 "samples/step_00000002.png", "samples/samples.gif"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    self.assertTrue(os.listdir(os.path.join(workdir, "train")))
    with open(os.path.join(workdir, "config.json")) as f:
      config = json.load(f)
    self.assertEqual(config["train"]["batch_size"], 2)
    self.assertEqual(config["model"]["z_dim"], 3)
    # Rerunning the same command with more steps resumes from step 2.
    result = run_train(*common, "--steps=3")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn("Resumed from", result.stderr)
    self.assertTrue(os.path.exists(os.path.join(workdir, "checkpoints/ckpt-3.index")))

  def test_trains_and_resumes_drnet(self):
    workdir = self.make_temp_dir()
    data_flags = [f"--data_dir={test_case.test_data_dir()}"] if test_case.test_data_dir() else []
    common = ["--model=drnet", "--dataset=mnist", f"--workdir={workdir}", "--quick",
              "--batch_size=4", *data_flags, *DRNET_TINY_OVERRIDES]
    result = run_train(*common, "--steps=2")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    for name in ("config.json", "model_summary.json", "checkpoints/ckpt-2.index",
                 "samples/step_00000002.png", "samples/samples.gif"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    with open(os.path.join(workdir, "model_summary.json")) as f:
      summary = json.load(f)
    self.assertEqual(set(summary["trainable_parameters"]),
                     {"content_encoder", "pose_encoder", "decoder", "scene_discriminator"})
    with open(os.path.join(workdir, "config.json")) as f:
      config = json.load(f)
    self.assertEqual((config["model"]["name"], config["data"]["name"]), ("drnet", "mnist"))
    self.assertEqual(config["model"]["pose_dim"], 3)
    result = run_train(*common, "--steps=3")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn("Resumed from", result.stderr)
    self.assertIn("(step 2)", result.stderr)
    self.assertTrue(os.path.exists(os.path.join(workdir, "checkpoints/ckpt-3.index")))

  @test_case.parameterized.named_parameters(
      # Each case starts TensorFlow in a subprocess; the config checks themselves are
      # unit-tested in tests/utils/config_loader_test.py.
      ("unknown_model", ["--model=svg_xx", "--dataset=smmnist"],
       "Unknown model 'svg_xx'; valid models: .*svg_det, svg_fp, svg_lp"),
      ("unknown_dataset", ["--model=svg_lp", "--dataset=ucf"],
       "Unknown dataset 'ucf'; valid datasets: .*smmnist"),
      ("unknown_field", ["--model=svg_lp", "--dataset=smmnist", "--config.model.zdim=3"],
       "no field 'model.zdim'"),
      ("wrong_type", ["--model=svg_lp", "--dataset=smmnist", "--config.model.z_dim=big"],
       "'model.z_dim' is a int, got 'big'"),
      ("bad_prior", ["--model=svg_lp", "--dataset=smmnist", "--config.model.prior=gauss"],
       "Unknown prior 'gauss'"),
      ("bad_steps", ["--model=svg_lp", "--dataset=smmnist", "--steps=0"],
       "steps and batch_size must be >= 1"),
      ("unknown_variant", ["--model=svg_lp", "--dataset=smmnist", "--variant=fast"],
       "Unknown variant 'fast'; valid: None, 'quick', 'repro'"),
      ("quick_and_variant", ["--model=svg_lp", "--dataset=smmnist", "--quick",
                             "--variant=repro"], "--quick and --variant=repro contradict"),
      ("unknown_precision", ["--model=svg_lp", "--dataset=smmnist", "--precision=fp8"],
       "Unknown precision 'fp8'; valid: float32, mixed_bfloat16, mixed_float16, auto"),
      ("unknown_jit_compile", ["--model=svg_lp", "--dataset=smmnist",
                               "--config.train.jit_compile=xla"],
       "Unknown jit_compile 'xla'; valid: auto, true, false"),
      ("unknown_precision_field", ["--model=svg_lp", "--dataset=smmnist",
                                   "--config.train.precision=half"],
       "Unknown precision 'half'; valid: float32, mixed_bfloat16, mixed_float16, auto"),
      ("bad_frame_sampling", ["--model=drnet", "--dataset=mnist",
                              "--config.data.frame_sampling=pairs"],
       "Unknown config.data.frame_sampling 'pairs'; valid: thesis, consecutive, independent"),
  )
  def test_bad_input_fails_before_training(self, args, message):
    workdir = self.make_temp_dir()
    result = run_train(*args, f"--workdir={workdir}")
    self.assertNotEqual(result.returncode, 0)
    self.assertRegex(result.stderr, message)
    self.assertFalse(os.path.exists(os.path.join(workdir, "checkpoints")))

  def test_bad_data_dir(self):
    workdir = self.make_temp_dir()
    result = run_train("--model=svg_lp", "--dataset=smmnist", f"--workdir={workdir}",
                       "--data_dir=/nonexistent/mnist.npz", "--quick", "--steps=1")
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("/nonexistent/mnist.npz", result.stderr)
    self.assertFalse(os.path.exists(os.path.join(workdir, "checkpoints")))

  @test_case.parameterized.named_parameters(("svg_lp", "svg_lp"), ("drnet", "drnet"))
  def test_unprepared_kth_names_the_prepare_command(self, model):
    # No --data_dir: KTH is looked for in $TFGEN_DATA_DIR/kth_64, here an empty directory.
    data_root = self.make_temp_dir()
    workdir = self.make_temp_dir()
    with mock.patch.dict(os.environ, {"TFGEN_DATA_DIR": data_root}):
      result = run_train(f"--model={model}", "--dataset=kth", f"--workdir={workdir}",
                         "--quick", "--steps=1")
    self.assertNotEqual(result.returncode, 0)
    data_dir = os.path.join(data_root, "kth_64")
    self.assertIn(f"KTH is not prepared in {data_dir}", result.stderr)
    self.assertIn(f"python -m tfgen.bin.prepare --dataset=kth --raw_dir=<directory with the "
                  f"KTH zips and 00sequences.txt> --out_dir={data_dir} --image_size=64",
                  result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    self.assertFalse(os.path.exists(os.path.join(workdir, "checkpoints")))
