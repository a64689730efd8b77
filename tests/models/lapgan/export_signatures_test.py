"""Tests of the LAPGAN serving signatures, through a real export loaded back."""

import os
import subprocess
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tests.models.svg import export_signatures_test as svg_signatures_test
from tfgen.export import exporter
from tfgen.models.lapgan import export_signatures
from tfgen.models.lapgan.lapgan import LAPGAN

SMALL = dict(hidden_generator=3, hidden_discriminator=4, coarsest_generator_units=6,
             coarsest_discriminator_units=5, noise_dim=3, channels=2)

TENSORFLOW_ONLY_SCRIPT = svg_signatures_test.TENSORFLOW_ONLY_SCRIPT.split(
    "export_path, npz_path")[0] + """
export_path, npz_path = sys.argv[1:]
data = np.load(npz_path)
loaded = tf.saved_model.load(export_path)
out = loaded.signatures["serving_default"](num_samples=tf.constant(3),
                                           seed=tf.constant([5, 6], tf.int64))
np.testing.assert_allclose(out["images"].numpy(), data["images"], atol=1e-5)
blocked = [m for m in sys.modules if m.split(".")[0] in ("tfgen", "tensorflow_probability")]
assert not blocked, blocked
print("OK", sorted(loaded.signatures))
"""


def tiny_lapgan(**kwargs):
  model = LAPGAN(**{**dict(sizes=(16, 9), **SMALL), **kwargs})
  model.build()
  rng = np.random.default_rng(0)
  for level in model.levels:
    level.set_data_statistics(rng.uniform(0.3, 0.5, (16, 16, 2)),
                              rng.uniform(0.1, 0.2, (16, 16, 2)))
  return model


class LAPGANExportSignaturesTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    keras.utils.set_random_seed(0)
    cls.base = tempfile.mkdtemp()
    cls.model = tiny_lapgan()
    cls.path = exporter.export(cls.model, os.path.join(cls.base, "lapgan"),
                               export_signatures.signatures(cls.model),
                               examples=export_signatures.example_inputs(cls.model))
    cls.loaded = tf.saved_model.load(cls.path)
    cls.cc_model = tiny_lapgan(num_classes=3)
    cls.cc_path = exporter.export(cls.cc_model, os.path.join(cls.base, "cc"),
                                  export_signatures.signatures(cls.cc_model),
                                  examples=export_signatures.example_inputs(cls.cc_model))
    cls.cc_loaded = tf.saved_model.load(cls.cc_path)

  def default(self, loaded, n=3, seed=(5, 6)):
    return loaded.signatures["serving_default"](num_samples=tf.constant(n, tf.int32),
                                                seed=tf.constant(seed, tf.int64))

  def test_serving_default_samples_in_display_units_stateless_by_seed(self):
    out = self.default(self.loaded)
    images = out["images"].numpy()
    self.assertEqual(images.shape, (3, 16, 16, 2))
    self.assertTrue(np.all((images >= 0) & (images <= 1)))
    expected = self.model.to_display(self.model.sample(3, tf.constant([5, 6], tf.int64)))
    self.assertAllClose(images, expected, atol=1e-5)
    self.assertAllEqual(images, self.default(self.loaded)["images"])
    other = self.default(self.loaded, seed=(5, 7))["images"].numpy()
    self.assertGreater(np.abs(images - other).max(), 1e-4)

  def test_from_coarse(self):
    self.assertEqual(sorted(self.loaded.signatures), ["from_coarse", "serving_default"])
    coarse = np.random.default_rng(1).uniform(size=(2, 9, 9, 2)).astype(np.float32)
    out = self.loaded.signatures["from_coarse"](coarse=tf.constant(coarse),
                                                seed=tf.constant([1, 2], tf.int64))
    expected = self.model.to_display(self.model.sample(
        2, tf.constant([1, 2], tf.int64), coarse=self.model.from_display(coarse)))
    self.assertAllClose(out["images"], expected, atol=1e-5)

  def test_class_conditional(self):
    self.assertEqual(sorted(self.cc_loaded.signatures),
                     ["from_coarse", "serving_default", "with_labels"])
    out = self.default(self.cc_loaded, n=4)
    self.assertEqual(out["labels"].shape, (4,))
    labels = tf.constant([2, 0], tf.int32)
    seed = tf.constant([3, 3], tf.int64)
    images = self.cc_loaded.signatures["with_labels"](labels=labels, seed=seed)["images"]
    expected = self.cc_model.to_display(self.cc_model.sample(2, seed, labels=labels))
    self.assertAllClose(images, expected, atol=1e-5)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                r"labels: expected classes in \[0, 3\)"):
      self.cc_loaded.signatures["with_labels"](labels=tf.constant([3]), seed=seed)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "one label per coarse image"):
      self.cc_loaded.signatures["from_coarse"](
          coarse=tf.zeros((2, 9, 9, 2)), labels=tf.constant([1]), seed=seed)

  def test_bad_inputs(self):
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "num_samples: expected"):
      self.default(self.loaded, n=0)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, r"coarse: expected float32 "
                                r"of shape \(batch, 9, 9, 2\)"):
      self.loaded.signatures["from_coarse"](coarse=tf.zeros((2, 8, 8, 2)),
                                            seed=tf.constant([1, 2], tf.int64))
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, r"values in \[0, 1\]"):
      self.loaded.signatures["from_coarse"](coarse=tf.fill((1, 9, 9, 2), 2.0),
                                            seed=tf.constant([1, 2], tf.int64))

  def test_loads_with_tensorflow_only(self):
    npz = os.path.join(self.make_temp_dir(), "expected.npz")
    np.savez(npz, images=self.default(self.loaded)["images"].numpy())
    script = os.path.join(self.make_temp_dir(), "serve.py")
    with open(script, "w") as f:
      f.write(TENSORFLOW_ONLY_SCRIPT)
    result = subprocess.run(
        [sys.executable, script, self.path, npz], capture_output=True, text=True, timeout=300,
        cwd=self.make_temp_dir(), env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=""))
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn("OK ['from_coarse', 'serving_default']", result.stdout)


if __name__ == "__main__":
  tf.test.main()
