"""Timings of the formulations of the DCGAN (de)convolutions on CPU.

Per layer: each formulation of `tfgen.layers.fast_conv_transpose` (4x4 stride-2 "same"
transposed conv) at the DCGAN-64 decoder shapes and of `tfgen.layers.fast_conv` (4x4
stride-2 "same" conv) at the encoder shapes, forward ("fwd") and forward + gradients
w.r.t. input and kernel ("fwd+bwd"), float32 and bfloat16, with and without XLA.
Whole network (`--whole`): `DCGANDecoder` / `DCGANEncoder` (64x64, 1 channel, nf 64)
fwd+bwd (gradients w.r.t. the variables and the decoder's inputs), built with the Keras
layers ("keras") and with the fast layers ("fast"), under the "float32" or
"mixed_bfloat16" policy.

Times are medians of `--repeats` runs after one warm-up run (which includes tracing and
XLA compilation); if the warm-up takes more than `--max_seconds`, the warm-up time is
reported instead (marked "*").

  TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/conv_formulations.py [--batch 240]
      [--repeats 3] [--dtypes float32,bfloat16] [--xla 0,1] [--ops transpose,conv]
      [--modes fwd,fwd+bwd] [--formulations phase_cg,reference] [--whole] [--no_layers]
"""

import argparse
import contextlib
import statistics
import time

import keras
import tensorflow as tf

from tfgen.layers import common
from tfgen.layers import fast_conv
from tfgen.layers import fast_conv_transpose

# (h, in_channels, filters) per layer, batch `--batch`.
DECODER_SHAPES = ((4, 1024, 256), (8, 512, 128), (16, 256, 64), (32, 128, 1))
ENCODER_SHAPES = ((64, 1, 64), (32, 64, 128), (16, 128, 256), (8, 256, 512))


def _time(fn, args, repeats, max_seconds):
  """Median wall time of `fn(*args)` (outputs fetched) after one warm-up; (seconds, note)."""
  start = time.perf_counter()
  [t.numpy() for t in tf.nest.flatten(fn(*args))]
  warmup = time.perf_counter() - start
  if warmup > max_seconds:
    return warmup, "*"
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    [t.numpy() for t in tf.nest.flatten(fn(*args))]
    times.append(time.perf_counter() - start)
  return statistics.median(times), ""


def _layer_fn(function, mode, xla):
  """tf.function of `function(x, kernel)` (fwd) or its output and input/kernel gradients."""
  if mode == "fwd":
    return tf.function(function, jit_compile=xla)

  def fwd_bwd(x, kernel, dy):
    with tf.GradientTape() as tape:
      tape.watch([x, kernel])
      y = function(x, kernel)
    return [y] + tape.gradient(y, [x, kernel], output_gradients=dy)

  return tf.function(fwd_bwd, jit_compile=xla)


def bench_layers(args):
  """Per-layer timings; returns {(op, shape, dtype, xla, mode, formulation): seconds}."""
  results = {}
  ops = {
      "transpose": (DECODER_SHAPES, fast_conv_transpose._FUNCTIONS, 2.0),
      "conv": (ENCODER_SHAPES, fast_conv._FUNCTIONS, 0.5),
  }
  for op in args.ops:
    shapes, functions, scale = ops[op]
    for h, cin, cout in shapes:
      out_h = int(h * scale)
      for dtype in args.dtypes:
        x = tf.cast(tf.random.normal([args.batch, h, h, cin]), dtype)
        kshape = [4, 4, cout, cin] if op == "transpose" else [4, 4, cin, cout]
        kernel = tf.cast(tf.random.normal(kshape, stddev=0.02), dtype)
        dy = tf.cast(tf.random.normal([args.batch, out_h, out_h, cout]), dtype)
        for xla in args.xla:
          for mode in args.modes:
            for name, function in functions.items():
              if args.formulations and name not in args.formulations:
                continue
              fn = _layer_fn(function, mode, xla)
              fn_args = (x, kernel) if mode == "fwd" else (x, kernel, dy)
              seconds, note = _time(fn, fn_args, args.repeats, args.max_seconds)
              results[(op, (h, cin, cout), dtype, xla, mode, name)] = seconds
              print(f"{op:9s} {h:2d}x{h:<2d}x{cin:<4d}->{out_h:2d}x{out_h:<2d}x{cout:<3d} "
                    f"{dtype:8s} xla={int(xla)} {mode:7s} {name:9s} {seconds:8.3f}s{note}",
                    flush=True)
  return results


def bench_whole(args):
  """Whole DCGAN-64 decoder / encoder fwd+bwd; returns {(net, policy, xla, impl): s}."""
  from tfgen.layers.dcgan_decoder import DCGANDecoder  # pylint: disable=g-import-not-at-top
  from tfgen.layers.dcgan_encoder import DCGANEncoder  # pylint: disable=g-import-not-at-top
  results = {}
  b = args.batch
  skips = [tf.random.uniform([b, 64 // 2**(i + 1), 64 // 2**(i + 1), 64 * m])
           for i, m in enumerate((1, 2, 4, 8))]
  g = tf.random.normal([b, 128])
  frames = tf.random.uniform([b, 64, 64, 1])
  for policy in args.policies:
    keras.mixed_precision.set_dtype_policy(policy)
    for impl in ("keras", "fast"):
      # tfgen's factories build the fast layers for the DCGAN shapes by default.
      with contextlib.nullcontext() if impl == "fast" else common.keras_layers():
        nets = {"decoder": DCGANDecoder(), "encoder": DCGANEncoder()}
      for net_name, net in nets.items():
        if net_name not in args.nets:
          continue
        inputs = (g, skips) if net_name == "decoder" else frames
        net(inputs, training=True)
        for xla in args.xla:

          def step(inputs, net=net):
            with tf.GradientTape() as tape:
              tape.watch(inputs)
              out = net(inputs, training=True)
              out = out if net_name == "decoder" else out[0]
              loss = tf.reduce_mean(tf.square(tf.cast(out, tf.float32)))
            return tape.gradient(loss, [inputs, net.trainable_variables])

          fn = tf.function(step, jit_compile=xla)
          seconds, note = _time(fn, (inputs,), args.repeats, args.max_seconds)
          results[(net_name, policy, xla, impl)] = seconds
          print(f"whole {net_name:7s} {policy:14s} xla={int(xla)} fwd+bwd {impl:5s} "
                f"{seconds:8.3f}s{note}", flush=True)
  keras.mixed_precision.set_dtype_policy("float32")
  return results


def _summary(layer_results, whole_results):
  """One line: the fwd+bwd speed-up of the default formulations over Keras."""
  parts = []
  defaults = {"transpose": "phase_cg", "conv": "s2d"}
  keys = {(op, dtype, xla) for op, _, dtype, xla, mode, _ in layer_results if mode == "fwd+bwd"}
  for op, dtype, xla in sorted(keys):
    total = {}
    for name in ("reference", defaults[op]):
      sel = [s for (o, _, d, x, m, n), s in layer_results.items()
             if (o, d, x, m, n) == (op, dtype, xla, "fwd+bwd", name)]
      total[name] = sum(sel) if sel else None
    if all(total.values()):
      parts.append(f"{op}/{dtype}/xla{int(xla)} {total['reference']:.2f}->"
                   f"{total[defaults[op]]:.2f}s")
  for (net, policy, xla, impl), seconds in sorted(whole_results.items()):
    if impl == "fast" and (net, policy, xla, "keras") in whole_results:
      parts.append(f"{net}/{policy}/xla{int(xla)} "
                   f"{whole_results[(net, policy, xla, 'keras')]:.2f}->{seconds:.2f}s")
  print("SUMMARY fwd+bwd sum over layers (Keras -> fast): " + "; ".join(parts))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=240)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--max_seconds", type=float, default=30.0)
  parser.add_argument("--dtypes", default="float32,bfloat16")
  parser.add_argument("--policies", default="float32,mixed_bfloat16")
  parser.add_argument("--xla", default="0,1")
  parser.add_argument("--ops", default="transpose,conv")
  parser.add_argument("--modes", default="fwd,fwd+bwd")
  parser.add_argument("--formulations", default="")
  parser.add_argument("--nets", default="decoder,encoder")
  parser.add_argument("--whole", action="store_true", help="Also time the whole networks.")
  parser.add_argument("--no_layers", action="store_true", help="Skip the per-layer timings.")
  args = parser.parse_args()
  args.dtypes = args.dtypes.split(",")
  args.policies = args.policies.split(",")
  args.xla = [bool(int(v)) for v in args.xla.split(",")]
  args.ops = args.ops.split(",")
  args.modes = args.modes.split(",")
  args.formulations = [f for f in args.formulations.split(",") if f]
  args.nets = args.nets.split(",")
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  machine.print_header(lambda line: print(line, flush=True))
  print(f"TF {tf.__version__}, Keras {keras.__version__}, batch {args.batch}, "
        f"median of {args.repeats}", flush=True)
  layer_results = {} if args.no_layers else bench_layers(args)
  whole_results = bench_whole(args) if args.whole else {}
  _summary(layer_results, whole_results)


if __name__ == "__main__":
  main()
