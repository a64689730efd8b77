r"""Loss curves of float32 and mixed-precision training of the same run, side by side.

    python benchmarks/precision_loss_curve.py [--model=svg_lp --dataset=smmnist] \
        [--steps=150 --precision=mixed_bfloat16 --smoothing=0.6 --workdir=DIR]

Trains the quick config (`config_loader.load(model, dataset, "quick")`) twice through the
real trainer (`tfgen.train.trainer.train`, which sets the Keras policy from
`config.train.precision`): once in float32 and once in `--precision`, from the same seed
(same initial weights, same data stream, same posterior noise). Reads back the TensorBoard
scalars the trainer wrote every `log_every` steps (each the mean over its window), prints
both curves, and the largest relative difference between the two exponentially smoothed
curves of each metric. The LAST line is `max_relative_difference=<float>` for the loss.
About 2-3 s a step on 2 busy CPU cores: the default 150 steps take ~10 minutes per run.
"""

import glob
import os
import tempfile

from absl import app
from absl import flags

METRICS = ("loss", "mse", "kl")


def define_flags():
  """Defines the script's flags (only when run as a script)."""
  flags.DEFINE_string("model", "svg_lp", "Model config.")
  flags.DEFINE_string("dataset", "smmnist", "Data set of the config.")
  flags.DEFINE_integer("steps", 150, "Training steps of each run.")
  flags.DEFINE_enum("precision", "mixed_bfloat16", ["mixed_bfloat16", "mixed_float16"],
                    "Precision compared with float32.")
  flags.DEFINE_float("smoothing", 0.6, "Exponential smoothing of the logged curves "
                     "(TensorBoard's slider: 0 = none).")
  flags.DEFINE_integer("log_every", None, "Logging period; default: the quick config's.")
  flags.DEFINE_string("workdir", None, "Parent of the two runs' work directories "
                      "(must be new or hold these same runs); default: a temporary one.")


def read_scalars(logdir):
  """{tag: {step: value}} of every scalar summary in the event files under `logdir`."""
  import tensorflow as tf
  scalars = {}
  for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        if value.HasField("simple_value"):
          number = value.simple_value
        elif value.HasField("tensor"):
          array = tf.make_ndarray(value.tensor)
          if array.ndim or array.dtype.kind not in "fiu":  # Images are tensors too.
            continue
          number = float(array)
        else:
          continue
        scalars.setdefault(value.tag, {})[int(event.step)] = number
  return scalars


def smooth(values, weight):
  """TensorBoard's exponential moving average (debiased start: the first value)."""
  out, last = [], None
  for value in values:
    last = value if last is None else weight * last + (1 - weight) * value
    out.append(last)
  return out


def max_relative_difference(reference, other, weight):
  """max_i |s(other)_i - s(reference)_i| / |s(reference)_i| over the smoothed curves."""
  a, b = smooth(reference, weight), smooth(other, weight)
  return max(abs(y - x) / max(abs(x), 1e-12) for x, y in zip(a, b))


def train_curves(model, dataset, steps, precision, workdir, log_every=None):
  """Trains the quick config in `precision` in `workdir`; returns {metric: {step: value}}."""
  import keras
  from tfgen.train import trainer
  from tfgen.utils import config_loader
  config = config_loader.load(model, dataset, "quick")
  config.train.steps = steps
  config.train.precision = precision
  if log_every:
    config.train.log_every = log_every
  # No pictures or checkpoints in between: they cost time and do not touch the curve.
  config.train.image_every = max(steps, 1)
  config.train.checkpoint_every = max(steps, 1)
  keras.utils.set_random_seed(config.train.seed)  # The same initial weights in both runs.
  trainer.train(config, workdir)
  return read_scalars(os.path.join(workdir, "train"))


def run(model="svg_lp", dataset="smmnist", steps=150, precision="mixed_bfloat16",
        smoothing=0.6, log_every=None, workdir=None, out=print):
  """Trains both runs and prints the curves; returns {metric: max relative difference}."""
  with tempfile.TemporaryDirectory() as scratch:
    parent = workdir or scratch
    curves = {}
    for name in ("float32", precision):
      out(f"training {model}/{dataset} (quick) for {steps} steps in {name} ...")
      curves[name] = train_curves(model, dataset, steps, name,
                                  os.path.join(parent, name), log_every)
  base, other = curves["float32"], curves[precision]
  logged = sorted(set(base.get("loss", {})) & set(other.get("loss", {})))
  if not logged:
    raise RuntimeError("No logged loss found in the runs' TensorBoard events.")
  header = "step" + "".join(f" {m}_float32 {m}_{precision}" for m in METRICS)
  out(header)
  for step in logged:
    out(f"{step}" + "".join(f" {base[m][step]:.6g} {other[m][step]:.6g}" for m in METRICS))
  speed = {name: [c.get("sequences_per_second", {}).get(s) for s in logged]
           for name, c in curves.items()}
  for name, values in speed.items():
    values = [v for v in values[1:] if v is not None]  # The first window holds tracing.
    if values:
      out(f"{name}_sequences_per_second_mean={sum(values) / len(values):.3f}")
  differences = {}
  for metric in METRICS:
    differences[metric] = max_relative_difference(
        [base[metric][s] for s in logged], [other[metric][s] for s in logged], smoothing)
    out(f"{metric}_max_relative_difference={differences[metric]:.4f} "
        f"(smoothing {smoothing}, {len(logged)} points)")
  out(f"max_relative_difference={differences['loss']:.4f}")
  return differences


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  f = flags.FLAGS
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  machine.print_header(lambda line: print(line, flush=True))
  run(model=f.model, dataset=f.dataset, steps=f.steps, precision=f.precision,
      smoothing=f.smoothing, log_every=f.log_every, workdir=f.workdir,
      out=lambda line: print(line, flush=True))


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  define_flags()
  app.run(main)
