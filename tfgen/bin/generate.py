r"""Pictures of generated futures: `python -m tfgen.bin.generate --workdir=DIR`.

Per test sequence, a PNG grid and a GIF with rows ground truth | posterior
reconstruction | best of N samples | random samples (green border: ground truth, red:
generated), rolled out `--num_future_frames` frames (default 100, far past the training
horizon), in `--output_dir` (default `DIR/samples_generated`, replaced wholesale).
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Training work directory (config.json, checkpoints/).")
flags.DEFINE_integer("num_samples", 20, "Futures drawn per sequence; the best is shown.")
flags.DEFINE_integer("num_future_frames", 100, "Frames generated after the context.")
flags.DEFINE_integer("num_sequences", 4, "Test sequences shown.")
flags.DEFINE_integer("num_random", 3, "Random samples shown besides the best.")
flags.DEFINE_integer("num_context_frames", None, "Frames conditioned on (default: the "
                     "model's).")
flags.DEFINE_string("output_dir", None, "Default: <workdir>/samples_generated.")
flags.DEFINE_integer("seed", 0, "Seed of the samples.")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.evaluation import sample_pictures  # After flag parsing: TensorFlow is slow.
  with tfgen_flags.user_errors():
    if not FLAGS.workdir:
      raise ValueError("--workdir is required.")
    output_dir = sample_pictures.write_samples(
        FLAGS.workdir, num_samples=FLAGS.num_samples,
        num_future_frames=FLAGS.num_future_frames, num_sequences=FLAGS.num_sequences,
        num_random=FLAGS.num_random, num_context_frames=FLAGS.num_context_frames,
        output_dir=FLAGS.output_dir, seed=FLAGS.seed)
  print(f"Pictures: {output_dir}")


if __name__ == "__main__":
  app.run(main)
