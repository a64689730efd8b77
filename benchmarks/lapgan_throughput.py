r"""LAPGAN throughput: training images/s of every level, and chained samples/s.

    python benchmarks/lapgan_throughput.py --model=lapgan --dataset=cifar10 \
        [--batch_size=256 --warmup_steps=2 --steps=5 --repeats=3 --num_samples=256] [--quick]

`--model` is lapgan, lapgan_classcond or gan; `--dataset` any data set with a
`configs/<model>_<dataset>.py` (mnist_digits runs anywhere: its shipped subset).

Per level, the trainer's own pieces time one training step: the level is built and its
two optimisers compiled by `Trainer._build` (Torch SGD for D and G), its batches come from
`Trainer._dataset` (the registered data set's `tf.data` stream: data fetch, the pyramid and
z-scoring included), and the timed function is the trainer's: `model.train_step` (one D
step on the first half of the batch, one G step on the second) in a `tf.function`, metrics
read back every step. `images_per_second` counts the images a step draws (batch_size).
Then the LAPGAN's coarse-to-fine sampler (eq. 4.7, all levels, inference mode) in one
`tf.function`, `--num_samples` images per call.

For each it prints the median time, the FLOPs of one call (TensorFlow's profiler on the
traced graph, `tfgen.utils.machine.graph_flops`), the FLOP/s reached and the fraction of the
machine's measured float32 matmul peak (printed first with the CPU: the Lua reference
cannot run here, so the physical limit is the yardstick), and the load average around the
timing (the cores may be shared). The LAST line is `chained_samples_per_second=<float>`.
"""

import os
import statistics
import sys
import tempfile
import time

from absl import app
from absl import flags

MODELS = ("lapgan", "lapgan_classcond", "gan")


def define_flags():
  flags.DEFINE_enum("model", "lapgan", MODELS, "LAPGAN config to benchmark.")
  flags.DEFINE_string("dataset", "mnist_digits", "Data set of the config.")
  flags.DEFINE_integer("batch_size", None, "Images per training step (default: config's).")
  flags.DEFINE_integer("warmup_steps", 2, "Untimed steps (tracing) per level.")
  flags.DEFINE_integer("steps", 5, "Timed steps per repeat.")
  flags.DEFINE_integer("repeats", 3, "Repeats; the median is reported.")
  flags.DEFINE_integer("num_samples", 256, "Images per sampler call.")
  flags.DEFINE_bool("quick", False, "The config's quick variant.")
  flags.DEFINE_string("data_dir", None, "The data set's directory.")


def _load(out=print):
  return "load_average=" + ",".join(f"{x:.2f}" for x in os.getloadavg())


def _time(fn, steps, repeats):
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(steps):
      fn()
    times.append((time.perf_counter() - start) / steps)
  return statistics.median(times), times


def benchmark_level(config, level, args, peaks, out=print):
  """Times level `level`'s training step; returns images per second."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tfgen.models.lapgan import training  # pylint: disable=g-import-not-at-top
  from tfgen.train import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  level_config = training.level_config(config, level)
  trainer = trainer_lib.Trainer(level_config, tempfile.mkdtemp(prefix="lapgan_bench_"))
  model, _, _ = trainer._build()  # pylint: disable=protected-access
  batch_size = level_config.train.batch_size
  iterator = iter(trainer._dataset("train", batch_size))  # pylint: disable=protected-access
  step = tf.function(model.train_step)
  for _ in range(args.warmup_steps):
    {k: float(v) for k, v in step(next(iterator)).items()}
  flops = machine.graph_flops(step.get_concrete_function(next(iterator)))

  def one():
    {k: float(v) for k, v in step(next(iterator)).items()}

  before = _load()
  seconds, times = _time(one, args.steps, args.repeats)
  rate = flops / seconds
  out(f"level={level} size={config.model.sizes[level]} batch_size={batch_size} "
      f"seconds_per_step={seconds:.4f} repeats={[round(t, 4) for t in times]} "
      f"images_per_second={batch_size / seconds:.1f} flops_per_step={flops:.3e} "
      f"gflops_per_second={rate / 1e9:.2f} "
      f"fraction_of_float32_peak={machine.fraction_of_peak(rate, peaks):.3f} "
      f"{before} -> {_load()}")
  return batch_size / seconds


def benchmark_sampler(config, args, peaks, out=print):
  """Times the coarse-to-fine sampler; returns samples per second."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  model = factory.build_model(config.model)
  model.build()
  n = args.num_samples
  sample = tf.function(lambda seed: model.to_display(model.sample(n, seed)))
  seed = tf.constant([1, 2], tf.int64)
  sample(seed).numpy()
  flops = machine.graph_flops(sample.get_concrete_function(seed))
  before = _load()
  seconds, times = _time(lambda: sample(seed).numpy(), args.steps, args.repeats)
  rate = flops / seconds
  out(f"sampler levels={len(config.model.sizes)} num_samples={n} seconds_per_call="
      f"{seconds:.4f} repeats={[round(t, 4) for t in times]} flops_per_call={flops:.3e} "
      f"gflops_per_second={rate / 1e9:.2f} "
      f"fraction_of_float32_peak={machine.fraction_of_peak(rate, peaks):.3f} "
      f"{before} -> {_load()}")
  return n / seconds


def run(args, out=print):
  """The whole benchmark (module docstring); returns `{name: per second}`."""
  from tfgen.utils import config_loader  # pylint: disable=g-import-not-at-top
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  config = config_loader.load(args.model, args.dataset, "quick" if args.quick else None)
  if args.batch_size:
    config.train.batch_size = args.batch_size
  if args.data_dir:
    config.data.data_dir = args.data_dir
  peaks = machine.print_header(out)
  out(f"model={args.model} dataset={args.dataset} sizes={list(config.model.sizes)} "
      f"quick={args.quick}")
  results = {}
  for level in range(len(config.model.sizes) - 1, -1, -1):
    results[f"level_{level}_images_per_second"] = benchmark_level(config, level, args,
                                                                  peaks, out)
  results["chained_samples_per_second"] = benchmark_sampler(config, args, peaks, out)
  for name, value in results.items():
    out(f"{name}={value:.1f}")
  return results


def main(argv):
  del argv
  run(flags.FLAGS)


if __name__ == "__main__":
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  define_flags()
  app.run(main)
