"""Tests of `benchmarks/parzen_throughput.py` on tiny sizes."""

import importlib.util
import os
import re

from tests import test_case

_SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks",
                       "parzen_throughput.py")


def _load_benchmark():
  spec = importlib.util.spec_from_file_location("parzen_throughput", _SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


class ParzenThroughputTest(test_case.TestCase):

  def test_tiny_run_reports_throughput_precision_and_fraction_last(self):
    lines = []
    fractions = _load_benchmark().run(
        num_images=60, num_samples=120, dimensions=[12, 30], batch_sizes=[20, 60],
        chunk_size=50, check_images=30, repeats=1, peak_size=128, out=lines.append)
    self.assertEqual(set(fractions), {(12, 20), (12, 60), (30, 20), (30, 60)})
    self.assertTrue(lines[0].startswith("cpu: "))
    self.assertRegex(lines[-1], r"^fraction_of_float32_peak=\d+\.\d+$")
    self.assertAlmostEqual(float(lines[-1].split("=")[1]),
                           max(fractions[(30, 20)], fractions[(30, 60)]), places=3)
    precision = [line for line in lines if "float32_vs_float64" in line]
    self.assertLen(precision, 2)
    for line in precision:
      difference = float(re.search(r"max_abs_diff_nats=(\S+)", line).group(1))
      self.assertLess(difference, 1e-3)
    self.assertLen([line for line in lines if "images_per_second=" in line], 4)


if __name__ == "__main__":
  test_case.tf.test.main()
