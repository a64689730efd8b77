r"""This machine's CPU and its measured matmul peak, the yardstick of every benchmark.

    python benchmarks/peak_flops.py [--size=2048 --repeats=10]

Prints the CPU model, its cores and the flags that decide TensorFlow's kernels (avx2,
avx512f, avx512_bf16, amx_bf16), TF's oneDNN setting, whether bfloat16 is native here (what
`--precision=auto` would choose), and the best float32 and bfloat16 `tf.matmul` rates of
two `(size, size)` matrices. Every other benchmark prints the same header through
`tfgen.utils.machine` and reports the FLOP/s it reached as a fraction of these peaks.
Prints, as the LAST line, `peak_gflops_float32=<float>`.
"""

from absl import app
from absl import flags

flags.DEFINE_integer("size", 2048, "Matrix size of the timed matmuls.")
flags.DEFINE_integer("repeats", 10, "Timed matmuls per dtype; the best is reported.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from tfgen.utils import machine
  peaks = machine.measure_peaks(FLAGS.size, FLAGS.repeats)
  for line in machine.header_lines(peaks):
    print(line)
  print(machine.resolve_precision("auto").reason)
  print(f"bfloat16_over_float32={peaks['bfloat16'] / peaks['float32']:.2f}")
  print(f"peak_gflops_float32={peaks['float32'] / 1e9:.1f}")


if __name__ == "__main__":
  app.run(main)
