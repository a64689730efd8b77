"""Writing files so that a crash never leaves a half-written one behind."""

import json
import os
import uuid

import tensorflow as tf


def atomic_write(path, data):
  """Writes `data` (bytes or str) to `path` through a temporary file and a rename."""
  mode = "w" if isinstance(data, str) else "wb"
  directory = os.path.dirname(path)
  if directory:
    tf.io.gfile.makedirs(directory)
  temporary = f"{path}.tmp-{uuid.uuid4().hex}"
  try:
    with tf.io.gfile.GFile(temporary, mode) as f:
      f.write(data)
    tf.io.gfile.rename(temporary, path, overwrite=True)
  finally:
    if tf.io.gfile.exists(temporary):
      tf.io.gfile.remove(temporary)


def atomic_write_json(path, value):
  atomic_write(path, json.dumps(value, indent=2, sort_keys=True) + "\n")
