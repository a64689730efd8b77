"""Example requests of an exported model: TF Serving warm-up records and REST bodies."""

import json
import os

import numpy as np
import tensorflow as tf

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def write_warmup_requests(saved_model_dir, model_name, examples):
  """Writes TF Serving warm-up `PredictionLog` records into `saved_model_dir`.

  TF Serving replays `assets.extra/tf_serving_warmup_requests` when it loads a version,
  before serving it, so the first user request does not pay for graph initialisation.

  Args:
    saved_model_dir: str, a SavedModel directory (one version).
    model_name: str, the served model name written into each request's `model_spec`.
    examples: `{signature_name: {input_name: np.ndarray}}`, one request per signature.

  Returns:
    str, the path of the records file.
  """
  # Imported here: only exporting needs tensorflow-serving-api, not the rest of tfgen.
  from tensorflow_serving.apis import model_pb2  # pylint: disable=g-import-not-at-top
  from tensorflow_serving.apis import predict_pb2  # pylint: disable=g-import-not-at-top
  from tensorflow_serving.apis import prediction_log_pb2  # pylint: disable=g-import-not-at-top

  path = os.path.join(saved_model_dir, WARMUP_FILE)
  tf.io.gfile.makedirs(os.path.dirname(path))
  with tf.io.TFRecordWriter(path) as writer:
    for signature_name, inputs in examples.items():
      request = predict_pb2.PredictRequest(
          model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name))
      for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
      log = prediction_log_pb2.PredictionLog(
          predict_log=prediction_log_pb2.PredictLog(request=request))
      writer.write(log.SerializeToString())
  return path


def read_warmup_requests(saved_model_dir):
  """Reads the warm-up records back: a list of `(signature_name, {input_name: np.ndarray})`."""
  from tensorflow_serving.apis import prediction_log_pb2  # pylint: disable=g-import-not-at-top
  requests = []
  for record in tf.data.TFRecordDataset(os.path.join(saved_model_dir, WARMUP_FILE)):
    log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
    request = log.predict_log.request
    requests.append((request.model_spec.signature_name,
                     {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}))
  return requests


def rest_request_body(inputs, signature_name="serving_default"):
  """A TF Serving REST `:predict` body in the columnar `inputs` format.

  The row format (`instances`) needs every input to share the batch dimension; the SVG
  signatures have scalar counts and a `[2]` seed, hence the columnar format.

  Args:
    inputs: `{input_name: array-like}`, e.g. one entry of `svg_signatures.example_inputs`.
    signature_name: str, the signature to call.

  Returns:
    dict, ready for `json.dumps`: `{"signature_name": ..., "inputs": {name: nested lists}}`.
  """
  return {"signature_name": signature_name,
          "inputs": {name: np.asarray(value).tolist() for name, value in inputs.items()}}


def write_rest_request_body(path, inputs, signature_name="serving_default"):
  """Writes `rest_request_body(inputs, signature_name)` as JSON to `path` (for `curl -d @path`)."""
  with tf.io.gfile.GFile(path, "w") as f:
    json.dump(rest_request_body(inputs, signature_name), f)
