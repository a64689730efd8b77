"""Tests of `tfgen.interop.drnet_reference` and `importer`: drnet-py checkpoints -> work dirs.

The committed fixture (data/drnet_tiny.pth, a DrNET as drnet-py's train_drnet.py saves
it plus its scene discriminator, and data/drnet_lstm_tiny.pth, the pose LSTM as
train_lstm.py saves it; made by data/make_drnet_fixture.py with PyTorch) is imported without
PyTorch and the loaded models' outputs are compared with PyTorch's on the same inputs
(data/drnet_tiny_outputs.npz).
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
from tests.interop import svg_reference_test
from tfgen.interop import drnet_reference
from tfgen.interop import importer
from tfgen.interop import torch_pickle
from tfgen.models import factory
from tfgen.train import trainer
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
FIXTURE = os.path.join(DATA, "drnet_tiny.pth")
LSTM_FIXTURE = os.path.join(DATA, "drnet_lstm_tiny.pth")
FIXTURE_OUTPUTS = os.path.join(DATA, "drnet_tiny_outputs.npz")
# Longest reduction of the compared outputs at these widths (a 3x3 conv over 2 x 16 channels
# of the VGG decoder, 4x4 transposed convs over 2 x 16) with headroom for the chain of layers.
ACCUMULATION = 1024
DRNET_OUTPUTS = ("content", "pose", "reconstruction", "scene_logits")
LSTM_OUTPUTS = ("lstm_poses", "predicted")


def _frames(expected):
  return expected["pixels"].astype(np.float32) / 255.0  # (B, T, H, W, C)


def assert_drnet_matches_reference(test, model, outputs_path, accumulation=ACCUMULATION,
                                   names=DRNET_OUTPUTS):
  """The tfgen DrNet's E_c, E_p, D (with skips) and C outputs equal PyTorch's (eval mode).

  `names`: the outputs compared (C's `scene_logits` only where PyTorch stored them).
  """
  expected = dict(np.load(outputs_path))
  frames = _frames(expected)
  batch, time = frames.shape[:2]
  content, skips = model.encode_content(frames[:, 0], training=False)
  flat = frames.reshape((batch * time,) + frames.shape[2:])  # (B*T, H, W, C), clip-major
  poses = model.encode_pose(flat, training=False)  # (B*T, P)
  # D(E_c(frame 0) with its skips, E_p(frame t)) for every t: content repeated per frame.
  reconstruction = model.decode(tf.repeat(content, time, axis=0),
                                [tf.repeat(s, time, axis=0) for s in skips], poses,
                                training=False)
  actual = {"content": content, "pose": tf.reshape(poses, (batch, time, -1)),
            "reconstruction": tf.reshape(reconstruction, frames.shape)}
  if "scene_logits" in expected:
    first = tf.repeat(tf.reshape(poses, (batch, time, -1))[:, 0], time, axis=0)
    actual["scene_logits"] = tf.reshape(model.scene_discriminator((first, poses)),
                                        (batch, time))
  for name in names:
    if name in expected:
      test.assertCloseForAccumulation(np.asarray(actual[name]), expected[name], accumulation,
                                      msg=name)
  return expected


def assert_lstm_matches_reference(test, model, outputs_path, accumulation=ACCUMULATION):
  """The tfgen PoseLSTM's teacher-forced poses and predicted frames equal PyTorch's."""
  expected = dict(np.load(outputs_path))
  frames = _frames(expected)
  n_past = model.num_context_frames
  poses, content, _ = model.encode_clip(frames, training=False)
  actual = {"lstm_poses": model.teacher_forced(poses, content),
            "predicted": model.predict_future(frames[:, :n_past], frames.shape[1] - n_past)}
  for name in LSTM_OUTPUTS:
    test.assertCloseForAccumulation(np.asarray(actual[name]), expected[name], accumulation,
                                    msg=name)


class FixtureImportTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.workdir = os.path.join(cls.root, "drnet")
    cls.lstm_workdir = os.path.join(cls.root, "lstm")
    cls.result = importer.import_checkpoint(FIXTURE, cls.workdir)
    cls.lstm_result = importer.import_checkpoint(LSTM_FIXTURE, cls.lstm_workdir,
                                                 drnet_workdir=cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_drnet_outputs_match_pytorch(self):
    model, config, _ = workdir_lib.load_model(self.workdir)
    self.assertEqual(config.model.name, "drnet")
    expected = assert_drnet_matches_reference(self, model, FIXTURE_OUTPUTS)
    self.assertIn("scene_logits", expected)

  def test_lstm_outputs_match_pytorch(self):
    model, config, _ = workdir_lib.load_model(self.lstm_workdir)
    self.assertEqual(config.model.name, "drnet_lstm")
    assert_lstm_matches_reference(self, model, FIXTURE_OUTPUTS)

  def test_config_comes_from_opt(self):
    self.assertEqual((self.result["model"], self.lstm_result["model"]), ("drnet", "drnet_lstm"))
    config = workdir_lib.load_config(self.workdir)
    m = config.model
    self.assertEqual(
        (m.image_size, m.channels, m.content_dim, m.pose_dim, m.content_encoder,
         m.pose_encoder, m.sd_nf, m.normalize_pose, m.normalize_content,
         m.discriminator_labels, m.base_filters, m.batch_norm_moving_variance),
        (64, 3, 6, 4, "vgg_unet", "resnet", 5, False, False, "reference", 2, "unbiased"))
    self.assertAlmostEqual(m.beta, 1e-4)
    self.assertEqual((config.data.name, config.data.num_frames, config.data.frame_sampling,
                      config.data.options.velocities, config.data.options.num_digits),
                     ("mnist", 20, "consecutive", "reference", 2))
    self.assertEqual((config.train.batch_size, config.train.optimizer), (4, "adam"))
    self.assertAlmostEqual(config.train.beta1, 0.5)
    self.assertAlmostEqual(config.train.epsilon, 1e-8)
    with open(os.path.join(self.workdir, drnet_reference.IMPORT_FILE)) as f:
      record = json.load(f)
    self.assertEqual(record["opt"]["optimizer"], "torch.optim.adam.Adam")
    self.assertEqual(record["base_config"], "drnet_mnist")
    self.assertNotIn("No netC", " ".join(record["notes"]))

    lstm = workdir_lib.load_config(self.lstm_workdir)
    self.assertEqual(lstm.drnet_workdir, self.workdir)
    self.assertEqual(
        (lstm.model.num_context_frames, lstm.model.num_future_frames, lstm.model.hidden_size,
         lstm.model.num_layers, lstm.model.normalize_output, lstm.model.encoder_batch_norm),
        (2, 1, 8, 2, False, "training"))
    self.assertEqual(lstm.model.drnet.to_dict(),
                     {k: v for k, v in m.to_dict().items() if k != "name"})
    self.assertEqual((lstm.data.name, lstm.data.num_frames, lstm.data.options.velocities),
                     ("mnist", 3, "reference"))
    self.assertAlmostEqual(lstm.train.learning_rate, 2e-4)
    with open(os.path.join(self.lstm_workdir, trainer.SUMMARY_FILE)) as f:
      self.assertEqual(json.load(f)["model_name"], "drnet_lstm")

  def test_printed_overrides_rebuild_the_config(self):
    # `train --model=... --dataset=... <overrides>` resolves to the imported config (for the
    # LSTM after the family's prepare_config, as the trainer does).
    for result, workdir in ((self.result, self.workdir), (self.lstm_result, self.lstm_workdir)):
      model_name, dataset = result["base_config"].rsplit("_", 1)
      config = config_loader.load(model_name, dataset)
      config_loader.apply_overrides(config, result["config_overrides"])
      family = factory.get_family(config.model.name)
      if family.prepare_config is not None:
        family.prepare_config(config)
      self.assertEqual(config.to_dict(), workdir_lib.load_config(workdir).to_dict(),
                       model_name)

  def test_trainer_restores_the_checkpoints(self):
    for workdir in (self.workdir, self.lstm_workdir):
      config = workdir_lib.load_config(workdir)
      model = factory.build_model(config.model)
      model.build()
      factory.get_family(config.model.name).compile(model, config.train)
      examples_seen = tf.Variable(0, dtype=tf.int64)
      step = tf.Variable(5, dtype=tf.int64)
      path = tf.train.latest_checkpoint(os.path.join(workdir, workdir_lib.CHECKPOINT_DIR))
      trainer.Trainer.checkpoint(model, examples_seen, step).restore(path).assert_consumed()
      self.assertEqual(int(step.numpy()), 0)

  def test_lstm_freezes_the_drnet_networks(self):
    drnet, _, _ = workdir_lib.load_model(self.workdir)
    lstm, _, _ = workdir_lib.load_model(self.lstm_workdir)
    for a, b in zip(drnet.get_weights(), lstm.drnet.get_weights()):
      self.assertAllEqual(a, b)


class ConfigFromOptTest(test_case.TestCase):

  def opt(self, **overrides):
    return argparse.Namespace(**{**drnet_reference.OPT_DEFAULTS, **overrides})

  def test_defaults_are_drnet_py_moving_mnist(self):
    config, notes, base = drnet_reference.config_from_opt(self.opt(), 64)
    m = config.model
    self.assertEqual(base, "drnet_mnist")
    self.assertEqual((m.content_encoder, m.pose_encoder, m.content_dim, m.pose_dim, m.channels,
                      m.normalize_pose, m.normalize_content, m.sd_nf),
                     ("dcgan_unet", "dcgan", 128, 10, 3, False, False, 100))
    self.assertEqual((config.data.frame_sampling, config.data.num_frames), ("consecutive", 20))
    self.assertIn("No netC", " ".join(notes))

  def test_kth_128(self):
    config, notes, base = drnet_reference.config_from_opt(
        self.opt(dataset="kth", image_width=128, content_model="vgg_unet",
                 pose_model="resnet", pose_dim=5, channels=1, sd_weight=0.1, lr=0.001,
                 optimizer="rmsprop"), 64, normalize_pose=True, has_scene_discriminator=True)
    self.assertEqual(base, "drnet_kth")
    self.assertEqual((config.model.image_size, config.data.options.image_size,
                      config.data.frame_sampling, config.model.normalize_pose),
                     (128, 128, "independent", True))
    self.assertAlmostEqual(config.model.beta, 0.1)
    self.assertEqual((config.train.optimizer, config.train.learning_rate), ("rmsprop", 0.001))
    self.assertNotIn("No netC", " ".join(notes))
    _, notes, _ = drnet_reference.config_from_opt(self.opt(dataset="kth"), 64)
    self.assertIn("tfgen's KTH data have 1", " ".join(notes))

  def test_suncg_and_bad_options(self):
    config, notes, base = drnet_reference.config_from_opt(self.opt(dataset="suncg"), 64)
    self.assertEqual((base, config.data.frame_sampling), ("drnet_mnist", "consecutive"))
    self.assertIn("opt.dataset='suncg' has no tfgen drnet config", " ".join(notes))
    with self.assertRaisesRegex(ValueError, "Unknown opt.content_model 'unet'; valid: dcgan, "
                                "dcgan_unet, vgg_unet"):
      drnet_reference.config_from_opt(self.opt(content_model="unet"), 64)


class BadInputTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = self.make_temp_dir()
    self.workdir = os.path.join(self.dir, "w")

  def assertRefused(self, path, pattern, **kwargs):
    with self.assertRaisesRegex(ValueError, pattern):
      importer.import_checkpoint(path, self.workdir, **kwargs)
    self.assertFalse(os.path.exists(self.workdir))
    self.assertEqual([n for n in os.listdir(self.dir) if n.startswith(".")], [])

  def write(self, name, data):
    path = os.path.join(self.dir, name)
    with open(path, "wb") as f:
      f.write(data)
    return path

  def patched(self, edit, fixture=FIXTURE):
    """`fixture` as read, changed by `edit(checkpoint)`."""
    checkpoint = torch_pickle.load(fixture)
    edit(checkpoint)
    return mock.patch.object(torch_pickle, "load", return_value=checkpoint)

  def test_checkpoints_of_other_models(self):
    storage = pc.storage_id("1", 4)
    conv = pc.module("torch.nn.modules.conv", "Conv2d",
                     parameters=[("weight", pc.tensor_v2(storage, (1, 1, 2, 2), (4, 4, 2, 1)))])
    storages = {"1": np.zeros(4, np.float32)}
    partial = pc.Dict([("netEC", conv), ("netD", conv), ("opt", None)])
    self.assertRefused(self.write("partial.pth", pc.legacy_checkpoint(partial, storages)),
                       "not a drnet-py DrNET model .train_drnet.py.: it lacks netEP")
    other = pc.Dict([("generator", conv), ("opt", None)])
    self.assertRefused(self.write("gan.pth", pc.legacy_checkpoint(other, storages)),
                       "of no model tfgen can import: its keys are generator, opt; expected "
                       "edenton/svg's")
    state_dict = pc.Dict([("c1.weight", pc.tensor_v2(storage, (4,), (1,)))],
                         pc.Global("collections", "OrderedDict"))
    self.assertRefused(self.write("sd.pth", pc.legacy_checkpoint(state_dict, storages)),
                       "its keys are c1.weight")
    self.assertRefused(self.write("list.pth", pc.legacy_checkpoint(pc.List([1, 2]), {})),
                       "holds a list, not the dict of modules")

  def test_detects_each_model(self):
    self.assertEqual(importer.detect(torch_pickle.load(FIXTURE), FIXTURE), "drnet")
    self.assertEqual(importer.detect(torch_pickle.load(LSTM_FIXTURE), LSTM_FIXTURE),
                     "drnet_lstm")
    svg = svg_reference_test.FIXTURE
    self.assertEqual(importer.detect(torch_pickle.load(svg), svg), "svg")

  def test_missing_and_extra_tensors_are_listed(self):
    def edit(c):
      del c["netEP"].named_modules()["main.layer2.0.downsample.1"].buffers["running_var"]
      del c["netC"].named_modules()["main.2"].parameters["bias"]
      c["netD"].named_modules()["upc3.1.main.0"].parameters["weight_v"] = np.zeros(3)
    with self.patched(edit):
      self.assertRefused(FIXTURE, r"missing tensor netEP\.main\.layer2\.0\.downsample\.1\."
                         r"running_var; missing tensor netC\.main\.2\.bias; tensors the tfgen "
                         r"model has no place for: netD\.upc3\.1\.main\.0\.weight_v")

  def test_wrong_geometry_class_and_shape(self):
    def wrong_padding(c):
      c["netEP"].named_modules()["main.conv1"].attributes["padding"] = (2, 2)
    with self.patched(wrong_padding):
      self.assertRefused(FIXTURE, r"netEP\.main\.conv1 has padding=\(2, 2\), expected \(3, 3\)")

    def wrong_class(c):
      modules = c["netD"].named_modules()
      modules["upc1"].modules["0"] = modules["upc1"].modules["1"]
    with self.patched(wrong_class):
      self.assertRefused(FIXTURE, r"netD\.upc1\.0 is a torch\.nn\.modules\.batchnorm"
                         r"\.BatchNorm2d, expected ConvTranspose2d")

    def wrong_eps(c):
      c["netEC"].named_modules()["c2.0.main.1"].attributes["eps"] = 1e-3
    with self.patched(wrong_eps):
      self.assertRefused(FIXTURE, r"netEC\.c2\.0\.main\.1 has eps=0\.001, expected 1e-05")

    def wrong_shape(c):
      c["netC"].named_modules()["main.4"].parameters["weight"] = np.zeros((1, 6), np.float32)
    with self.patched(wrong_shape):
      self.assertRefused(FIXTURE, r"scene_discriminator/out/kernel: checkpoint \(6, 1\), "
                         r"model \(5, 1\)")

  def test_opt_that_contradicts_the_modules(self):
    def edit(c):
      c["opt"].content_model = "dcgan_unet"
    with self.patched(edit):
      self.assertRefused(FIXTURE, r"netEC is a models\.vgg_unet_64\.content_encoder, but its "
                         r"opt \(content_model='dcgan_unet'.*describes "
                         r"models\.dcgan_unet_64\.content_encoder")

    def bad_model(c):
      c["opt"].pose_model = "unet"
    with self.patched(bad_model):
      self.assertRefused(FIXTURE, "Unknown opt.pose_model 'unet'; valid: dcgan, resnet")

  def test_without_scene_discriminator(self):
    # train_drnet.py's exact save: no netC. C keeps tfgen's initialisation, with a note.
    def edit(c):
      del c["netC"]
    with self.patched(edit):
      result = importer.import_checkpoint(FIXTURE, self.workdir)
    self.assertIn("No netC in the checkpoint", " ".join(result["notes"]))
    model, _, _ = workdir_lib.load_model(self.workdir)
    expected = assert_drnet_matches_reference(self, model, FIXTURE_OUTPUTS,
                                              names=("content", "pose", "reconstruction"))
    logits = model.scene_discriminator((expected["pose"][:, 0], expected["pose"][:, 1]))
    self.assertGreater(np.max(np.abs(np.asarray(logits) - expected["scene_logits"][:, 1])),
                       1e-3)

  def test_lstm_needs_its_drnet_workdir(self):
    self.assertRefused(LSTM_FIXTURE, "holds the LSTM only.*pass --drnet_workdir")
    self.assertRefused(LSTM_FIXTURE, "is not a DrNET work directory",
                       drnet_workdir=os.path.join(self.dir, "none"))
    drnet_workdir = os.path.join(self.dir, "drnet")

    importer.import_checkpoint(FIXTURE, drnet_workdir)
    # A DrNET run with another pose size (its config edited: the check comes first).
    config_path = os.path.join(drnet_workdir, workdir_lib.CONFIG_FILE)
    with open(config_path) as f:
      config = json.load(f)
    config["model"]["pose_dim"] = 5
    with open(config_path, "w") as f:
      json.dump(config, f)
    self.assertRefused(LSTM_FIXTURE, r"not trained on the DrNET of --drnet_workdir .*: "
                       r"opt\.pose_dim=4 \(the DrNET run's: 5\), .*lstm\.output_size=4",
                       drnet_workdir=drnet_workdir)
    svg_workdir = os.path.join(self.dir, "svg")
    svg_reference_test.import_fixture(svg_workdir)
    self.assertRefused(LSTM_FIXTURE, "holds a 'svg' model, not a DrNET",
                       drnet_workdir=svg_workdir)
    self.assertRefused(FIXTURE, "--drnet_workdir is for a drnet-py pose LSTM",
                       drnet_workdir=drnet_workdir)

  def test_existing_workdir(self):
    os.makedirs(self.workdir)
    marker = os.path.join(self.workdir, "keep.txt")
    with open(marker, "w") as f:
      f.write("mine")
    with self.assertRaisesRegex(ValueError, "already exists and is not empty; pass --overwrite"):
      importer.import_checkpoint(FIXTURE, self.workdir)
    self.assertEqual(os.listdir(self.workdir), ["keep.txt"])
    importer.import_checkpoint(FIXTURE, self.workdir, overwrite=True)
    self.assertFalse(os.path.exists(marker))
    self.assertEqual([n for n in os.listdir(self.dir) if n.startswith(".")], [])


if __name__ == "__main__":
  tf.test.main()
