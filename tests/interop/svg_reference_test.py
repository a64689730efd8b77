"""Tests of `tfgen.interop.svg_reference`: edenton/svg checkpoints -> tfgen work dirs.

The committed fixture (data/svg_lp_dcgan_tiny.pth, made by data/make_fixture.py with
PyTorch) is imported without PyTorch and the loaded model's outputs are compared with
PyTorch's on the same inputs (data/svg_lp_dcgan_tiny_outputs.npz).
"""

import argparse
import json
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.interop import pickle_craft as pc
from tfgen.interop import svg_reference
from tfgen.interop import torch_pickle
from tfgen.models import factory
from tfgen.train import trainer
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
FIXTURE = os.path.join(DATA, "svg_lp_dcgan_tiny.pth")
FIXTURE_OUTPUTS = os.path.join(DATA, "svg_lp_dcgan_tiny_outputs.npz")
# Longest reduction of the compared outputs at these widths (a 4x4 conv over 32 channels of
# the DCGAN decoder; VGG: 3x3 over 32 + 32) with headroom for the chain of layers.
ACCUMULATION = 1024


def assert_matches_reference(test, model, outputs_path, accumulation=ACCUMULATION):
  """The tfgen `model`'s outputs equal PyTorch's stored in `outputs_path` (eval mode)."""
  expected = dict(np.load(outputs_path))
  frames = expected.pop("pixels").astype(np.float32) / 255.0
  noise = expected.pop("noise")
  h, skips = model.encode(frames, training=False)
  actual = {"h": h, "decoded": model.decode(h, skips, training=False)}
  posterior, _ = model.posterior(h[:, 1:])
  actual["posterior_mean"] = posterior.mean()
  actual["posterior_log_variance"] = tf.math.log(posterior.variance())
  if model.learned_prior is not None:
    prior, _ = model.learned_prior(h[:, :-1])
    actual["prior_mean"] = prior.mean()
    actual["prior_log_variance"] = tf.math.log(prior.variance())
  z = model.sample(posterior, noise)
  actual["predictor"], _ = model.frame_predictor(tf.concat([h[:, :-1], z], -1))
  actual["reconstruction"] = model.compute_losses(frames, noise, training=False,
                                                  return_frames=True)["frames"]
  test.assertEqual(sorted(actual), sorted(expected))
  for name, value in expected.items():
    test.assertCloseForAccumulation(np.asarray(actual[name]), value, accumulation, msg=name)


def import_fixture(workdir, **kwargs):
  return svg_reference.import_checkpoint(FIXTURE, workdir, **kwargs)


class FixtureImportTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.workdir = os.path.join(cls.root, "imported")
    cls.result = import_fixture(cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_outputs_match_pytorch(self):
    model, config, _ = workdir_lib.load_model(self.workdir)
    self.assertEqual(config.model.skip_mode, "reference")
    assert_matches_reference(self, model, FIXTURE_OUTPUTS)

  def test_config_comes_from_opt(self):
    config = workdir_lib.load_config(self.workdir)
    self.assertEqual(config.model_name, "svg_lp")
    model = config.model
    self.assertEqual(
        (model.prior, model.architecture, model.image_size, model.channels, model.g_dim,
         model.z_dim, model.rnn_size, model.predictor_layers, model.posterior_layers,
         model.prior_layers, model.num_context_frames, model.num_future_frames,
         model.skip_mode, model.base_filters, model.batch_norm_moving_variance),
        ("learned", "dcgan", 64, 1, 8, 3, 8, 2, 1, 1, 2, 2, "reference", 2, "unbiased"))
    self.assertAlmostEqual(model.beta, 1e-4)
    self.assertEqual(config.data.name, "smmnist")
    self.assertEqual(config.data.num_frames, 4)
    self.assertEqual((config.train.batch_size, config.train.optimizer), (2, "adam"))
    self.assertAlmostEqual(config.train.learning_rate, 0.002)
    self.assertIn("model.skip_mode=reference", self.result["config_overrides"])
    with open(os.path.join(self.workdir, trainer.SUMMARY_FILE)) as f:
      summary = json.load(f)
    self.assertEqual(summary["model_name"], "svg_lp")
    with open(os.path.join(self.workdir, svg_reference.IMPORT_FILE)) as f:
      record = json.load(f)
    self.assertEqual(record["opt"]["optimizer"], "torch.optim.adam.Adam")
    self.assertEqual(record["base_config"], "svg_lp_smmnist")
    self.assertLen(record["sha256"], 64)

  def test_printed_overrides_rebuild_the_config(self):
    # `train --model=svg_lp --dataset=smmnist <overrides>` resolves to the imported config,
    # so the trainer accepts the workdir (tests/bin/import_reference_test.py trains on it).
    config = config_loader.load("svg_lp", "smmnist")
    config_loader.apply_overrides(config, self.result["config_overrides"])
    self.assertEqual(config.to_dict(), workdir_lib.load_config(self.workdir).to_dict())

  def test_trainer_restores_the_checkpoint(self):
    # What the trainer does on a resume: build and compile, then restore everything.
    config = workdir_lib.load_config(self.workdir)
    model = factory.build_model(config.model)
    model.build()
    factory.get_family(config.model.name).compile(model, config.train)
    examples_seen = tf.Variable(0, dtype=tf.int64)
    step = tf.Variable(5, dtype=tf.int64)
    path = tf.train.latest_checkpoint(os.path.join(self.workdir, workdir_lib.CHECKPOINT_DIR))
    trainer.Trainer.checkpoint(model, examples_seen, step).restore(path).assert_consumed()
    self.assertEqual((int(examples_seen.numpy()), int(step.numpy())), (0, 0))
    imported, _, _ = workdir_lib.load_model(self.workdir)
    for a, b in zip(model.get_weights(), imported.get_weights()):
      self.assertAllEqual(a, b)


class ConfigFromOptTest(test_case.TestCase):

  def opt(self, **overrides):
    return argparse.Namespace(**{**svg_reference.OPT_DEFAULTS, **overrides})

  def test_last_frame_skip(self):
    config, notes, _ = svg_reference.config_from_opt(self.opt(last_frame_skip=True), True, 64)
    self.assertEqual(config.model.skip_mode, "last_frame")
    self.assertIn("last_frame", " ".join(notes))
    config, _, _ = svg_reference.config_from_opt(self.opt(), True, 64)
    self.assertEqual(config.model.skip_mode, "reference")

  def test_base_config_per_dataset_and_prior(self):
    config, _, base = svg_reference.config_from_opt(
        self.opt(dataset="bair", model="vgg", channels=3, z_dim=64, n_past=2), True, 64)
    self.assertEqual((base, config.data.name, config.model.architecture), ("svg_lp_bair", "bair", "vgg"))
    self.assertEqual(config.data.num_frames, 12)
    config, _, base = svg_reference.config_from_opt(self.opt(), False, 64)
    self.assertEqual((base, config.model.prior), ("svg_fp_smmnist", "fixed"))
    config, notes, base = svg_reference.config_from_opt(self.opt(dataset="ucf"), True, 64)
    self.assertEqual(base, "svg_lp_smmnist")
    self.assertIn("ucf", " ".join(notes))

  def test_optimizer_and_bad_model(self):
    config, _, _ = svg_reference.config_from_opt(self.opt(optimizer="rmsprop"), True, 64)
    self.assertEqual(config.train.optimizer, "rmsprop")
    with self.assertRaisesRegex(ValueError, "Unknown opt.model 'resnet'"):
      svg_reference.config_from_opt(self.opt(model="resnet"), True, 64)


class BadInputTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = self.make_temp_dir()
    self.workdir = os.path.join(self.dir, "w")

  def assertRefused(self, path, pattern):
    with self.assertRaisesRegex(ValueError, pattern):
      svg_reference.import_checkpoint(path, self.workdir)
    self.assertFalse(os.path.exists(self.workdir))
    self.assertEqual([n for n in os.listdir(self.dir) if n.startswith(".")], [])

  def write(self, name, data):
    path = os.path.join(self.dir, name)
    with open(path, "wb") as f:
      f.write(data)
    return path

  def test_not_a_checkpoint(self):
    self.assertRefused(self.write("x.pth", b"not a checkpoint"), "not a PyTorch checkpoint")

  def test_truncated(self):
    with open(FIXTURE, "rb") as f:
      data = f.read()
    self.assertRefused(self.write("cut.pth", data[:len(data) - 100]), "truncated")

  def test_checkpoint_of_another_model(self):
    storage = pc.storage_id("1", 4)
    conv = pc.module("torch.nn.modules.conv", "Conv2d",
                     parameters=[("weight", pc.tensor_v2(storage, (1, 1, 2, 2), (4, 4, 2, 1)))])
    drnet_like = pc.Dict([("netEC", conv), ("netD", conv), ("opt", None)])
    self.assertRefused(
        self.write("drnet.pth", pc.legacy_checkpoint(drnet_like, {"1": np.zeros(4, np.float32)})),
        "not an edenton/svg SVG model: it lacks encoder, decoder, frame_predictor, posterior")
    state_dict = pc.Dict([("c1.weight", pc.tensor_v2(storage, (4,), (1,)))],
                         pc.Global("collections", "OrderedDict"))
    self.assertRefused(
        self.write("sd.pth", pc.legacy_checkpoint(state_dict, {"1": np.zeros(4, np.float32)})),
        "not an edenton/svg SVG model")

  def patched(self, edit):
    """The fixture as read, changed by `edit(checkpoint)`."""
    checkpoint = torch_pickle.load(FIXTURE)
    edit(checkpoint)
    return mock.patch.object(torch_pickle, "load", return_value=checkpoint)

  def test_missing_tensors_are_listed(self):
    def edit(c):
      del c["decoder"].named_modules()["upc2.main.1"].buffers["running_var"]
      del c["prior"].named_modules()["mu_net"].parameters["bias"]
    with self.patched(edit):
      self.assertRefused(FIXTURE, r"missing tensor decoder\.upc2\.main\.1\.running_var; "
                         r"missing tensor prior\.mu_net\.bias")

  def test_extra_tensors_are_listed(self):
    def edit(c):
      c["encoder"].named_modules()["c2.main.0"].parameters["weight_v"] = np.zeros(3)
      c["posterior"].buffers["scale"] = np.ones(2)
    with self.patched(edit):
      self.assertRefused(FIXTURE, r"no place for: encoder\.c2\.main\.0\.weight_v, "
                         r"posterior\.scale")

  def test_wrong_shapes_and_layers(self):
    def wrong_shape(c):
      layer = c["frame_predictor"].named_modules()["embed"]
      layer.parameters["weight"] = np.zeros((8, 12), np.float32)
    with self.patched(wrong_shape):
      self.assertRefused(FIXTURE, r"frame_predictor/embed/kernel: checkpoint \(12, 8\), "
                         r"model \(11, 8\)")

    def wrong_stride(c):
      c["encoder"].named_modules()["c3.main.0"].attributes["stride"] = (1, 1)
    with self.patched(wrong_stride):
      self.assertRefused(FIXTURE, r"encoder\.c3\.main\.0 has stride=\(1, 1\)")

    def wrong_class(c):
      decoder = c["decoder"].named_modules()
      decoder["upc1"].modules["0"] = decoder["upc2.main.1"]
    with self.patched(wrong_class):
      self.assertRefused(FIXTURE, r"decoder\.upc1\.0 is a torch\.nn\.modules\.batchnorm"
                         r"\.BatchNorm2d, expected ConvTranspose2d")

  def test_opt_that_contradicts_the_modules(self):
    def edit(c):
      c["opt"].model = "vgg"
    with self.patched(edit):
      self.assertRefused(FIXTURE, "encoder is a models.dcgan_64.encoder, but its opt "
                         r"\(model='vgg', image_width=64\) describes models.vgg_64.encoder")

  def test_existing_workdir(self):
    os.makedirs(self.workdir)
    marker = os.path.join(self.workdir, "keep.txt")
    with open(marker, "w") as f:
      f.write("mine")
    with self.assertRaisesRegex(ValueError, "already exists and is not empty; pass --overwrite"):
      import_fixture(self.workdir)
    self.assertEqual(os.listdir(self.workdir), ["keep.txt"])
    import_fixture(self.workdir, overwrite=True)
    self.assertFalse(os.path.exists(marker))
    self.assertTrue(os.path.exists(os.path.join(self.workdir, "config.json")))
    self.assertEqual([n for n in os.listdir(self.dir) if n.startswith(".")], [])


if __name__ == "__main__":
  tf.test.main()
