r"""Latency and throughput of an exported `serving_default`, as TF Serving would run it.

  python benchmarks/serving_latency.py [--export_dir=BASE/svg_lp/1] \
      [--batch_sizes=1,16] [--num_samples=100] [--num_future_frames=10]

Loads the SavedModel with `tf.saved_model.load` (no tfgen code on the serving path) and
times whole `serving_default` calls: median and p90 latency, clips/s and generated
frames/s per batch size. Without `--export_dir` it exports a randomly initialised
full-size SVG-LP (SM-MNIST config: DCGAN-64, g_dim 128, rnn_size 256, z_dim 10, 5 context
frames) to a temporary directory first. Each batch size runs one warm-up call, then
`--repeats` timed calls or as many as fit in `--max_seconds` (at least `--min_repeats`).
"""

import os
import tempfile
import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

flags.DEFINE_string("export_dir", None, "A SavedModel version directory; default: export "
                    "a randomly initialised full-size svg_lp.")
flags.DEFINE_list("batch_sizes", ["1", "16"], "Clips per request.")
flags.DEFINE_integer("num_samples", 100, "Futures per clip.")
flags.DEFINE_integer("num_future_frames", 10, "Frames per future.")
flags.DEFINE_integer("repeats", 20, "Timed calls per batch size (at most).")
flags.DEFINE_integer("min_repeats", 2, "Timed calls per batch size (at least).")
flags.DEFINE_float("max_seconds", 120.0, "Time budget of the timed calls per batch size.")
FLAGS = flags.FLAGS


def export_random_svg_lp(base):
  """Exports a randomly initialised full-size SVG-LP; returns its version directory."""
  from configs import svg_lp_smmnist  # pylint: disable=g-import-not-at-top
  from tfgen.export import exporter  # pylint: disable=g-import-not-at-top
  from tfgen.models.svg import export_signatures as svg_signatures  # pylint: disable=g-import-not-at-top
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  model = factory.build_model(svg_lp_smmnist.get_config().model)
  model.build()
  return exporter.export(model, os.path.join(base, "svg_lp"), svg_signatures.signatures(model),
                         examples=svg_signatures.example_inputs(model))


def main(argv):
  del argv
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  machine.print_header()
  start = time.perf_counter()
  path = FLAGS.export_dir
  if path is None:
    path = export_random_svg_lp(tempfile.mkdtemp())
    print(f"Exported a random svg_lp to {path} in {time.perf_counter() - start:.1f} s")
  loaded = tf.saved_model.load(path)
  serve = loaded.signatures["serving_default"]
  # The context's (frames, H, W, C) come from the warm-up request written with the export.
  from tfgen.export import serving_requests  # pylint: disable=g-import-not-at-top
  warmup = dict(serving_requests.read_warmup_requests(path))["serving_default"]
  frame_shape = warmup["context"].shape[1:]
  rng = np.random.default_rng(0)
  print(f"serving_default: context (batch, {', '.join(map(str, frame_shape))}), "
        f"{FLAGS.num_samples} samples x {FLAGS.num_future_frames} future frames, "
        f"{os.cpu_count()} CPUs")
  print(f"{'batch':>5} {'calls':>5} {'median s':>9} {'p90 s':>8} {'clips/s':>8} "
        f"{'frames/s':>9} {'first call s':>12}")
  for batch_size in map(int, FLAGS.batch_sizes):
    inputs = dict(
        context=tf.constant(rng.uniform(size=(batch_size,) + frame_shape), tf.float32),
        num_future_frames=tf.constant(FLAGS.num_future_frames, tf.int32),
        num_samples=tf.constant(FLAGS.num_samples, tf.int32),
        seed=tf.constant([0, 0], tf.int64))
    t = time.perf_counter()
    serve(**inputs)["samples"].numpy()
    first = time.perf_counter() - t
    times = []
    budget_start = time.perf_counter()
    while len(times) < FLAGS.repeats and (
        len(times) < FLAGS.min_repeats or time.perf_counter() - budget_start < FLAGS.max_seconds):
      t = time.perf_counter()
      serve(**inputs)["samples"].numpy()
      times.append(time.perf_counter() - t)
    median, p90 = np.median(times), np.percentile(times, 90)
    frames = batch_size * FLAGS.num_samples * FLAGS.num_future_frames
    print(f"{batch_size:>5} {len(times):>5} {median:>9.3f} {p90:>8.3f} "
          f"{batch_size / median:>8.2f} {frames / median:>9.0f} {first:>12.2f}", flush=True)
  print(f"Total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
  app.run(main)
