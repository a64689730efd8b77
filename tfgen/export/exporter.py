"""Exports models as TF Serving versions: `BASE/<model_name>/<version>/`, written atomically.

The mechanism is model-agnostic: a model family contributes a signature provider, a
module with `signatures(model) -> {name: tf.function}` and `example_inputs(model) ->
{name: {input: np.ndarray}}`, named by the family's `signatures` field in the model-family
registry (`tfgen.models.factory`, keyed by `config.model.name`).

A version is written into a hidden temporary sibling (`BASE/<model_name>/.tmp-<version>-*`,
which TF Serving ignores: it only loads integer-named directories), loaded back and run on
the example inputs, then renamed to `<version>`. A failed export removes the temporary
directory: no partial version is ever visible. Local file systems only (the rename is
what makes it atomic); export locally and copy for a bucket.
"""

import json
import os
import shutil
import tempfile

from absl import logging
import tensorflow as tf

from tfgen.export import serving_requests
from tfgen.export.versions import existing_versions  # pylint: disable=unused-import  (re-exported)
from tfgen.export.versions import next_version

SERVING_DEFAULT = "serving_default"
def signature_provider(family):
  """The signature provider module of a model family (e.g. "svg")."""
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  try:
    return factory.family_module(family, "signatures")
  except ValueError as e:
    raise ValueError(f"No export signatures for model family {family!r}: {e}") from None


def _model_module(model):
  # The exported object holds the model's variables only: the signatures capture them,
  # and nothing of the Keras model (or TFP) has to be importable to load the export.
  module = tf.Module()
  module.model_variables = [v.value if hasattr(v, "value") else v for v in model.variables]
  return module


def export(model, model_dir, signatures, version=None, examples=None, verify=True):
  """Exports `model` with `signatures` as version `version` of `model_dir`.

  Args:
    model: a built model (its variables are saved).
    model_dir: str, the model's base path as TF Serving sees it, `BASE/<model_name>`.
    signatures: `{name: tf.function}` with input signatures, returning dicts of tensors;
      must include "serving_default".
    version: int, the version to write; default one more than the largest existing one.
    examples: `{signature_name: {input_name: np.ndarray}}`, written as TF Serving warm-up
      requests (`assets.extra/tf_serving_warmup_requests`) and run by `verify`.
    verify: load the export back before publishing it and run `examples` through it.

  Returns:
    str, the version directory `model_dir/<version>`.

  Raises:
    ValueError: no "serving_default", a bad or already existing version.
  """
  if SERVING_DEFAULT not in signatures:
    raise ValueError(f"The signatures need a {SERVING_DEFAULT!r} entry; got {list(signatures)}.")
  if version is None:
    version = next_version(model_dir)
  if not isinstance(version, int) or version < 1:
    raise ValueError(f"version must be an integer >= 1, got {version!r}.")
  final_dir = os.path.join(model_dir, str(version))
  if os.path.exists(final_dir):
    raise ValueError(f"Version {version} already exists: {final_dir}.")
  model_name = os.path.basename(os.path.normpath(model_dir))

  os.makedirs(model_dir, exist_ok=True)
  temp_dir = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=model_dir)
  try:
    concrete = {name: fn.get_concrete_function() for name, fn in signatures.items()}
    tf.saved_model.save(_model_module(model), temp_dir, signatures=concrete)
    if examples:
      serving_requests.write_warmup_requests(temp_dir, model_name, examples)
    if verify:
      _run_examples(temp_dir, signatures, examples or {})
    if os.path.exists(final_dir):  # Another exporter took this version meanwhile.
      raise ValueError(f"Version {version} appeared while exporting: {final_dir}.")
    os.rename(temp_dir, final_dir)
  except BaseException:
    shutil.rmtree(temp_dir, ignore_errors=True)
    raise
  logging.info("Exported %s version %d to %s", model_name, version, final_dir)
  return final_dir


def _run_examples(saved_model_dir, signatures, examples):
  """Loads the export and runs every example through its signature (catches unloadables)."""
  loaded = tf.saved_model.load(saved_model_dir)
  missing = set(signatures) - set(loaded.signatures)
  if missing:
    raise RuntimeError(f"Signatures {sorted(missing)} missing from the export.")
  for name, inputs in examples.items():
    outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
    logging.info("Export check %s: %s", name,
                 {k: tuple(v.shape) for k, v in outputs.items()})


def _read_json(path):
  with open(path) as f:
    return json.load(f)


def load_workdir_model(workdir, checkpoint=None):
  """Builds a workdir's model and restores its weights.

  Args:
    workdir: str, a training work directory (`config.json`, `checkpoints/`).
    checkpoint: str, a checkpoint path; default the latest in `workdir/checkpoints`.

  Returns:
    `(model, config, model_name)`.

  Raises:
    FileNotFoundError: no config or no checkpoint.
    ValueError: the checkpoint does not match the config's model.
  """
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  config = workdir_lib.load_config(workdir)
  summary_path = os.path.join(workdir, "model_summary.json")
  summary = _read_json(summary_path) if os.path.exists(summary_path) else {}
  model_name = summary.get("model_name") or config.get("model_name") or config.model.name
  model, _, checkpoint = workdir_lib.load_model(workdir, config, checkpoint)
  logging.info("Restored %s from %s", model_name, checkpoint)
  return model, config, model_name


def export_workdir(workdir, export_base, version=None, checkpoint=None, verify=True):
  """Exports a training workdir's model to `export_base/<model_name>/<version>/`.

  Args:
    workdir: str, a training work directory.
    export_base: str, TF Serving's base directory (one sub-directory per model name).
    version: int, default one more than the largest existing version.
    checkpoint: str, default the workdir's latest checkpoint.
    verify: see `export`.

  Returns:
    str, the version directory.
  """
  model, config, model_name = load_workdir_model(workdir, checkpoint)
  provider = signature_provider(config.model.name)
  return export(model, os.path.join(export_base, model_name), provider.signatures(model),
                version=version, examples=provider.example_inputs(model), verify=verify)
