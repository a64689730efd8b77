r"""Exports a trained model for TF Serving: `python -m tfgen.bin.export --workdir=W --export_dir=BASE`.

Writes `BASE/<model_name>/<version>/` (a SavedModel with TF Serving warm-up requests in
`assets.extra/`), version one more than the largest existing one unless `--version` is
given. The version directory appears atomically, only once the export has loaded back and
run: a failed export leaves nothing behind. Serve it with

  docker run -p 8501:8501 --mount type=bind,source=BASE/svg_lp,target=/models/svg_lp \
      -e MODEL_NAME=svg_lp -t tensorflow/serving
"""

import json

from absl import app
from absl import flags
from absl import logging

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Training work directory (config.json, checkpoints/).")
flags.DEFINE_string("export_dir", None, "TF Serving base directory: receives <model_name>/<version>/.")
flags.DEFINE_integer("version", None, "Version to write (default: largest existing + 1).")
flags.DEFINE_string("checkpoint", None, "Checkpoint to export (default: the workdir's latest).")
flags.DEFINE_string("rest_request_file", None,
                    "Also write an example REST :predict body for serving_default here.")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  # Imported after flag parsing: TensorFlow is slow to load.
  from tfgen.export import exporter  # pylint: disable=g-import-not-at-top
  from tfgen.export import serving_requests  # pylint: disable=g-import-not-at-top
  with tfgen_flags.user_errors():
    if not FLAGS.workdir or not FLAGS.export_dir:
      raise ValueError("--workdir and --export_dir are required.")
    path = exporter.export_workdir(FLAGS.workdir, FLAGS.export_dir, version=FLAGS.version,
                                   checkpoint=FLAGS.checkpoint)
  if FLAGS.rest_request_file:
    for signature_name, inputs in serving_requests.read_warmup_requests(path):
      if signature_name == exporter.SERVING_DEFAULT:
        serving_requests.write_rest_request_body(FLAGS.rest_request_file, inputs)
  print(json.dumps({"export_path": path}))
  logging.info("Done: %s", path)


if __name__ == "__main__":
  app.run(main)
