"""The Evaluator's scores of a trained LAPGAN (or plain GAN) work directory.

A shape's `evaluation` module (`pipelines.shapes`): tfgen's LAPGAN evaluation
(`tfgen.models.lapgan.evaluation`, what `python -m tfgen.bin.evaluate` runs on a LAPGAN),
its full results (`results.json`, pictures, arrays) written to the Evaluator's artifact.
The blessing metric is `parzen_log_likelihood`: the single-scale Parzen-window mean
log-likelihood of the test images in nats per image (higher is better); its standard
error and sigma, and the multi-scale number when the pyramid halves, are reported beside it.

The images scored (test) and those sigma is chosen on (validation) are the ones ExampleGen
materialised and ExampleValidator checked (`test_data_dir`, `pipelines.example_gen`): the
evaluation reads them through the data set's loader (the config's data set and
`data_dir`, as `python -m tfgen.bin.evaluate` does), and first checks that the loader still
gives exactly those images, so a source changed after ExampleGen ran is refused, naming
the split, instead of being scored unvalidated. Their counts are the evaluation's
`num_images` and `num_validation_images`.
"""

import math
import os

HIGHER_IS_BETTER = {"parzen_log_likelihood": True, "parzen_standard_error": False,
                    "parzen_sigma": True, "parzen_multiscale_log_likelihood": True}


def metrics_of(document):
  """`{metric: value}` from a LAPGAN results document (`results.json`).

  A non-finite log-likelihood (a diverged model) becomes -inf, so no threshold blesses it.
  """
  parzen = document["results"]["parzen"]
  value = float(parzen["mean"])
  metrics = {"parzen_log_likelihood": value if math.isfinite(value) else -math.inf,
             "parzen_standard_error": float(parzen["standard_error"]),
             "parzen_sigma": float(parzen["sigma"])}
  multi = document["results"].get("parzen_multiscale") or {}
  if "mean" in multi:
    metrics["parzen_multiscale_log_likelihood"] = float(multi["mean"])
  return metrics


def check_materialised(config, test_data_dir, split, count):
  """Raises `ValueError` unless the loader's first `count` images of `split` equal the
  ones ExampleGen materialised in `test_data_dir` (module docstring)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from pipelines import example_gen  # pylint: disable=g-import-not-at-top
  expected, expected_labels = example_gen.read_image_split(test_data_dir, split)
  expected, expected_labels = expected[:count], expected_labels[:count]
  images, labels = example_gen.load_image_split(config, split, len(expected))
  images = example_gen.to_uint8(images, f"{config.data.name} {split}")
  if images.shape != expected.shape:
    raise ValueError(f"The {split} split of {config.data.name!r} now gives images of shape "
                     f"{images.shape}; ExampleGen materialised {expected.shape} in "
                     f"{test_data_dir}: the data changed since ExampleGen ran. Rerun the "
                     "pipeline (ExampleGen sees the change) or restore the data.")
  differ = np.flatnonzero(np.any(images.reshape(len(images), -1) !=
                                 expected.reshape(len(expected), -1), axis=1) |
                          (labels != expected_labels))
  if differ.size:
    raise ValueError(f"The {split} split of {config.data.name!r} now gives other images than "
                     f"ExampleGen materialised in {test_data_dir} ({differ.size} of "
                     f"{len(expected)} differ, the first at index {differ[0]}): the data "
                     "changed since ExampleGen ran. Rerun the pipeline (ExampleGen sees the "
                     "change) or restore the data.")
  return len(expected)


def evaluate(workdir, test_data_dir, options):
  """Scores `workdir`'s assembled LAPGAN (module docstring).

  Args:
    workdir: a LAPGAN work directory whose levels are assembled (`W/checkpoints/`).
    test_data_dir: an ExampleGen artifact's `data/` directory (its validation and test
      images), or None to score the data set's own splits unchecked.
    options: dict: `num_samples` (Parzen centres; default the evaluation's),
      `num_test_sequences` (test images scored; default all), `seed`, `output_dir`, and
      any `tfgen.models.lapgan.evaluation.LAPGANEvaluationOptions` field under `lapgan`.
  """
  from tfgen.models.lapgan import evaluation  # pylint: disable=g-import-not-at-top
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  fields = dict(options.get("lapgan") or {})
  if options.get("num_samples"):
    fields.setdefault("num_samples", int(options["num_samples"]))
  if options.get("num_test_sequences"):
    fields.setdefault("num_images", int(options["num_test_sequences"]))
  fields.setdefault("seed", int(options.get("seed", 0)))
  if options.get("output_dir"):
    fields["output_dir"] = options["output_dir"]
  if test_data_dir:
    config = workdir_lib.load_config(workdir)
    for split, field in ((fields.get("split", "test"), "num_images"),
                         (fields.get("sigma_split", "validation"), "num_validation_images")):
      fields[field] = check_materialised(config, test_data_dir, split, fields.get(field))
  document = evaluation.evaluate(workdir, **fields)
  # The results' directory by its name: the Evaluator writes it in a staging directory
  # that is then renamed (`pipelines.artifacts`).
  details = {"checkpoint": document.get("checkpoint"),
             "output_dir": os.path.basename(document["output_dir"]),
             "num_images": fields.get("num_images"),
             "num_validation_images": fields.get("num_validation_images"),
             "num_samples": fields.get("num_samples"),
             "blessing_metric": "parzen_log_likelihood (nats per image, higher is better)"}
  return {"metrics": metrics_of(document), "details": details}
