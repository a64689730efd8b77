r"""The thesis's SVG analyses of a trained run: `python -m tfgen.bin.analyze --workdir=DIR`.

  --analysis=prior_sigma   Fig. 6.4 (`tfgen.models.svg.prior_analysis`): sequences that
      share one synchronized trajectory but show different test digits are fed to the
      learned prior; mean +- std of its sigma per step over `--num_steps` steps, the true
      wall-collision steps marked. Needs an svg_lp run. Writes `prior_sigma.{png,csv,json,npz}`
      into `--output_dir` (default `DIR/prior_analysis`).
  --analysis=trajectories  Fig. 6.5 / 6.7 (`tfgen.models.svg.trajectories`): single-digit
      SM-MNIST; the digit is located in every generated and ground-truth frame by
      cross-correlation with the context digit; per-step (dx, dy) histograms of the model
      and the true conditional distribution side by side, with their total variation and
      earth mover's distances per step. Needs a run trained on one digit. Writes
      `trajectories.{json,csv}` and PNGs into `--output_dir` (default `DIR/trajectories`).
  --analysis=collision_ssim  Best-of-N SSIM of this run against a baseline run
      (`--baseline_workdir`, e.g. svg_det), both evaluated by `tfgen.bin.evaluate` on the
      same test set, before and after each test sequence's first wall collision
      (`tfgen.models.svg.collision_comparison`). Writes `collision_comparison.{json,csv,png}`
      into `--output_dir` (default `DIR/collision_comparison`).
  --analysis=all           prior_sigma (svg_lp runs), trajectories (single-digit runs) and,
      with `--baseline_workdir`, collision_ssim.

Outputs are replaced whole (written aside, then renamed): a failed run leaves the previous
results as they were.
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

ANALYSES = ("prior_sigma", "trajectories", "collision_ssim", "all")

flags.DEFINE_string("workdir", None, "Training work directory (config.json, checkpoints/).")
flags.DEFINE_enum("analysis", "all", ANALYSES, "Which analysis to run.")
flags.DEFINE_string("output_dir", None, "Where results go (default: a folder of the workdir "
                    "named after the analysis; with --analysis=all, one folder per analysis "
                    "under this one).")
flags.DEFINE_integer("seed", 0, "Seed of trajectories, digits and samples.")
flags.DEFINE_integer("batch_size", None, "Clips per model call (default: each analysis's).")
flags.DEFINE_string("data_dir", None, "A Keras-layout mnist.npz or its folder (default: the "
                    "run's).")
# collision_ssim
flags.DEFINE_string("baseline_workdir", None, "collision_ssim: the evaluated baseline run.")
flags.DEFINE_enum("metric", "ssim_legacy", ["ssim_legacy", "ssim_gaussian", "psnr", "mse"],
                  "collision_ssim: the evaluated metric compared.")
# prior_sigma
flags.DEFINE_integer("num_sequences", 500, "prior_sigma: sequences sharing the trajectory.")
flags.DEFINE_integer("num_steps", 100, "prior_sigma: frames per sequence.")
# trajectories
flags.DEFINE_integer("num_trajectories", 3, "trajectories: trajectories analysed.")
flags.DEFINE_integer("num_digits_per_trajectory", 20,
                     "trajectories: test digits following each trajectory.")
flags.DEFINE_integer("num_samples", 50, "trajectories: futures drawn per digit.")
flags.DEFINE_integer("num_future_frames", None, "trajectories: frames predicted (default 20).")
flags.DEFINE_enum("velocity_distribution", None, ["uniform", "nonuniform"],
                  "trajectories: velocity distribution of the ground truth (default: the "
                  "run's training data).")
FLAGS = flags.FLAGS


def _output_dir(name):
  if FLAGS.output_dir is None:
    return None
  if FLAGS.analysis == "all":
    import os  # pylint: disable=g-import-not-at-top
    return os.path.join(FLAGS.output_dir, name)
  return FLAGS.output_dir


def _batch_kwargs():
  return {} if FLAGS.batch_size is None else {"batch_size": FLAGS.batch_size}


def run_prior_sigma():
  from tfgen.models.svg import prior_analysis  # pylint: disable=g-import-not-at-top
  document = prior_analysis.analyze_prior(
      FLAGS.workdir, output_dir=_output_dir("prior_analysis"),
      num_sequences=FLAGS.num_sequences, num_steps=FLAGS.num_steps, seed=FLAGS.seed,
      data_dir=FLAGS.data_dir, **_batch_kwargs())
  ratio = document["collision_ratio"]
  summary = document["summary"]
  print(f"prior_sigma: collision_ratio {'n/a' if ratio is None else f'{ratio:.4g}'} "
        f"(mean sigma at collision steps {summary['collision_sigma_mean']}, elsewhere "
        f"{summary['baseline_sigma_mean']})")
  print(f"Results: {document['output_dir']}")


def run_trajectories():
  from tfgen.models.svg import trajectories  # pylint: disable=g-import-not-at-top
  document = trajectories.analyze_trajectories(
      FLAGS.workdir, output_dir=_output_dir("trajectories"),
      num_trajectories=FLAGS.num_trajectories,
      num_digits_per_trajectory=FLAGS.num_digits_per_trajectory,
      num_samples=FLAGS.num_samples, num_future_frames=FLAGS.num_future_frames,
      seed=FLAGS.seed, velocity_distribution=FLAGS.velocity_distribution,
      data_dir=FLAGS.data_dir, **_batch_kwargs())
  summary = document["summary"]
  fmt = lambda v: "n/a" if v is None else f"{v:.4g}"
  before, after = summary["before_first_collision"], summary["after_first_collision"]
  print(f"trajectories: mean TV before the first collision {fmt(before.get('mean_tv'))} "
        f"(floor {fmt(before.get('mean_tv_floor'))}), after {fmt(after.get('mean_tv'))} "
        f"(floor {fmt(after.get('mean_tv_floor'))})")
  print(f"Results: {document['output_dir']}")


def run_collision_ssim():
  from tfgen.models.svg import collision_comparison  # pylint: disable=g-import-not-at-top
  if not FLAGS.baseline_workdir:
    raise ValueError("--analysis=collision_ssim needs --baseline_workdir (an evaluated run "
                     "to compare with, e.g. svg_det).")
  document = collision_comparison.compare_runs(
      FLAGS.workdir, FLAGS.baseline_workdir, output_dir=_output_dir("collision_comparison"),
      metric=FLAGS.metric)
  c = document["comparison"]
  fmt = lambda v: "n/a" if v is None else f"{v:.4g}"
  print(f"collision_ssim: {document['model']['name']} vs {document['baseline']['name']}, "
        f"{FLAGS.metric} after the first collision {fmt(c['model_mean_after'])} vs "
        f"{fmt(c['baseline_mean_after'])} (paired difference "
        f"{fmt(c['paired_difference_after_mean'])} +- "
        f"{fmt(c['paired_difference_after_ci95_halfwidth'])}, "
        f"{c['paired_difference_after_num_sequences']} sequences); before "
        f"{fmt(c['model_mean_before'])} vs {fmt(c['baseline_mean_before'])}")
  print(f"Results: {document['output_dir']}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  with tfgen_flags.user_errors():
    if not FLAGS.workdir:
      raise ValueError("--workdir is required.")
    analyses = [FLAGS.analysis]
    if FLAGS.analysis == "all":
      config = workdir_lib.load_config(FLAGS.workdir)
      options = dict(config.data.get("options") or {})
      analyses = (["prior_sigma"] if config.model.get("prior") == "learned" else []) + (
          ["trajectories"] if config.data.name == "smmnist"
          and options.get("num_digits") == 1 else []) + (
              ["collision_ssim"] if FLAGS.baseline_workdir else [])
      if not analyses:
        raise ValueError(f"No analysis applies to {FLAGS.workdir!r} ({config.model_name} on "
                         f"{config.data.name}): prior_sigma needs svg_lp, trajectories "
                         "single-digit SM-MNIST, collision_ssim --baseline_workdir.")
    for name in analyses:
      {"prior_sigma": run_prior_sigma, "trajectories": run_trajectories,
       "collision_ssim": run_collision_ssim}[name]()


if __name__ == "__main__":
  app.run(main)
