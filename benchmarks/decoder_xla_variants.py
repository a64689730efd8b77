r"""DCGAN-64 decoder fwd+bwd under XLA: tfgen's default against variants of its transposed convs.

    python benchmarks/decoder_xla_variants.py [--batch=240] [--repeats=3]

Every variant is the same `DCGANDecoder` (nf 64, 1 channel, skips) trained one step
(fwd + gradients w.r.t. the input vector and all variables) in a `tf.function(jit_compile=True)`;
the variants are timed interleaved in one process, `--repeats` times, and the medians printed:

- `default`: what tfgen builds (`FastConv2DTranspose` "auto": phase forward at <= 8x8
  inputs, phase kernel gradient at 4x4, and under XLA the input gradient as the
  space-to-depth conv of `tfgen/layers/fast_conv.py`);
- `tf_input_grad`: the same, with the input gradient as TF's `conv2d(dy, kernel, 2, "SAME")`
  (`conv_transpose(..., input_grad="reference")`, what tfgen did before);
- `phase_4x4_only`, `never_phase`: other choices of `auto_choice` (phase forward only at 4x4,
  or never).

The last line is `default_vs_tf_input_grad=<ratio>` (tf_input_grad time / default time).
"""

import argparse
import functools
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from tfgen.layers import fast_conv_transpose  # pylint: disable=wrong-import-position
from tfgen.layers.dcgan_decoder import DCGANDecoder  # pylint: disable=wrong-import-position


def _auto(max_phase_pixels):
  def choice(h, w):
    return ("phase" if h * w <= max_phase_pixels else "reference",
            "phase" if h * w <= min(16, max_phase_pixels) else "reference")
  return choice


VARIANTS = {
    "default": {},
    "tf_input_grad": {"conv_transpose": functools.partial(
        fast_conv_transpose.conv_transpose, input_grad="reference")},
    "phase_4x4_only": {"auto_choice": _auto(16)},
    "never_phase": {"auto_choice": _auto(0)},
}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=240)
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  machine.print_header(lambda line: print(line, flush=True))
  b = args.batch
  skips = [tf.random.uniform([b, 64 // 2**(i + 1), 64 // 2**(i + 1), 64 * m])
           for i, m in enumerate((1, 2, 4, 8))]
  g = tf.random.normal([b, 128])
  originals = {name: getattr(fast_conv_transpose, name)
               for name in ("conv_transpose", "auto_choice")}
  steps = {}
  for name, patches in VARIANTS.items():
    for attr, value in {**originals, **patches}.items():
      setattr(fast_conv_transpose, attr, value)
    net = DCGANDecoder()
    net((g, skips), training=True)

    def step(g, skips, net=net):
      with tf.GradientTape() as tape:
        tape.watch(g)
        loss = tf.reduce_mean(tf.square(net((g, skips), training=True)))
      return tape.gradient(loss, [g, net.trainable_variables])

    steps[name] = tf.function(step, jit_compile=True)
    t = time.perf_counter()
    steps[name](g, skips)  # Traced (with the patches in place) and compiled.
    print(f"{name}: compiled in {time.perf_counter() - t:.1f} s", flush=True)
  for attr, value in originals.items():
    setattr(fast_conv_transpose, attr, value)
  times = {name: [] for name in steps}
  for _ in range(args.repeats):
    for name, fn in steps.items():
      t = time.perf_counter()
      tf.nest.map_structure(lambda x: x.numpy(), fn(g, skips))
      times[name].append(time.perf_counter() - t)
  for name, values in times.items():
    print(f"{name}: median {np.median(values):.3f} s  "
          f"({', '.join(f'{v:.3f}' for v in values)})", flush=True)
  print(f"default_vs_tf_input_grad="
        f"{np.median(times['tf_input_grad']) / np.median(times['default']):.3f}")


if __name__ == "__main__":
  main()
