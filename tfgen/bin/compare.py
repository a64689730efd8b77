r"""Several runs' evaluations in one table and plot: `python -m tfgen.bin.compare`.

    python -m tfgen.bin.compare --runs=W_svg_lp,W_svg_det,W_drnet_lstm --output_dir=O

Each run is a work directory evaluated by `python -m tfgen.bin.evaluate` (or the
directory / `results.json` it wrote); all must be scored by the same protocol (data set,
context and future lengths, test sequences). Writes `comparison.csv`,
`comparison_<selection>.png` and `runs.json` into `--output_dir`, replaced whole.
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_list("runs", None, "Work directories (or evaluation directories / results.json "
                  "files) of two or more evaluated runs.")
flags.DEFINE_string("output_dir", None, "Where the table and plots go (replaced whole).")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.evaluation import compare  # pylint: disable=g-import-not-at-top
  with tfgen_flags.user_errors():
    if not FLAGS.runs or not FLAGS.output_dir:
      raise ValueError("--runs (two or more) and --output_dir are required.")
    output_dir = compare.compare(FLAGS.runs, FLAGS.output_dir)
  print(f"Comparison: {output_dir}")


if __name__ == "__main__":
  app.run(main)
