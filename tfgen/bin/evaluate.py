r"""Evaluates a trained run: `python -m tfgen.bin.evaluate --workdir=DIR`.

What is computed depends on the run's model family (`tfgen.models.factory`, its
`evaluate` hook):

- video prediction (SVG, DrNET's pose LSTM: families without a hook): best-of-N. Draws
  `--num_samples` futures per test sequence, scores each with SSIM / PSNR / MSE and
  reports the best sample per sequence (`tfgen.evaluation.evaluate`): per-step means with
  95% confidence intervals, the training horizon marked, as `results.json`,
  `results.csv`, `scores.npz` and plots;
- LAPGAN and plain GANs (`tfgen.models.lapgan.evaluation`): Parzen log-likelihood
  (single and multi-scale), distances in a classifier's feature space
  (`--classifier_workdir`), FID with InceptionV3 (`--inception_weights`), nearest
  neighbours, as `results.json`, `results.csv`, PNG grids and `arrays.npz`.

Results go to `--output_dir` (default `DIR/evaluation`), replaced wholesale: written
whole or not at all. A flag the run's evaluation does not take is an error.
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Training work directory (config.json, checkpoints/).")
flags.DEFINE_string("output_dir", None, "Where results go (default: <workdir>/evaluation).")
flags.DEFINE_integer("seed", 0, "Seed of the samples.")
flags.DEFINE_integer("num_samples", 100, "Video: futures per test sequence (N); 1 for "
                     "deterministic models. LAPGAN: samples, the Parzen centres (default "
                     "10000, parzen_ll.py -n; the thesis 50000).")
flags.DEFINE_integer("batch_size", None, "Video: test sequences per generate call (default "
                     "512 // num_samples). LAPGAN: images per Parzen block (default 1000; "
                     "num_samples must be at least this).")
# Video prediction.
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
# Image models (LAPGAN, GAN): tfgen.models.lapgan.evaluation.
flags.DEFINE_string("split", None, "Images scored: train, validation or test (default test).")
flags.DEFINE_string("sigma_split", None, "Images the Parzen sigma is chosen on (default "
                    "validation).")
flags.DEFINE_integer("num_images", None, "Score the first this many images (default all).")
flags.DEFINE_integer("num_validation_images", None, "Images sigma is chosen on (default 1000, "
                     "parzen_ll.py -l).")
flags.DEFINE_list("sigma_grid", None, "Parzen bandwidths tried, in [0, 1] data units "
                  "(default numpy.logspace(-1, 0, 10), the reference's).")
flags.DEFINE_bool("multiscale", None, "Multi-scale Parzen estimate (default: when the "
                  "pyramid's sizes halve and the model is unconditional).")
flags.DEFINE_integer("multiscale_num_images", None, "Images given the multi-scale estimate "
                     "(the first of --split; default 1000).")
flags.DEFINE_integer("num_noise_samples", None, "Multi-scale: noise draws per level, the "
                     "same for every image (default 100).")
flags.DEFINE_string("coarsest_source", None, "Multi-scale coarsest term: training (thesis: "
                    "coarsened training images, default) or generator (G_K's samples).")
flags.DEFINE_string("haar_form", None, "Multi-scale: orthonormal (default, exact) or "
                    "block_mean (the thesis' literal form, corrected by ln 2 per coarse "
                    "coordinate).")
flags.DEFINE_integer("num_train_images", None, "Training images searched for nearest "
                     "neighbours and coarsened for the multi-scale estimate (default 10000).")
flags.DEFINE_string("classifier_workdir", None, "A --model=classifier run on the same data: "
                    "FID/KID, classifier score, feature-space neighbours (skipped without).")
flags.DEFINE_string("inception_weights", None, "Keras InceptionV3 no-top weights file for FID "
                    "(skipped without; nothing is downloaded).")
flags.DEFINE_integer("num_nn_samples", None, "Samples in the nearest-neighbour figures "
                     "(default 8).")
flags.DEFINE_integer("num_neighbours", None, "Neighbours per sample (default 5).")
flags.DEFINE_bool("clip_samples", None, "Clip samples to [0, 1] before the Parzen estimates "
                  "too (default false).")
FLAGS = flags.FLAGS

# The flags of the video families' best-of-N evaluation (`tfgen.evaluation.evaluate`).
VIDEO_FLAG_NAMES = ("num_samples", "num_context_frames", "num_future_frames", "selection",
                    "ssim", "num_test_sequences", "batch_size", "output_dir", "seed")
# The image models' flags (`tfgen.models.lapgan.evaluation.FLAG_NAMES` takes them).
IMAGE_FLAG_NAMES = ("split", "sigma_split", "num_images", "num_validation_images",
                    "sigma_grid", "multiscale", "multiscale_num_images", "num_noise_samples",
                    "coarsest_source", "haar_form", "num_train_images", "classifier_workdir",
                    "inception_weights", "num_nn_samples", "num_neighbours", "clip_samples")
ALWAYS_PASSED = ("output_dir", "seed")


def _format(value):
  return f"{value:.4g}" if isinstance(value, float) else str(value)


def _video_summary(document):
  lines = []
  for selection, per_metric in document["results"].items():
    summary = ", ".join(f"{metric} {_format(entry['mean_over_steps'])}"
                        for metric, entry in per_metric.items())
    lines.append(f"{selection}: {summary}")
  return lines + [f"Results: {document['output_dir']}"]


def _arguments(accepted, everything_named):
  """The flags to pass: those of `accepted` the user set (all of them for `everything_named`).

  Raises:
    ValueError: a flag set on the command line that this evaluation does not take.
  """
  given = [name for name in sorted(set(VIDEO_FLAG_NAMES) | set(IMAGE_FLAG_NAMES))
           if FLAGS[name].present]
  unknown = [name for name in given if name not in accepted]
  if unknown:
    raise ValueError(f"{', '.join('--' + n for n in unknown)}: not an option of this run's "
                     f"evaluation; it takes {', '.join('--' + n for n in accepted)}.")
  return {name: FLAGS[name].value for name in accepted
          if everything_named or FLAGS[name].present or name in ALWAYS_PASSED}


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  # Imported after flag parsing: TensorFlow is slow.
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  with tfgen_flags.user_errors():
    if not FLAGS.workdir:
      raise ValueError("--workdir is required.")
    config = workdir_lib.load_config(FLAGS.workdir)
    family = factory.get_family(config.model.name)
    if family.evaluate is None:
      from tfgen.evaluation import evaluate  # pylint: disable=g-import-not-at-top
      document = evaluate.evaluate(FLAGS.workdir, **_arguments(VIDEO_FLAG_NAMES, True))
      lines = _video_summary(document)
    else:
      module = factory.family_module(config.model.name, "evaluate")
      document = module.evaluate(FLAGS.workdir, **_arguments(module.FLAG_NAMES, False))
      lines = module.summary_lines(document)
  print("\n".join(lines))


if __name__ == "__main__":
  app.run(main)
