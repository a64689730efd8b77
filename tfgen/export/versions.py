"""TF Serving's version layout (`BASE/<model_name>/<version>/`), without TensorFlow.

Read by the exporter (`tfgen.export.exporter`, which re-exports both functions) and by
processes that only look at or copy versions, e.g. the pipeline's Pusher, which then need
not import TensorFlow.
"""

import os


def existing_versions(model_dir):
  """Sorted integer versions under a model's base directory (TF Serving's layout)."""
  if not os.path.isdir(model_dir):
    return []
  return sorted(int(name) for name in os.listdir(model_dir)
                if name.isdigit() and os.path.isdir(os.path.join(model_dir, name)))


def next_version(model_dir):
  """One more than the largest existing version, 1 for a new model directory."""
  versions = existing_versions(model_dir)
  return versions[-1] + 1 if versions else 1
