r"""Pictures of a trained model: `python -m tfgen.bin.generate --workdir=DIR`.

Each model family draws its own pictures (its `samples` module in the family registry,
`tfgen.models.factory`); the flags a user sets are passed on, the others keep the family's
defaults, and a flag the family does not take is an error naming the ones it does.

SVG: per test sequence, a PNG grid and a GIF with rows ground truth | posterior
reconstruction | best of N samples | random samples (green border: ground truth, red:
generated), rolled out `--num_future_frames` frames (default 100, far past the training
horizon), in `--output_dir` (default `DIR/samples_generated`, replaced wholesale).

DrNET's pose LSTM (`drnet_lstm`): per test clip a PNG grid (ground truth over prediction,
wrapped every 20 steps) and a GIF of a `--num_future_frames` rollout (default the config's:
500 MNIST, 100 KTH), the analogy grid and the pose-space interpolation (thesis Fig. 5.2-5.5;
`tfgen.models.drnet.prediction_pictures`). DrNET (`drnet`): reconstructions and the analogy
grid (`tfgen.models.drnet.sample_pictures`).
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Training work directory (config.json, checkpoints/).")
flags.DEFINE_integer("num_samples", 20, "SVG: futures drawn per sequence; the best is shown.")
flags.DEFINE_integer("num_future_frames", 100, "Frames generated after the context "
                     "(drnet_lstm: default the config's num_rollout_frames).")
flags.DEFINE_integer("num_sequences", 4, "Test sequences shown.")
flags.DEFINE_integer("num_random", 3, "SVG: random samples shown besides the best.")
flags.DEFINE_integer("num_context_frames", None, "Frames conditioned on (default: the "
                     "model's).")
flags.DEFINE_string("output_dir", None, "Default: <workdir>/samples_generated.")
flags.DEFINE_integer("seed", 0, "Seed of the samples.")
FLAGS = flags.FLAGS


# The flags passed on to the family's `write_samples` when the user sets them.
_FAMILY_FLAGS = ("num_samples", "num_future_frames", "num_sequences", "num_random",
                 "num_context_frames", "seed")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  import inspect  # pylint: disable=g-import-not-at-top
  from tfgen.evaluation import evaluate  # After flag parsing: TensorFlow is slow.
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  with tfgen_flags.user_errors():
    if not FLAGS.workdir:
      raise ValueError("--workdir is required.")
    family = evaluate.load_config(FLAGS.workdir).model.name
    write_samples = factory.family_module(family, "samples").write_samples
    accepted = inspect.signature(write_samples).parameters
    kwargs = {name: FLAGS[name].value for name in _FAMILY_FLAGS if FLAGS[name].present}
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
      raise ValueError(f"--{', --'.join(unknown)} do not apply to a {family} model; its "
                       f"flags: --{', --'.join(n for n in _FAMILY_FLAGS if n in accepted)}.")
    output_dir = write_samples(FLAGS.workdir, output_dir=FLAGS.output_dir, **kwargs)
  print(f"Pictures: {output_dir}")


if __name__ == "__main__":
  app.run(main)
