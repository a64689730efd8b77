"""Tests of the example requests (REST bodies; warm-up records are tested with the exporter)."""

import json
import os

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.export import serving_requests


class RestRequestBodyTest(test_case.TestCase):

  def test_columnar_inputs(self):
    body = serving_requests.rest_request_body(
        {"x": np.zeros((1, 2), np.float32), "n": np.int32(3), "seed": np.array([1, 2])})
    self.assertEqual(body, {"signature_name": "serving_default",
                            "inputs": {"x": [[0.0, 0.0]], "n": 3, "seed": [1, 2]}})

  def test_writes_json(self):
    path = os.path.join(self.make_temp_dir(), "request.json")
    serving_requests.write_rest_request_body(path, {"n": np.int32(3)}, "reconstruct")
    with open(path) as f:
      self.assertEqual(json.load(f), {"signature_name": "reconstruct", "inputs": {"n": 3}})


if __name__ == "__main__":
  tf.test.main()
