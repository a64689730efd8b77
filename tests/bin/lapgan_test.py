"""End to end as a user runs it: train a quick LAPGAN on MNIST digits, generate, export."""

import json
import os

import pytest

from tests import test_case

TINY_OVERRIDES = [
    "--config.model.hidden_generator=3", "--config.model.hidden_discriminator=4",
    "--config.model.coarsest_generator_units=6", "--config.model.coarsest_discriminator_units=5",
    "--config.model.noise_dim=3", "--config.train.log_every=1",
    "--config.train.checkpoint_every=2", "--config.train.num_image_sequences=2",
    "--config.train.num_image_samples=1",
]


class LAPGANBinariesTest(test_case.TestCase):

  # 31 s of CPU, 89 s wall on a loaded 2-core machine (three subprocesses, each loading
  # TensorFlow); tests/models/lapgan/training_test.py runs the same path in-process.
  @pytest.mark.slow
  def test_train_generate_export(self):
    workdir = self.make_temp_dir()
    data_flags = [f"--data_dir={test_case.test_data_dir()}"] if test_case.test_data_dir() else []
    common = ["--model=lapgan", "--dataset=mnist_digits", f"--workdir={workdir}", "--quick",
              "--batch_size=8", *data_flags, *TINY_OVERRIDES]
    result = test_case.run_binary("tfgen.bin.train", *common, "--steps=2")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    for name in ("config.json", "checkpoints/ckpt-6.index", "level_0/checkpoints/ckpt-2.index",
                 "level_1/model_summary.json", "level_2/samples/step_00000002.png"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)

    output = os.path.join(self.make_temp_dir(), "pictures")
    result = test_case.run_binary("tfgen.bin.generate", f"--workdir={workdir}",
                                  f"--output_dir={output}", "--num_samples=2",
                                  "--num_sequences=2")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(sorted(os.listdir(output)),
                     ["chains.png", "interpolation.png", "redraws.png", "sample_pictures.txt",
                      "samples.png"])
    export_dir = self.make_temp_dir()
    result = test_case.run_binary("tfgen.bin.export", f"--workdir={workdir}",
                                  f"--export_dir={export_dir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    path = json.loads(result.stdout.strip().splitlines()[-1])["export_path"]
    self.assertEqual(path, os.path.join(export_dir, "lapgan", "1"))
    self.assertTrue(os.path.exists(os.path.join(path, "saved_model.pb")))


if __name__ == "__main__":
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.test.main()
