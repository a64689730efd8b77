"""The Evaluator's scores of a trained LAPGAN (or plain GAN) work directory.

A shape's `evaluation` module (`pipelines.shapes`): tfgen's LAPGAN evaluation
(`tfgen.models.lapgan.evaluation`, what `python -m tfgen.bin.evaluate` runs on a LAPGAN),
its full results (`results.json`, pictures, arrays) written to the Evaluator's artifact.
The blessing metric is `parzen_log_likelihood`: the single-scale Parzen-window mean
log-likelihood of the test images in nats per image (higher is better); its standard
error and sigma, and the multi-scale number when the pyramid halves, are reported beside it.

The images are the data set's own test split (the config's data set and `data_dir`), not
the ExampleGen artifact's: `test_data_dir` is accepted for the interface and unused.
"""

import math

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


def evaluate(workdir, test_data_dir, options):  # pylint: disable=unused-argument
  """Scores `workdir`'s assembled LAPGAN (module docstring).

  Args:
    workdir: a LAPGAN work directory whose levels are assembled (`W/checkpoints/`).
    test_data_dir: unused (module docstring).
    options: dict: `num_samples` (Parzen centres; default the evaluation's),
      `num_test_sequences` (test images scored; default all), `seed`, `output_dir`, and
      any `tfgen.models.lapgan.evaluation.LAPGANEvaluationOptions` field under `lapgan`.
  """
  from tfgen.models.lapgan import evaluation  # pylint: disable=g-import-not-at-top
  fields = dict(options.get("lapgan") or {})
  if options.get("num_samples"):
    fields.setdefault("num_samples", int(options["num_samples"]))
  if options.get("num_test_sequences"):
    fields.setdefault("num_images", int(options["num_test_sequences"]))
  fields.setdefault("seed", int(options.get("seed", 0)))
  if options.get("output_dir"):
    fields["output_dir"] = options["output_dir"]
  document = evaluation.evaluate(workdir, **fields)
  details = {"checkpoint": document.get("checkpoint"), "output_dir": document["output_dir"],
             "blessing_metric": "parzen_log_likelihood (nats per image, higher is better)"}
  return {"metrics": metrics_of(document), "details": details}
