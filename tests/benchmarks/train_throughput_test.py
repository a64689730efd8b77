"""Tests of `benchmarks/train_throughput.py`: one quick-config step per family, no reference;
with PyTorch and a drnet-py checkout (`$DRNET_PY_DIR`, default /tmp/ref/drnet-py), one
reference iteration of DrNET at a small batch, in a subprocess (PyTorch must be imported
before TensorFlow, which this test process has already loaded)."""

import importlib.util
import os
import re
import subprocess
import sys
import unittest

import tensorflow as tf

from tests import test_case

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_SCRIPT = os.path.join(_ROOT, "benchmarks", "train_throughput.py")
_DRNET_PY = os.environ.get("DRNET_PY_DIR", "/tmp/ref/drnet-py")
_HAVE_TORCH = importlib.util.find_spec("torch") is not None
_HAVE_DRNET_PY = os.path.isfile(os.path.join(_DRNET_PY, "models", "dcgan_64.py"))


def _load_benchmark():
  """Imports the script as a module (its flags are only defined when run as a script)."""
  spec = importlib.util.spec_from_file_location("train_throughput", _SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


class TrainThroughputTest(test_case.TestCase):

  def test_quick_config_prints_sequences_per_second_last(self):
    benchmark = _load_benchmark()
    lines = []
    # Without XLA: compiling the step would take most of a minute on 2 CPUs.
    results = benchmark.run(model="svg_lp", dataset="smmnist", batch_size=4,
                            precision="float32", jit_compile=False, warmup_steps=1,
                            steps=1, repeats=1, quick=True, out=lines.append)
    self.assertRegex(lines[-1], r"^sequences_per_second=\d+(\.\d+)?$")
    value = float(re.match(r"sequences_per_second=(.*)", lines[-1]).group(1))
    self.assertGreater(value, 0)
    self.assertAlmostEqual(value, results["tfgen"], places=2)
    self.assertTrue(any(line.startswith("tfgen_sequences_per_second=") for line in lines))
    self.assertFalse(any(line.startswith("speedup=") for line in lines))
    self.assertNotIn("reference", results)

  def test_reference_needs_the_full_size_dcgan(self):
    benchmark = _load_benchmark()
    config = benchmark.load_config("svg_lp", "smmnist", 4, "float32", False, quick=True)
    with self.assertRaisesRegex(ValueError, "64 base filters"):
      benchmark.ReferenceStep("/nonexistent", config, batches=[])

  def test_drnet_quick_config_one_step(self):
    benchmark = _load_benchmark()
    lines = []
    # The config's own jit_compile (False for DrNET).
    results = benchmark.run(model="drnet", dataset="mnist", batch_size=4,
                            precision="float32", warmup_steps=1, steps=1, repeats=1,
                            quick=True, peak_size=256, out=lines.append)
    self.assertRegex(lines[-1], r"^sequences_per_second=\d+(\.\d+)?$")
    self.assertGreater(results["tfgen"], 0)
    self.assertIn("jit_compile=False", "\n".join(lines))
    self.assertTrue(any(line.startswith("tfgen_gflop_per_step=") for line in lines))
    self.assertNotIn("reference", results)

  def test_drnet_reference_needs_the_full_size_networks(self):
    benchmark = _load_benchmark()
    config = benchmark.load_config("drnet", "mnist", 4, "float32", False, quick=True)
    self.assertIs(benchmark.REFERENCE_STEPS[config.model.name], benchmark.DrNetReferenceStep)
    with self.assertRaisesRegex(ValueError, "64 base filters"):
      benchmark.DrNetReferenceStep("/nonexistent", config, batches=[])

  @unittest.skipUnless(_HAVE_TORCH, "needs PyTorch")
  @unittest.skipUnless(_HAVE_DRNET_PY, f"needs a drnet-py checkout at {_DRNET_PY}")
  def test_drnet_reference_iteration_and_parameter_counts(self):
    # The whole benchmark at batch 4, one timed step per side, in a fresh process.
    result = subprocess.run(
        [sys.executable, _SCRIPT, "--model=drnet", "--dataset=mnist", "--batch_size=4",
         "--warmup_steps=0", "--steps=1", "--repeats=1", "--peak_size=256",
         f"--reference_dir={_DRNET_PY}", "--reference_threads=1"],
        capture_output=True, text=True, cwd=_ROOT, timeout=600, check=False,
        env=dict(os.environ, PYTHONPATH=_ROOT))
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    lines = result.stdout.splitlines()
    # DRNET_FACTS §3, "mnist_thesis": E_c, E_p, D, C.
    expected = {"content_encoder": 3807424, "pose_encoder": 2799439, "decoder": 3848003,
                "scene_discriminator": 11301}
    self.assertIn(f"reference parameters: {expected}", result.stdout)
    self.assertIn("parameter counts match the reference", lines)
    self.assertTrue(any(re.match(r"reference repeat 0: \d+\.\d+ s/step", line)
                        for line in lines))
    self.assertTrue(any(re.match(r"reference_gflop_per_step=\d+", line) for line in lines))
    self.assertTrue(any(re.match(r"speedup=\d+(\.\d+)?$", line) for line in lines))
    self.assertRegex(lines[-1], r"^sequences_per_second=\d+(\.\d+)?$")


if __name__ == "__main__":
  tf.test.main()
