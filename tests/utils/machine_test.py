"""Tests of `tfgen.utils.machine`: CPU flags, precision choice, peak and FLOP counts."""

import os
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.utils import machine

_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: {model}
flags\t\t: fpu sse sse2 avx fma {flags}

processor\t: 1
model name\t: {model}
flags\t\t: fpu sse sse2 avx fma {flags}
"""


def _info(flags):
  return {"model": "Test CPU", "cores": 2,
          "flags": {f: f in flags for f in machine.CPU_FLAGS}}


class MachineTest(test_case.TestCase):

  def _cpuinfo(self, model, flags):
    path = os.path.join(self.make_temp_dir(), "cpuinfo")
    with open(path, "w") as f:
      f.write(_CPUINFO.format(model=model, flags=flags))
    return path

  def test_cpu_info_reads_model_and_flags(self):
    info = machine.cpu_info(self._cpuinfo("AMD EPYC 9R14", "avx2 avx512f avx512_bf16 avx512_vnni"))
    self.assertEqual(info["model"], "AMD EPYC 9R14")
    self.assertEqual(info["flags"], {"avx2": True, "avx512f": True, "avx512_bf16": True,
                                     "amx_bf16": False})
    self.assertGreaterEqual(info["cores"], 1)
    line = machine.describe(info)
    self.assertIn("AMD EPYC 9R14", line)
    self.assertIn("avx512_bf16=yes amx_bf16=no", line)
    self.assertIn("oneDNN", line)
    avx2 = machine.cpu_info(self._cpuinfo("AMD EPYC 7B13", "avx2"))
    self.assertEqual(avx2["flags"], {"avx2": True, "avx512f": False, "avx512_bf16": False,
                                     "amx_bf16": False})

  @mock.patch.object(machine, "_gpus_with_bfloat16", return_value=[])
  def test_auto_precision_follows_the_hardware(self, _):
    for flags, policy in ((["avx2", "avx512f", "avx512_bf16"], "mixed_bfloat16"),
                          (["avx2", "amx_bf16"], "mixed_bfloat16"),
                          (["avx2", "avx512f"], "float32"),
                          (["avx2"], "float32")):
      chosen = machine.resolve_precision("auto", _info(flags))
      self.assertEqual(chosen.policy, policy, flags)
      self.assertRegex(chosen.reason, f"^precision=auto chose {policy}: ")
      self.assertFalse(chosen.slow)
    # Asked for explicitly, bfloat16 is kept; without bfloat16 units with a warning.
    emulated = machine.resolve_precision("mixed_bfloat16", _info(["avx2"]))
    self.assertEqual(emulated.policy, "mixed_bfloat16")
    self.assertTrue(emulated.slow)
    self.assertIn("slower than float32", emulated.reason)
    self.assertIn("avx512_bf16 or amx_bf16", emulated.reason)
    self.assertFalse(machine.resolve_precision("mixed_bfloat16", _info(["avx512_bf16"])).slow)
    self.assertEqual(machine.resolve_precision("float32", _info([])).policy, "float32")

  @mock.patch.object(machine, "_gpus_with_bfloat16", return_value=["/physical_device:GPU:0"])
  def test_auto_precision_on_a_bfloat16_gpu(self, _):
    chosen = machine.resolve_precision("auto", _info(["avx2"]))
    self.assertEqual(chosen.policy, "mixed_bfloat16")
    self.assertIn("GPU", chosen.reason)

  @mock.patch.object(machine, "_has_gpu", return_value=False)
  def test_auto_jit_compile_follows_the_cpu(self, _):
    use_xla, reason = machine.resolve_jit_compile("auto", _info(["avx2", "avx512f"]))
    self.assertFalse(use_xla)
    self.assertIn("AVX-512", reason)
    self.assertTrue(machine.resolve_jit_compile("auto", _info(["avx2"]))[0])
    for value, expected in ((True, True), (False, False), ("true", True), ("False", False)):
      self.assertEqual(machine.resolve_jit_compile(value, _info(["avx512f"]))[0], expected)
    with self.assertRaisesRegex(ValueError, "Unknown jit_compile 'xla'; valid: auto, true, "
                                "false"):
      machine.resolve_jit_compile("xla")

  @mock.patch.object(machine, "_has_gpu", return_value=True)
  def test_auto_jit_compile_on_a_gpu(self, _):
    self.assertTrue(machine.resolve_jit_compile("auto", _info(["avx512f"]))[0])

  def test_unknown_precision_lists_the_valid_ones(self):
    with self.assertRaisesRegex(
        ValueError, "Unknown precision 'fp16'; valid: float32, mixed_bfloat16, "
        "mixed_float16, auto"):
      machine.resolve_precision("fp16")

  def test_graph_flops_counts_matmuls_and_convolutions(self):
    a, b = tf.zeros((6, 7)), tf.zeros((7, 5))
    matmul = tf.function(tf.matmul).get_concrete_function(a, b)
    self.assertEqual(machine.graph_flops(matmul), 2 * 6 * 7 * 5)
    x, k = tf.zeros((2, 8, 8, 3)), tf.zeros((4, 4, 3, 5))
    conv = tf.function(lambda x, k: tf.nn.conv2d(x, k, 2, "SAME")).get_concrete_function(x, k)
    self.assertEqual(machine.graph_flops(conv), 2 * (2 * 4 * 4 * 5) * (4 * 4 * 3))

  def test_peak_is_a_plausible_rate(self):
    peak = machine.measure_peak("float32", size=128, repeats=2)
    self.assertTrue(np.isfinite(peak))
    self.assertGreater(peak, 1e7)  # Any CPU of this century multiplies faster.
    self.assertLess(peak, 1e15)
    lines = machine.header_lines({"float32": 4.4e11, "bfloat16": 7.7e11})
    self.assertEqual(lines[1].split()[:2], ["peak_gflops_float32=440.0",
                                            "peak_gflops_bfloat16=770.0"])
    self.assertAlmostEqual(machine.fraction_of_peak(2.2e11, {"float32": 4.4e11}), 0.5)
    self.assertAlmostEqual(
        machine.fraction_of_peak(3.85e11, {"float32": 4.4e11, "bfloat16": 7.7e11},
                                 "mixed_bfloat16"), 0.5)


if __name__ == "__main__":
  tf.test.main()
