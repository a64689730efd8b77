"""End to end on tiny KTH, BAIR and smallNORB distributions: prepare, train the quick configs."""

import json
import os

import tensorflow as tf

from tests import test_case
from tests.data import bair_test
from tests.data import kth_test
from tests.data import smallnorb_test
from tfgen.data import prepare
from tfgen.train import trainer
from tfgen.utils import config_loader


def tiny_config(model, dataset, data_dir, num_context_frames, num_future_frames):
  """The quick variant shrunk further, reading the preparation in `data_dir`."""
  config = config_loader.load(model, dataset, "quick")
  config.model.update(dict(base_filters=4, g_dim=8, rnn_size=8, z_dim=3,
                           num_context_frames=num_context_frames,
                           num_future_frames=num_future_frames))
  config.data.num_frames = num_context_frames + num_future_frames
  config.data.data_dir = data_dir
  config.train.update(dict(batch_size=2, steps=2, log_every=1, checkpoint_every=1,
                           image_every=1000, num_image_sequences=2, num_image_samples=1))
  return config


def tiny_drnet_config(dataset, data_dir, num_frames, max_offset):
  """DrNET's quick variant shrunk further, reading the data in `data_dir`."""
  config = config_loader.load("drnet", dataset, "quick")
  config.model.update(dict(base_filters=2, content_dim=6, pose_dim=3, sd_nf=5))
  config.data.update(dict(num_frames=num_frames, max_offset=max_offset))
  config.data.data_dir = data_dir
  config.train.update(dict(batch_size=4, steps=2, log_every=1, checkpoint_every=1,
                           image_every=1000, num_image_sequences=2))
  return config


DRNET_METRICS = {"loss", "reconstruction_loss", "similarity_loss", "adversarial_loss",
                 "discriminator_loss", "discriminator_accuracy"}


class KthBairTrainTest(test_case.TestCase):

  def check_workdir(self, workdir, config, metrics):
    self.assertTrue(all(tf.math.is_finite(v) for v in metrics.values()), metrics)
    state = tf.train.get_checkpoint_state(os.path.join(workdir, trainer.CHECKPOINT_DIR))
    self.assertEqual(os.path.basename(state.model_checkpoint_path), "ckpt-2")
    with open(os.path.join(workdir, trainer.SUMMARY_FILE)) as f:
      summary = json.load(f)
    self.assertEqual(summary["model_name"], config.model_name)
    self.assertGreater(summary["total_trainable_parameters"], 0)
    with open(os.path.join(workdir, trainer.CONFIG_FILE)) as f:
      self.assertEqual(config_loader.from_json(f.read()).to_dict(), config.to_dict())
    # The last step writes sample pictures (the image size and channels of the data).
    self.assertTrue(os.path.exists(os.path.join(workdir, "samples", "samples.gif")))

  def test_kth_prepare_then_train(self):
    root = self.make_temp_dir()
    raw_dir = kth_test.write_fake_kth(os.path.join(root, "raw"))
    out_dir = os.path.join(root, "kth_64")
    summary = prepare.prepare_dataset("kth", raw_dir, out_dir, num_workers=0, num_shards=1,
                                      progress=False)
    self.assertGreater(summary["train"]["examples"], 0)
    # The fixture's sub-sequences are 10-40 frames: n_past 3 + n_future 3.
    config = tiny_config("svg_lp", "kth", out_dir, 3, 3)
    workdir = os.path.join(root, "work")
    metrics = trainer.train(config, workdir)
    self.assertEqual(set(metrics), {"loss", "mse", "kl"})
    self.check_workdir(workdir, config, metrics)

  def test_drnet_kth_prepare_then_train(self):
    root = self.make_temp_dir()
    raw_dir = kth_test.write_fake_kth(os.path.join(root, "raw"))
    out_dir = os.path.join(root, "kth_64")
    prepare.prepare_dataset("kth", raw_dir, out_dir, num_workers=0, num_shards=1,
                            progress=False)
    # The fixture's sub-sequences are 10-40 frames.
    config = tiny_drnet_config("kth", out_dir, num_frames=6, max_offset=3)
    self.assertEqual((config.model.content_encoder, config.model.pose_encoder,
                      config.model.channels), ("vgg_unet", "resnet", 1))
    workdir = os.path.join(root, "work")
    metrics = trainer.train(config, workdir)
    self.assertEqual(set(metrics), DRNET_METRICS)
    self.check_workdir(workdir, config, metrics)

  def test_drnet_norb_train(self):
    root = self.make_temp_dir()
    data_dir = os.path.join(root, "norb")
    for split in ("train", "test"):
      smallnorb_test.write_split(data_dir, split, gz=split == "test")
    # Whole sweeps, as the config's.
    config = tiny_drnet_config("norb", data_dir, num_frames=18, max_offset=17)
    self.assertEqual((config.model.content_encoder, config.model.pose_encoder,
                      config.model.channels), ("dcgan", "resnet", 1))
    workdir = os.path.join(root, "work")
    metrics = trainer.train(config, workdir)
    self.assertEqual(set(metrics), DRNET_METRICS)
    self.check_workdir(workdir, config, metrics)

  def test_bair_prepare_then_train(self):
    root = self.make_temp_dir()
    raw_dir = bair_test.write_fake_bair(os.path.join(root, "raw"))
    out_dir = os.path.join(root, "bair")
    summary = prepare.prepare_dataset("bair", raw_dir, out_dir, num_shards=1, progress=False)
    self.assertGreater(summary["train"]["examples"], 0)
    config = tiny_config("svg_fp", "bair", out_dir, 2, 2)  # BAIR's n_past is 2.
    self.assertEqual(config.model.channels, 3)
    workdir = os.path.join(root, "work")
    metrics = trainer.train(config, workdir)
    self.check_workdir(workdir, config, metrics)

  def test_unprepared_kth_names_the_prepare_command(self):
    empty = self.make_temp_dir()
    config = tiny_config("svg_det", "kth", empty, 2, 2)
    with self.assertRaisesRegex(FileNotFoundError,
                                r"python -m tfgen\.bin\.prepare --dataset=kth"):
      trainer.train(config, os.path.join(self.make_temp_dir(), "work"))


if __name__ == "__main__":
  tf.test.main()
