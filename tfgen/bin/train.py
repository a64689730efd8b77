r"""Trains a tfgen model: `python -m tfgen.bin.train --model=svg_lp --dataset=smmnist --workdir=DIR`.

Any family (`--model=drnet --dataset=mnist` trains DrNET), through the one trainer.

Rerunning the same command resumes from the workdir's latest checkpoint. Any config field
can be set with `--config.<field>=<value>`; `--quick` picks the config's quick variant, `--variant=NAME` any named one.
"""

from absl import app
from absl import flags
from absl import logging

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Where checkpoints, summaries and samples go.")
tfgen_flags.define_model_flags()
tfgen_flags.define_data_flags()
tfgen_flags.define_precision_flag()
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.train import trainer  # Imported after flag parsing: TensorFlow is slow to load.
  with tfgen_flags.user_errors(trainer.NonFiniteLossError):
    if not FLAGS.workdir:
      raise ValueError("--workdir is required.")
    config = tfgen_flags.resolve_config(FLAGS.model, FLAGS.dataset, FLAGS.quick,
                                          FLAGS.variant)
    trainer.train(config, FLAGS.workdir)
  logging.info("Done: %s", FLAGS.workdir)


if __name__ == "__main__":
  app.run(main, flags_parser=tfgen_flags.parse_flags_with_overrides)
