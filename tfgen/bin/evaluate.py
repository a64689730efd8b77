r"""Best-of-N evaluation of a trained run: `python -m tfgen.bin.evaluate --workdir=DIR`.

Draws `--num_samples` futures per test sequence, scores each with SSIM / PSNR / MSE and
reports the best sample per sequence (`tfgen.evaluation.evaluate`): per-step means with
95% confidence intervals, the training horizon marked, as `results.json`, `results.csv`,
`scores.npz` and plots in `--output_dir` (default `DIR/evaluation`, replaced wholesale).
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Training work directory (config.json, checkpoints/).")
flags.DEFINE_integer("num_samples", 100, "Futures per test sequence (N); 1 for deterministic "
                     "models.")
flags.DEFINE_integer("num_context_frames", None, "Frames conditioned on (default: the "
                     "model's n_past).")
flags.DEFINE_integer("num_future_frames", None, "Frames predicted and scored (default: 20 "
                     "SM-MNIST and KTH, 28 BAIR, else twice the training horizon).")
flags.DEFINE_enum("selection", "reference", ["reference", "per_metric", "both"],
                  "reference: one sample, best mean legacy SSIM; per_metric: best sample per "
                  "metric (SRVP).")
flags.DEFINE_enum("ssim", "legacy", ["legacy", "gaussian", "both"],
                  "legacy: the reference's skimage 7x7 SSIM; gaussian: 11x11 sigma 1.5.")
flags.DEFINE_integer("num_test_sequences", None, "Evaluate the first this many test "
                     "sequences (default: the whole test set).")
flags.DEFINE_integer("batch_size", None, "Test sequences per generate call (default "
                     "512 // num_samples).")
flags.DEFINE_string("output_dir", None, "Where results go (default: <workdir>/evaluation).")
flags.DEFINE_integer("seed", 0, "Seed of the samples.")
FLAGS = flags.FLAGS


def _format(value):
  return f"{value:.4g}" if isinstance(value, float) else str(value)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.evaluation import evaluate  # Imported after flag parsing: TensorFlow is slow.
  with tfgen_flags.user_errors():
    if not FLAGS.workdir:
      raise ValueError("--workdir is required.")
    document = evaluate.evaluate(
        FLAGS.workdir, num_samples=FLAGS.num_samples,
        num_context_frames=FLAGS.num_context_frames,
        num_future_frames=FLAGS.num_future_frames, selection=FLAGS.selection,
        ssim=FLAGS.ssim, num_test_sequences=FLAGS.num_test_sequences,
        batch_size=FLAGS.batch_size, output_dir=FLAGS.output_dir, seed=FLAGS.seed)
  for selection, per_metric in document["results"].items():
    summary = ", ".join(f"{metric} {_format(entry['mean_over_steps'])}"
                        for metric, entry in per_metric.items())
    print(f"{selection}: {summary}")
  print(f"Results: {document['output_dir']}")


if __name__ == "__main__":
  app.run(main)
