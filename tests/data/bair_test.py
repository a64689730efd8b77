"""Tests of the BAIR preparation (`tfgen.data.prepare`) and loader (`tfgen.data.bair`)."""

import os

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.data import bair
from tfgen.data import prepare
from tfgen.data import registry
from tfgen.data import tfrecords


def trajectory_frames(index):
  """`(30, 64, 64, 3)` uint8 frames of trajectory `index`, distinct per step and index."""
  t = np.arange(30, dtype=np.uint8)[:, None, None, None]
  frames = np.zeros((30, 64, 64, 3), np.uint8) + t * 8 + np.uint8(index)
  frames[:, :, :, 1] = np.arange(64, dtype=np.uint8)[None, None, :]
  return frames


def softmotion_example(index, drop_frame=None):
  """One softmotion30_44k record: raw 64x64x3 frame bytes, actions, end-effector positions."""
  frames = trajectory_frames(index)
  feature = {}
  for t in range(30):
    if t != drop_frame:
      feature[f"{t}/image_aux1/encoded"] = tf.train.Feature(
          bytes_list=tf.train.BytesList(value=[frames[t].tobytes()]))
    feature[f"{t}/image_main/encoded"] = tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[frames[t].tobytes()]))
    feature[f"{t}/action"] = tf.train.Feature(
        float_list=tf.train.FloatList(value=[index, t, 0.5, -0.5]))
    feature[f"{t}/endeffector_pos"] = tf.train.Feature(
        float_list=tf.train.FloatList(value=[t, index, 1.0]))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_fake_bair(raw_dir, bad=((0, 1),)):
  """train: traj_0_to_2 and traj_3_to_5 (3 records each), test: traj_0_to_3 (4 records).

  Records listed in `bad` as (train file number, record) miss frame 7. Trajectory index
  = 100 for test records, to tell the splits apart.
  """
  layout = {"train": [("traj_0_to_2.tfrecords", 0), ("traj_3_to_5.tfrecords", 3)],
            "test": [("traj_0_to_3.tfrecords", 100)]}
  for split, files in layout.items():
    directory = os.path.join(raw_dir, "softmotion30_44k", split)
    os.makedirs(directory, exist_ok=True)
    for file_number, (name, first) in enumerate(files):
      with tf.io.TFRecordWriter(os.path.join(directory, name)) as writer:
        for i in range(4 if split == "test" else 3):
          drop = 7 if split == "train" and (file_number, i) in bad else None
          writer.write(softmotion_example(first + i, drop_frame=drop))
  return raw_dir


class ConvertTest(tf.test.TestCase):

  def test_convert_bair_record(self):
    example = prepare.convert_bair_record(softmotion_example(4))
    self.assertAllEqual(example["frames"], trajectory_frames(4))
    self.assertEqual(example["actions"].shape, (30, 4))
    self.assertAllClose(example["endeffector_pos"][5], [5, 4, 1])

  def test_missing_frame_raises(self):
    with self.assertRaisesRegex(ValueError, "frame 7 .* is missing"):
      prepare.convert_bair_record(softmotion_example(4, drop_frame=7))


class PrepareAndLoadTest(tf.test.TestCase, parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    root = tf.test.TestCase().get_temp_dir()
    cls.raw_dir = write_fake_bair(os.path.join(root, "bair_raw"))
    cls.out_dir = os.path.join(root, "bair")
    cls.summary = prepare.prepare_dataset("bair", cls.raw_dir, cls.out_dir, progress=False)

  def test_summary_reconciles_and_names_bad_records(self):
    train, test = self.summary["train"], self.summary["test"]
    self.assertEqual((train["seen"], train["converted"], train["examples"]), (6, 5, 5))
    self.assertEqual([s["name"] for s in train["skipped"]], ["train/traj_0_to_2.tfrecords:1"])
    self.assertEqual((test["seen"], test["converted"], test["examples"]), (4, 4, 4))
    info = tfrecords.read_dataset_info(self.out_dir)
    self.assertEqual(info["num_shards"], {"train": 2, "test": 1})  # capped by source files

  def test_test_split_is_the_first_trajectories(self):
    data = bair.build("test", batch_size=2, num_frames=12, seed=0, data_dir=self.out_dir,
                      num_test_sequences=3, drop_remainder=False)
    clips = np.concatenate([b.numpy() for b in data])
    expected = np.stack([trajectory_frames(100 + i)[:12] for i in range(3)]) / 255.0
    self.assertEqual(clips.shape, (3, 12, 64, 64, 3))
    self.assertAllClose(clips, expected)

  def test_train_stream_is_deterministic_and_resumes(self):
    build = registry.get_builder("bair")
    kwargs = dict(batch_size=2, num_frames=12, data_dir=self.out_dir)
    stream = np.concatenate([b.numpy() for b in build("train", seed=1, **kwargs).take(8)])
    resumed = np.concatenate(
        [b.numpy() for b in build("train", seed=1, start_index=7, **kwargs).take(4)])
    self.assertAllEqual(stream[7:15], resumed[:8])
    self.assertEqual(stream.shape, (16, 12, 64, 64, 3))
    # Every clip is a contiguous piece of one good training trajectory.
    good = {0, 2, 3, 4, 5}
    for clip in stream:
      index = int(round(clip[0, 0, 0, 0] * 255)) % 8
      start = int(round(clip[0, 0, 0, 0] * 255)) // 8
      self.assertIn(index, good)
      self.assertAllClose(clip, trajectory_frames(index)[start:start + 12] / 255.0)
    # An epoch visits each good trajectory once.
    first_epoch = {int(round(c[0, 0, 0, 0] * 255)) % 8 for c in stream[:5]}
    self.assertEqual(first_epoch, good)

  def test_unprepared_data_dir_gives_the_command(self):
    with self.assertRaisesRegex(FileNotFoundError, "python -m tfgen.bin.prepare --dataset=bair"):
      bair.build("train", batch_size=1, num_frames=5, seed=0,
                 data_dir=os.path.join(self.get_temp_dir(), "empty"))

  def test_bad_options_raise(self):
    with self.assertRaisesRegex(ValueError, "source 'web'"):
      bair.build("test", batch_size=1, num_frames=5, seed=0, source="web")
    with self.assertRaisesRegex(ValueError, "distributed at 64x64"):
      prepare.prepare_dataset("bair", self.raw_dir, self.out_dir, image_size=128)

  def test_tfds_source(self):
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    with tfds.testing.mock_data(num_examples=5, policy=tfds.testing.MockPolicy.USE_CODE):
      test = list(bair.build("test", batch_size=2, num_frames=12, seed=0, source="tfds",
                             num_test_sequences=4))
      train = list(bair.build("train", batch_size=2, num_frames=12, seed=0, source="tfds",
                              start_index=3).take(2))
    self.assertEqual([b.shape for b in test + train], [(2, 12, 64, 64, 3)] * 4)

  def test_raw_dir_without_bair_explains_the_layout(self):
    with self.assertRaisesRegex(FileNotFoundError, "softmotion30_44k/train/traj_"):
      prepare.prepare_dataset("bair", self.get_temp_dir(), os.path.join(
          self.get_temp_dir(), "out"), progress=False)


if __name__ == "__main__":
  tf.test.main()
