"""Tests of the DrNET serving signatures, through a real export loaded back."""

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
from tfgen.export import serving_requests
from tfgen.models.drnet import drnet as drnet_lib
from tfgen.models.drnet import export_signatures

# Different sizes on each axis: batch 3, channels 2, content 7, pose 5.
BATCH, CHANNELS, CONTENT, POSE, BASE_FILTERS = 3, 2, 7, 5, 2
# The longest sum behind an output: the decoder's 4x4 convolution over its input and a
# skip of 8 x base_filters channels each.
ACCUMULATION = 4 * 4 * 2 * 8 * BASE_FILTERS


def tiny_drnet(**kwargs):
  model = drnet_lib.DrNet(**{**dict(base_filters=BASE_FILTERS, channels=CHANNELS,
                                    content_dim=CONTENT, pose_dim=POSE, sd_nf=4), **kwargs})
  model.build()
  # Moving statistics away from (0, 1), so that a training-mode batch norm shows.
  rng = np.random.default_rng(3)
  for variable in model.non_trainable_variables:
    if "moving_mean" in variable.path:
      variable.assign(rng.normal(0, 0.2, variable.shape).astype(np.float32))
    elif "moving_variance" in variable.path:
      variable.assign(rng.uniform(0.5, 2.0, variable.shape).astype(np.float32))
  return model


def expected_outputs(model, examples):
  """What the in-process model gives for the examples, in inference mode."""
  content, pose = examples["analogy"]["content"], examples["analogy"]["pose"]
  frames = model((content, pose), training=False)
  h_c, _, h_p = model.encode(examples["encode"]["frames"], training=False)
  return {"frames": frames.numpy(), "content": h_c.numpy(), "pose": h_p.numpy()}


# Runs in a fresh interpreter where only TensorFlow is importable, like a serving host.
TENSORFLOW_ONLY_SCRIPT = svg_signatures_test.TENSORFLOW_ONLY_SCRIPT.split(
    "export_path, npz_path")[0] + """
export_path, npz_path = sys.argv[1:]
data = np.load(npz_path)
loaded = tf.saved_model.load(export_path)
for name in ("serving_default", "analogy"):
  frames = loaded.signatures[name](content=tf.constant(data["content_in"]),
                                   pose=tf.constant(data["pose_in"]))["frames"]
  np.testing.assert_allclose(frames.numpy(), data["frames"], atol=1e-5)
codes = loaded.signatures["encode"](frames=tf.constant(data["frames_in"]))
for name in ("content", "pose"):
  np.testing.assert_allclose(codes[name].numpy(), data[name], atol=1e-5)
blocked = [m for m in sys.modules if m.split(".")[0] in ("tfgen", "tensorflow_probability")]
assert not blocked, blocked
print("OK", sorted(loaded.signatures))
"""


class DrNetExportSignaturesTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    keras.utils.set_random_seed(0)
    cls.model = tiny_drnet()
    cls.base = tempfile.mkdtemp()
    cls.examples = export_signatures.example_inputs(cls.model, batch_size=BATCH)
    cls.path = exporter.export(cls.model, os.path.join(cls.base, "drnet"),
                               export_signatures.signatures(cls.model), examples=cls.examples)
    cls.loaded = tf.saved_model.load(cls.path)

  def analogy(self, name="analogy", **overrides):
    inputs = dict(self.examples[name], **overrides)
    return self.loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})

  def test_signature_names(self):
    self.assertEqual(set(self.loaded.signatures), {"serving_default", "analogy", "encode"})
    # serving_default is the analogy.
    self.assertEqual(set(self.loaded.signatures["serving_default"].structured_outputs),
                     {"frames"})

  @test_case.parameterized.parameters("analogy", "serving_default")
  def test_analogy_matches_model(self, name):
    outputs = self.analogy(name)
    self.assertEqual(set(outputs), {"frames"})
    self.assertEqual(outputs["frames"].shape, (BATCH, 64, 64, CHANNELS))
    expected = expected_outputs(self.model, self.examples)["frames"]
    self.assertCloseForAccumulation(outputs["frames"], expected, ACCUMULATION)
    # Inference-mode batch norm: each frame's result does not depend on the rest of the batch.
    single = self.analogy(name, content=self.examples[name]["content"][1:2],
                          pose=self.examples[name]["pose"][1:2])["frames"]
    self.assertCloseForAccumulation(single, expected[1:2], ACCUMULATION)

  def test_analogy_takes_skips_from_the_content_frames(self):
    content, pose = self.examples["analogy"]["content"], self.examples["analogy"]["pose"]
    h_c, skips = self.model.encode_content(content, training=False)
    h_p = self.model.encode_pose(pose, training=False)
    expected = self.model.decode(h_c, skips, h_p, training=False)
    self.assertCloseForAccumulation(self.analogy()["frames"], expected, ACCUMULATION)
    # The content frames' skips, not the pose frames'.
    _, pose_skips = self.model.encode_content(pose, training=False)
    other = self.model.decode(h_c, pose_skips, h_p, training=False)
    self.assertGreater(float(np.max(np.abs(other - expected))), 1e-3)

  def test_encode_matches_model(self):
    outputs = self.loaded.signatures["encode"](frames=self.examples["encode"]["frames"])
    self.assertEqual(set(outputs), {"content", "pose"})
    self.assertEqual(outputs["content"].shape, (BATCH, CONTENT))
    self.assertEqual(outputs["pose"].shape, (BATCH, POSE))
    expected = expected_outputs(self.model, self.examples)
    for name in ("content", "pose"):
      self.assertCloseForAccumulation(outputs[name], expected[name], ACCUMULATION, msg=name)

  @test_case.parameterized.named_parameters(
      ("vgg_unet_resnet", dict(content_encoder="vgg_unet", pose_encoder="resnet")),
      ("dcgan_normalized", dict(content_encoder="dcgan", normalize_pose=True,
                                normalize_content=True)),
  )
  def test_other_architectures_match_model(self, kwargs):
    # Traced, not exported (the export is the same mechanism as above).
    model = tiny_drnet(**kwargs)
    functions = export_signatures.signatures(model)
    examples = export_signatures.example_inputs(model, batch_size=BATCH)
    expected = expected_outputs(model, examples)
    frames = functions["analogy"](**examples["analogy"])["frames"]
    self.assertCloseForAccumulation(frames, expected["frames"], ACCUMULATION)
    codes = functions["encode"](**examples["encode"])
    for name in ("content", "pose"):
      self.assertCloseForAccumulation(codes[name], expected[name], ACCUMULATION, msg=name)

  @test_case.parameterized.named_parameters(
      ("rank", dict(content=np.zeros((3, 64, 64), np.float32)),
       r"content: expected float32 of shape \(batch, 64, 64, 2\); got shape"),
      ("video", dict(pose=np.zeros((3, 1, 64, 64, 2), np.float32)),
       r"pose: expected float32 of shape \(batch, 64, 64, 2\); got shape"),
      ("frame_size", dict(content=np.zeros((3, 32, 32, 2), np.float32)),
       r"content: expected .*64, 64, 2\); got shape"),
      ("channels", dict(pose=np.zeros((3, 64, 64, 3), np.float32)),
       r"pose: expected .*64, 64, 2\); got shape"),
      ("dtype", dict(content=np.zeros((3, 64, 64, 2), np.float64)),
       r"expected to be a float tensor but is a double tensor"),
      ("above_one", dict(content=np.full((3, 64, 64, 2), 1.5, np.float32)),
       r"content: expected values in \[0, 1\]"),
      ("negative", dict(pose=np.full((3, 64, 64, 2), -0.1, np.float32)),
       r"pose: expected values in \[0, 1\]"),
      ("nan", dict(pose=np.full((3, 64, 64, 2), np.nan, np.float32)),
       r"pose: expected values in \[0, 1\]"),
      ("batch", dict(pose=np.zeros((2, 64, 64, 2), np.float32)),
       r"pose: expected the batch size of content; got the batch sizes of pose and "
       r"content\] \[2\] \[3\]"),
  )
  def test_bad_analogy_inputs_raise(self, overrides, message):
    for name in ("analogy", "serving_default"):
      with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
        self.analogy(name, **overrides)

  @test_case.parameterized.named_parameters(
      ("rank", np.zeros((3, 64, 64), np.float32),
       r"frames: expected float32 of shape \(batch, 64, 64, 2\); got shape"),
      ("channels", np.zeros((3, 64, 64, 1), np.float32),
       r"frames: expected .*64, 64, 2\); got shape"),
      ("range", np.full((3, 64, 64, 2), 2.0, np.float32), r"frames: expected values in \[0, 1\]"),
  )
  def test_bad_encode_inputs_raise(self, frames, message):
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
      self.loaded.signatures["encode"](frames=tf.constant(frames))

  def test_warmup_requests_run(self):
    requests = serving_requests.read_warmup_requests(self.path)
    self.assertEqual([name for name, _ in requests], ["serving_default", "analogy", "encode"])
    for name, inputs in requests:
      self.loaded.signatures[name](**inputs)

  def test_exporter_registers_drnet(self):
    self.assertIs(exporter.signature_provider("drnet"), export_signatures)

  def test_loads_in_tensorflow_only_process(self):
    expected = expected_outputs(self.model, self.examples)
    npz = os.path.join(self.make_temp_dir(), "expected.npz")
    np.savez(npz, content_in=self.examples["analogy"]["content"],
             pose_in=self.examples["analogy"]["pose"],
             frames_in=self.examples["encode"]["frames"], **expected)
    script = os.path.join(self.make_temp_dir(), "serve.py")
    with open(script, "w") as f:
      f.write(TENSORFLOW_ONLY_SCRIPT)
    # A clean directory and no PYTHONPATH: tfgen is not importable even without the blocker.
    result = subprocess.run(
        [sys.executable, script, self.path, npz], capture_output=True, text=True, timeout=300,
        cwd=self.make_temp_dir(), env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=""))
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertIn("OK ['analogy', 'encode', 'serving_default']", result.stdout)


if __name__ == "__main__":
  tf.test.main()
