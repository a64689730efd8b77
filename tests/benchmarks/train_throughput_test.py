"""Smoke test of `benchmarks/train_throughput.py`: one quick-config step, no reference."""

import importlib.util
import os
import re

import tensorflow as tf

from tests import test_case

_SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks",
                       "train_throughput.py")


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


if __name__ == "__main__":
  tf.test.main()
