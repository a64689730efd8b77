"""Tests of the model-agnostic exporter: layout, versions, atomicity, warm-up records."""

import os
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.export import exporter
from tfgen.export import serving_requests


def tiny_model():
  model = keras.Sequential([keras.layers.Dense(3)])
  model.build((None, 2))
  return model


def tiny_signatures(model):
  @tf.function(input_signature=[tf.TensorSpec((None, 2), tf.float32, name="x")])
  def serving_default(x):
    return {"y": model(x)}
  return {"serving_default": serving_default}


EXAMPLES = {"serving_default": {"x": np.ones((1, 2), np.float32)}}


class ExporterTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.model = tiny_model()
    self.model_dir = os.path.join(self.make_temp_dir(), "tiny")

  def export(self, **kwargs):
    return exporter.export(self.model, self.model_dir, tiny_signatures(self.model),
                           examples=EXAMPLES, **kwargs)

  def test_versions_increase(self):
    self.assertEqual(exporter.next_version(self.model_dir), 1)
    self.assertEqual(self.export(), os.path.join(self.model_dir, "1"))
    self.assertEqual(self.export(version=5), os.path.join(self.model_dir, "5"))
    os.makedirs(os.path.join(self.model_dir, "notes"))  # Not a version: ignored.
    self.assertEqual(self.export(), os.path.join(self.model_dir, "6"))
    self.assertEqual(exporter.existing_versions(self.model_dir), [1, 5, 6])
    self.assertEqual(sorted(os.listdir(self.model_dir)), ["1", "5", "6", "notes"])

  def test_existing_version_raises(self):
    self.export(version=2)
    with self.assertRaisesRegex(ValueError, "Version 2 already exists"):
      self.export(version=2)

  @test_case.parameterized.named_parameters(("zero", 0), ("text", "3"))
  def test_bad_version_raises(self, version):
    with self.assertRaisesRegex(ValueError, "version must be an integer >= 1"):
      self.export(version=version)

  def test_needs_serving_default(self):
    signatures = {"predict": tiny_signatures(self.model)["serving_default"]}
    with self.assertRaisesRegex(ValueError, "need a 'serving_default' entry"):
      exporter.export(self.model, self.model_dir, signatures)

  def test_loads_and_matches(self):
    path = self.export()
    loaded = tf.saved_model.load(path)
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    self.assertAllClose(loaded.signatures["serving_default"](x=x)["y"], self.model(x))

  def test_warmup_records(self):
    path = self.export()
    self.assertTrue(os.path.exists(os.path.join(path, "assets.extra",
                                                "tf_serving_warmup_requests")))
    (name, inputs), = serving_requests.read_warmup_requests(path)
    self.assertEqual(name, "serving_default")
    self.assertAllEqual(inputs["x"], EXAMPLES["serving_default"]["x"])

  def test_failed_export_leaves_nothing(self):
    # The SavedModel is fully written when the warm-up records fail: nothing of it may stay.
    self.export()
    with mock.patch.object(serving_requests, "write_warmup_requests",
                           side_effect=OSError("disk full")):
      with self.assertRaisesRegex(OSError, "disk full"):
        self.export()
    self.assertEqual(os.listdir(self.model_dir), ["1"])
    self.assertEqual(exporter.next_version(self.model_dir), 2)

  def test_unloadable_export_is_not_published(self):
    # An example the signature rejects fails the load-back check before the rename.
    bad = {"serving_default": {"x": np.ones((1, 5), np.float32)}}
    with self.assertRaises((tf.errors.InvalidArgumentError, ValueError, TypeError)):
      exporter.export(self.model, self.model_dir, tiny_signatures(self.model), examples=bad)
    self.assertEqual(os.listdir(self.model_dir), [])

  def test_unknown_family(self):
    with self.assertRaisesRegex(ValueError, "No export signatures for model family 'gan'"):
      exporter.signature_provider("gan")
    self.assertTrue(hasattr(exporter.signature_provider("svg"), "signatures"))


if __name__ == "__main__":
  tf.test.main()
