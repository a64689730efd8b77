"""Tests of the SVG serving signatures, through a real export loaded back."""

import os
import subprocess
import sys
import tempfile
import textwrap

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.export import exporter
from tfgen.export import serving_requests
from tfgen.models.svg import export_signatures as svg_signatures
from tfgen.models.svg.svg import SVG

# Different sizes on each axis: batch 2, context 3, future 4, samples 5, z 6.
BATCH, CONTEXT, FUTURE, SAMPLES, Z_DIM = 2, 3, 4, 5, 6


def tiny_svg(prior="learned"):
  model = SVG(prior=prior, g_dim=8, z_dim=Z_DIM, rnn_size=8, base_filters=4,
              num_context_frames=CONTEXT, num_future_frames=2)
  model.build()
  return model


# Runs in a fresh interpreter where only TensorFlow is importable, like a serving host.
TENSORFLOW_ONLY_SCRIPT = textwrap.dedent("""
    import importlib.abc, sys

    class Blocker(importlib.abc.MetaPathFinder):
      def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tfgen", "tensorflow_probability"):
          raise ImportError(f"{name} is blocked in this test")
        return None

    sys.meta_path.insert(0, Blocker())
    import numpy as np
    import tensorflow as tf

    export_path, npz_path = sys.argv[1:]
    data = np.load(npz_path)
    loaded = tf.saved_model.load(export_path)
    outputs = loaded.signatures["serving_default"](
        context=tf.constant(data["context"]),
        num_future_frames=tf.constant(data["num_future_frames"]),
        num_samples=tf.constant(data["num_samples"]), seed=tf.constant(data["seed"]))
    for name in ("samples", "prior_scale"):
      np.testing.assert_allclose(outputs[name].numpy(), data[name], atol=1e-5)
    reconstruction = loaded.signatures["reconstruct"](
        video=tf.constant(data["video"]), seed=tf.constant(data["seed"]))["reconstruction"]
    np.testing.assert_allclose(reconstruction.numpy(), data["reconstruction"], atol=1e-5)
    blocked = [m for m in sys.modules if m.split(".")[0] in ("tfgen", "tensorflow_probability")]
    assert not blocked, blocked
    print("OK", sorted(loaded.signatures))
""")


class SVGSignaturesTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    keras.utils.set_random_seed(0)
    cls.model = tiny_svg("learned")
    cls.base = tempfile.mkdtemp()
    cls.examples = svg_signatures.example_inputs(
        cls.model, batch_size=BATCH, num_future_frames=FUTURE, num_samples=SAMPLES)
    cls.path = exporter.export(cls.model, os.path.join(cls.base, "svg_lp"),
                               svg_signatures.signatures(cls.model), examples=cls.examples)
    cls.loaded = tf.saved_model.load(cls.path)

  def serve(self, **overrides):
    inputs = dict(self.examples["serving_default"], **overrides)
    return self.loaded.signatures["serving_default"](
        **{k: tf.constant(v) for k, v in inputs.items()})

  def test_serving_default_matches_model(self):
    inputs = self.examples["serving_default"]
    outputs = self.serve()
    self.assertEqual(set(outputs), {"samples", "prior_scale"})
    self.assertEqual(outputs["samples"].shape, (BATCH, SAMPLES, FUTURE, 64, 64, 1))
    self.assertEqual(outputs["prior_scale"].shape, (BATCH, SAMPLES, FUTURE, Z_DIM))
    expected = self.model.generate(inputs["context"], FUTURE, SAMPLES, inputs["seed"],
                                   return_prior_scale=True)
    for name in outputs:
      self.assertAllClose(outputs[name], expected[name], atol=1e-5)
    # Stateless sampling: the same seed gives the same samples.
    self.assertAllEqual(self.serve()["samples"], outputs["samples"])

  def test_reconstruct_matches_model(self):
    inputs = self.examples["reconstruct"]
    outputs = self.loaded.signatures["reconstruct"](**inputs)
    self.assertEqual(set(outputs), {"reconstruction"})
    self.assertEqual(outputs["reconstruction"].shape, (BATCH, self.model.num_frames - 1, 64, 64, 1))
    self.assertAllClose(outputs["reconstruction"],
                        self.model.reconstruct(inputs["video"], inputs["seed"]), atol=1e-5)

  @test_case.parameterized.named_parameters(
      ("context_rank", dict(context=np.zeros((2, 3, 64, 64), np.float32)),
       r"context: expected float32 of shape \(batch, 3, 64, 64, 1\); got shape"),
      ("context_length", dict(context=np.zeros((2, 4, 64, 64, 1), np.float32)),
       r"context: expected float32 of shape \(batch, 3, 64, 64, 1\); got shape"),
      ("frame_size", dict(context=np.zeros((2, 3, 32, 32, 1), np.float32)),
       r"context: expected .*64, 64, 1\); got shape"),
      ("channels", dict(context=np.zeros((2, 3, 64, 64, 3), np.float32)),
       r"context: expected .*64, 64, 1\); got shape"),
      ("dtype", dict(context=np.zeros((2, 3, 64, 64, 1), np.float64)),
       r"expected to be a float tensor but is a double tensor"),
      ("above_one", dict(context=np.full((2, 3, 64, 64, 1), 1.5, np.float32)),
       r"context: expected values in \[0, 1\]"),
      ("negative", dict(context=np.full((2, 3, 64, 64, 1), -0.1, np.float32)),
       r"context: expected values in \[0, 1\]"),
      ("nan", dict(context=np.full((2, 3, 64, 64, 1), np.nan, np.float32)),
       r"context: expected values in \[0, 1\]"),
      ("zero_samples", dict(num_samples=np.int32(0)), r"num_samples: expected a scalar > 0"),
      ("negative_future", dict(num_future_frames=np.int32(-1)),
       r"num_future_frames: expected a scalar > 0"),
      ("count_rank", dict(num_samples=np.array([2], np.int32)),
       r"num_samples: expected int32 of shape \(\); got shape"),
      ("count_dtype", dict(num_samples=np.int64(2)), r"expected to be a int32 tensor"),
      ("seed_size", dict(seed=np.array([1, 2, 3], np.int64)),
       r"seed: expected int64 of shape \(2\); got shape"),
  )
  def test_bad_inputs_raise(self, overrides, message):
    # One short future: a failed check still runs the graph on a stand-in input.
    small = dict(num_future_frames=np.int32(1), num_samples=np.int32(1))
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
      self.serve(**dict(small, **overrides))

  def test_bad_reconstruct_input_raises(self):
    video = np.zeros((2, 3, 64, 64, 1), np.float32)  # Not the training length (5).
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                r"video: expected float32 of shape \(batch, 5, 64, 64, 1\)"):
      self.loaded.signatures["reconstruct"](video=video, seed=np.array([0, 0], np.int64))

  @test_case.parameterized.named_parameters(
      ("svg_fp", "fixed", {"serving_default": {"samples"}, "reconstruct": {"reconstruction"}}),
      ("svg_det", "none", {"serving_default": {"samples"}}),
  )
  def test_signatures_per_variant(self, prior, expected):
    # SVG-LP's are those of the export above.
    functions = svg_signatures.signatures(tiny_svg(prior))
    outputs = {name: set(fn.get_concrete_function().structured_outputs)
               for name, fn in functions.items()}
    self.assertEqual(outputs, expected)

  def test_rest_request_body_matches_signature(self):
    body = serving_requests.rest_request_body(self.examples["serving_default"])
    self.assertEqual(body["signature_name"], "serving_default")
    signature = self.loaded.signatures["serving_default"]
    declared = signature.structured_input_signature[1]
    documented = svg_signatures.input_specs(self.model)["serving_default"]
    self.assertEqual(set(body["inputs"]), set(declared))
    for name, value in body["inputs"].items():
      # JSON numbers as TF Serving reads them: the signature's dtype, the documented rank.
      array = np.asarray(value, declared[name].dtype.as_numpy_dtype)
      self.assertEqual(declared[name].dtype, documented[name].dtype, name)
      self.assertEqual(array.ndim, documented[name].shape.rank, name)
      self.assertTrue(documented[name].shape.is_compatible_with(array.shape), name)
      self.assertEqual(isinstance(np.asarray(value).flat[0], np.floating),
                       declared[name].dtype.is_floating, name)
    # The body, decoded as the server would, runs through the exported signature.
    outputs = signature(**{name: tf.constant(value, declared[name].dtype)
                           for name, value in body["inputs"].items()})
    self.assertEqual(outputs["samples"].shape, (BATCH, SAMPLES, FUTURE, 64, 64, 1))

  def test_warmup_requests_run(self):
    requests = serving_requests.read_warmup_requests(self.path)
    self.assertEqual([name for name, _ in requests], ["serving_default", "reconstruct"])
    for name, inputs in requests:
      self.loaded.signatures[name](**inputs)

  def test_loads_in_tensorflow_only_process(self):
    inputs = self.examples["serving_default"]
    expected = self.model.generate(inputs["context"], FUTURE, SAMPLES, inputs["seed"],
                                   return_prior_scale=True)
    video = self.examples["reconstruct"]["video"]
    npz = os.path.join(self.make_temp_dir(), "expected.npz")
    np.savez(npz, video=video,
             reconstruction=self.model.reconstruct(video, inputs["seed"]).numpy(),
             **inputs, **{k: v.numpy() for k, v in expected.items()})
    script = os.path.join(self.make_temp_dir(), "serve.py")
    with open(script, "w") as f:
      f.write(TENSORFLOW_ONLY_SCRIPT)
    # A clean directory and no PYTHONPATH: tfgen is not importable even without the blocker.
    result = subprocess.run(
        [sys.executable, script, self.path, npz], capture_output=True, text=True, timeout=300,
        cwd=self.make_temp_dir(), env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=""))
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn("OK ['reconstruct', 'serving_default']", result.stdout)

  def test_saved_model_cli_lists_signatures(self):
    result = subprocess.run(["saved_model_cli", "show", "--all", "--dir", self.path],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    for text in ("signature_def['serving_default']", "signature_def['reconstruct']",
                 "inputs['context']", "inputs['num_future_frames']", "inputs['num_samples']",
                 "inputs['seed']", "outputs['samples']", "outputs['prior_scale']",
                 "outputs['reconstruction']"):
      self.assertIn(text, result.stdout)


if __name__ == "__main__":
  tf.test.main()
