"""What machine this is: CPU flags, native bfloat16, the measured matmul peak, graph FLOPs.

Used by the trainer (`precision="auto"`) and by every benchmark, which prints
`describe()` and `measure_peaks()` and reports the FLOP/s it reached as a fraction of the
peak (`benchmarks/peak_flops.py` runs them alone).
"""

import dataclasses
import os
import platform
import time

import numpy as np

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")

# The CPU flags that decide which kernels TensorFlow's oneDNN runs.
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_info(cpuinfo_path="/proc/cpuinfo"):
  """`{"model": str, "cores": int, "flags": {flag: bool for CPU_FLAGS}}` of this CPU."""
  model, flags = platform.processor() or platform.machine(), set()
  try:
    with open(cpuinfo_path) as f:
      for line in f:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model in ("", platform.machine(), platform.processor()):
          model = value.strip()
        elif key == "flags" and not flags:
          flags = set(value.split())
  except OSError:
    pass
  cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
  return {"model": model, "cores": cores, "flags": {f: f in flags for f in CPU_FLAGS}}


def onednn_setting():
  """TensorFlow's oneDNN setting: `TF_ENABLE_ONEDNN_OPTS` or its x86 Linux default (on)."""
  value = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
  if value is None:
    return "on (default)"
  return f"{'on' if value.strip().lower() in ('1', 'true') else 'off'} (TF_ENABLE_ONEDNN_OPTS={value})"


def describe(info=None):
  """One line naming the CPU, its cores and flags, and TF's oneDNN setting."""
  info = info or cpu_info()
  flags = " ".join(f"{name}={'yes' if present else 'no'}"
                   for name, present in info["flags"].items())
  return f"cpu: {info['model']}, {info['cores']} cores, {flags}; oneDNN {onednn_setting()}"


def _gpus_with_bfloat16():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  names = []
  for gpu in tf.config.list_physical_devices("GPU"):
    capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
    if capability and capability >= (8, 0):  # Ampere and later have bfloat16 tensor cores.
      names.append(gpu.name)
  return names


def native_bfloat16(info=None):
  """`(bool, reason)`: does this machine compute bfloat16 natively (not emulated)?"""
  gpus = _gpus_with_bfloat16()
  if gpus:
    return True, f"GPU with bfloat16 units ({', '.join(gpus)})"
  info = info or cpu_info()
  present = [f for f in BF16_CPU_FLAGS if info["flags"].get(f)]
  if present:
    return True, f"CPU with bfloat16 instructions ({', '.join(present)})"
  return False, (f"no GPU with bfloat16 units and a CPU without {' or '.join(BF16_CPU_FLAGS)} "
                 f"({info['model']}): bfloat16 is emulated there, slower than float32")


@dataclasses.dataclass(frozen=True)
class Precision:
  """What `resolve_precision` chose: the Keras `policy`, the `reason` to log, and whether
  bfloat16 was asked for on a machine that only emulates it (`slow`: log a warning)."""
  policy: str
  reason: str
  slow: bool = False


def resolve_precision(precision, info=None):
  """The Keras dtype policy for `precision` and why.

  Args:
    precision: one of `PRECISIONS`; "auto" picks mixed_bfloat16 where the hardware has
      bfloat16 units (AVX512_BF16 / AMX CPUs, GPUs of compute capability >= 8.0) and
      float32 elsewhere.
    info: `cpu_info()` (tests pass a fake one).

  Returns:
    a `Precision`.

  Raises:
    ValueError: an unknown precision.
  """
  if precision not in PRECISIONS:
    raise ValueError(f"Unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}.")
  native, reason = native_bfloat16(info)
  if precision == "auto":
    policy = "mixed_bfloat16" if native else "float32"
    return Precision(policy, f"precision=auto chose {policy}: {reason}.")
  if precision == "mixed_bfloat16" and not native:
    return Precision(precision, "precision=mixed_bfloat16 on a machine without bfloat16 "
                     f"units works but will be slower than float32, not faster: {reason}.",
                     slow=True)
  return Precision(precision, f"precision={precision} (as asked).")


JIT_COMPILE_VALUES = ("auto", True, False)


def resolve_jit_compile(value, info=None):
  """Whether to XLA-compile the training step, and why.

  Args:
    value: True / False (or their strings "true" / "false", as a `--config` override
      gives them), or "auto": XLA on GPUs and on CPUs without AVX-512, TensorFlow's own
      (oneDNN) kernels on CPUs with AVX-512. Measured for SVG-LP (full size, batch 16,
      `benchmarks/train_throughput.py`): XLA makes the step ~1.7x faster on a 2-core AVX2
      EPYC, and ~1.4x (float32) to 1.7x (mixed bfloat16) slower on a 2-core AVX-512 EPYC,
      where oneDNN's AVX-512 and AVX512_BF16 convolutions beat XLA's CPU code.
    info: `cpu_info()` (tests pass a fake one).

  Returns:
    `(bool, reason)`.

  Raises:
    ValueError: any other value.
  """
  text = str(value).strip().lower()
  if text in ("true", "false"):
    return text == "true", f"jit_compile={text} (as asked)."
  if text != "auto":
    raise ValueError(f"Unknown jit_compile {value!r}; valid: auto, true, false.")
  if _has_gpu():
    return True, "jit_compile=auto chose XLA: a GPU."
  info = info or cpu_info()
  if info["flags"].get("avx512f"):
    return False, ("jit_compile=auto chose TensorFlow's oneDNN kernels, not XLA: a CPU with "
                   "AVX-512, where they train faster.")
  return True, "jit_compile=auto chose XLA: a CPU without AVX-512, where XLA trains faster."


def _has_gpu():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return bool(tf.config.list_physical_devices("GPU"))


# ------------------------------------------------------------------------ FLOPs and peak


def measure_peak(dtype="float32", size=2048, repeats=10):
  """The best matmul throughput of TensorFlow on this machine, in FLOP/s.

  Times `tf.matmul` of two `(size, size)` matrices in `dtype` (2 size^3 FLOP each), inside
  one `tf.function`, `repeats` times after a warm-up, and returns the best rate: the peak a
  dense computation can reach here through TensorFlow's kernels (oneDNN on CPUs).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  dtype = tf.as_dtype(dtype)
  a = tf.cast(tf.random.stateless_normal((size, size), (1, 2)), dtype)
  b = tf.cast(tf.random.stateless_normal((size, size), (3, 4)), dtype)
  matmul = tf.function(lambda a, b: tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1],
                                                          tf.float32)))
  matmul(a, b).numpy()  # Warm-up (tracing, kernel selection, page faults).
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    matmul(a, b).numpy()
    best = min(best, time.perf_counter() - start)
  return 2.0 * size**3 / best


def measure_peaks(size=2048, repeats=10):
  """`{"float32": FLOP/s, "bfloat16": FLOP/s}` from `measure_peak`."""
  return {dtype: measure_peak(dtype, size, repeats) for dtype in ("float32", "bfloat16")}


def graph_flops(concrete_function):
  """FLOPs of one call of a traced `tf.function`, counted by TensorFlow's profiler.

  Counts the ops that register a FLOP statistic (convolutions and their gradients,
  matmuls, element-wise arithmetic): a model's nominal FLOPs (2 per multiply-add),
  whatever kernel or XLA fusion later runs them.
  """
  from tensorflow.python.profiler import model_analyzer  # pylint: disable=g-import-not-at-top
  from tensorflow.python.profiler import option_builder  # pylint: disable=g-import-not-at-top
  options = option_builder.ProfileOptionBuilder.float_operation()
  options["output"] = "none"
  return int(model_analyzer.profile(concrete_function.graph, options=options).total_float_ops)


def header_lines(peaks):
  """The lines every benchmark prints first: the machine and its measured peaks."""
  return [describe(),
          f"peak_gflops_float32={peaks['float32'] / 1e9:.1f} "
          f"peak_gflops_bfloat16={peaks['bfloat16'] / 1e9:.1f} "
          "(best tf.matmul rate; benchmarks/peak_flops.py)"]


def print_header(out=print, size=2048):
  """Measures the peaks and prints `header_lines` with `out`; returns the peaks."""
  peaks = measure_peaks(size=size)
  for line in header_lines(peaks):
    out(line)
  return peaks


def fraction_of_peak(flop_per_second, peaks, dtype="float32"):
  """`flop_per_second` as a fraction of the measured peak of `dtype`."""
  key = "bfloat16" if "bfloat16" in dtype else "float32"
  return float(flop_per_second) / float(peaks[key]) if peaks.get(key) else float(np.nan)
