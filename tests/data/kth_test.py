"""Tests of the KTH annotation parser, preparation (`tfgen.data.prepare`) and loader."""

import json
import os
import zipfile

from absl.testing import parameterized
import av
import numpy as np
import tensorflow as tf

from tfgen.data import kth
from tfgen.data import kth_annotations
from tfgen.data import prepare
from tfgen.data import registry
from tfgen.data import tfrecords

NUM_VIDEO_FRAMES = 40


def write_avi(path, num_frames=NUM_VIDEO_FRAMES, value=0):
  """Writes a 160x120 grey MPEG-4 AVI (like KTH's) whose bar moves 4 pixels per frame."""
  with av.open(path, "w", format="avi") as container:
    stream = container.add_stream("mpeg4", rate=25)
    stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
    for t in range(num_frames):
      image = np.full((120, 160), 30 + value, np.uint8)
      image[:, 4 * t:4 * t + 16] = 220
      for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="gray")):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)


# Persons 1-2 train, 17 test; ranges chosen to exercise sorting, clipping and dropping.
SEQUENCES = (
    "person01_boxing_d1\t\tframes\t1-12, 13-30\r\n"
    "person01_walking_d2    \tframes\t21-40,  1-20\r\n"           # out of order
    "person02_boxing_d1\t\tframes\t1-10, 11-25, 26-52, 60-70\r\n"  # clipped, then dropped
    "\r\n"
    "person02_jogging_d3\t*missing*\r\n"                           # marked missing
    "person02_running_d4\t\tframes\t1-30\r\n"                      # no video file
    "person02_walking_d1\t\tframes\t1-30\r\n"                      # corrupt video
    "person17_boxing_d1\t\tframes\t1-15, 16-40\r\n"
    "person17_handwaving_d2\tframes\t1-40\r\n"                      # video inside a zip
)


def write_fake_kth(raw_dir):
  """Writes a tiny KTH distribution with every kind of bad input; returns `raw_dir`."""
  for action in ("boxing", "walking", "jogging"):
    os.makedirs(os.path.join(raw_dir, action), exist_ok=True)
  for i, name in enumerate(("person01_boxing_d1", "person02_boxing_d1", "person17_boxing_d1")):
    write_avi(os.path.join(raw_dir, "boxing", f"{name}_uncomp.avi"), value=i)
  write_avi(os.path.join(raw_dir, "walking", "person01_walking_d2_uncomp.avi"))
  write_avi(os.path.join(raw_dir, "jogging", "person01_jogging_d1_uncomp.avi"))  # unlisted
  with open(os.path.join(raw_dir, "walking", "person02_walking_d1_uncomp.avi"), "wb") as f:
    f.write(b"RIFF not really an avi" * 50)
  member = os.path.join(raw_dir, "person17_handwaving_d2_uncomp.avi")
  write_avi(member)
  with zipfile.ZipFile(os.path.join(raw_dir, "handwaving.zip"), "w") as zf:
    zf.write(member, "person17_handwaving_d2_uncomp.avi")
  os.remove(member)
  with open(os.path.join(raw_dir, "00sequences.txt"), "w", newline="") as f:
    f.write(SEQUENCES)
  return raw_dir


class AnnotationsTest(tf.test.TestCase):

  def test_real_sequences_file(self):
    root = os.environ.get("TFGEN_TEST_DATA")
    if not root:
      self.skipTest("TFGEN_TEST_DATA is not set")
    videos, missing = kth_annotations.read_sequences_file(
        os.path.join(root, "kth", "00sequences.txt"))
    self.assertLen(videos, 599)
    self.assertEqual(missing, ["person13_handclapping_d3"])
    # SPEC.md §4 speaks of one 3-range row; the real file has five.
    three = sorted(name for name, v in videos.items() if len(v.ranges) == 3)
    self.assertEqual(three, ["person11_boxing_d4", "person13_handwaving_d3",
                             "person14_handwaving_d3", "person15_boxing_d4",
                             "person22_boxing_d1"])
    self.assertEqual(videos["person11_boxing_d4"].ranges, ((1, 106), (107, 194), (195, 250)))
    # Listed as 1-64, 270-332, 194-264, 490-570: kept in time order.
    self.assertEqual(videos["person07_jogging_d4"].ranges,
                     ((1, 64), (194, 264), (270, 332), (490, 570)))
    self.assertEqual(sum(v.person < 17 for v in videos.values()), 383)
    self.assertEqual({v.action for v in videos.values()}, set(kth_annotations.ACTIONS))

  def test_irregular_whitespace_and_order(self):
    videos, missing = kth_annotations.parse_sequences(SEQUENCES)
    self.assertEqual(missing, ["person02_jogging_d3"])
    self.assertEqual(videos["person01_walking_d2"].ranges, ((1, 20), (21, 40)))
    self.assertEqual(videos["person02_boxing_d1"],
                     kth_annotations.VideoAnnotation(
                         "person02_boxing_d1", 2, "boxing", 1,
                         ((1, 10), (11, 25), (26, 52), (60, 70))))

  def test_bad_rows_raise_with_line_number(self):
    with self.assertRaisesRegex(ValueError, "line 2: bad frame range '5to9'"):
      kth_annotations.parse_sequences("person01_boxing_d1 frames 1-4\nperson01_boxing_d2 frames 5to9")
    with self.assertRaisesRegex(ValueError, "line 1: 'person01_dancing_d1' is not"):
      kth_annotations.parse_sequences("person01_dancing_d1 frames 1-4")
    with self.assertRaisesRegex(ValueError, "listed twice"):
      kth_annotations.parse_sequences("person01_boxing_d1 frames 1-4\nperson01_boxing_d1 frames 1-4")


class ConvertTest(tf.test.TestCase):

  def test_convert_kth_video(self):
    path = os.path.join(self.get_temp_dir(), "person03_running_d2_uncomp.avi")
    write_avi(path)
    examples = prepare.convert_kth_video(path, [(1, 10), (31, 45), (41, 50)], 64)
    self.assertLen(examples, 2)  # the third range starts after frame 40
    first, second = examples
    self.assertEqual(first["frames"].shape, (10, 64, 64, 1))
    self.assertEqual(first["frames"].dtype, np.uint8)
    self.assertEqual((second["first_frame"], second["last_frame"]), (31, 40))
    self.assertEqual((first["person"], first["action"], first["scenario"]), (3, "running", 2))
    self.assertEqual(second["subsequence"], 1)
    # The bright bar (x 0..15 of 160 at frame 1) lands at x 0..6 of 64 after squashing.
    row = first["frames"][0, 32, :, 0].astype(int)
    self.assertGreater(row[2], 180)
    self.assertLess(row[20], 60)
    self.assertEqual(prepare.convert_kth_video(path, [(1, 2)], 128)[0]["frames"].shape,
                     (2, 128, 128, 1))

  def test_corrupt_video_raises(self):
    path = os.path.join(self.get_temp_dir(), "person03_running_d3_uncomp.avi")
    with open(path, "wb") as f:
      f.write(b"\x00" * 1000)
    with self.assertRaisesRegex(ValueError, "cannot decode"):
      prepare.convert_kth_video(path, [(1, 10)], 64)


class PrepareAndLoadTest(tf.test.TestCase, parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    root = tf.test.TestCase().get_temp_dir()
    cls.raw_dir = write_fake_kth(os.path.join(root, "kth_raw"))
    cls.out_dir = os.path.join(root, "kth_64")
    cls.summary = prepare.prepare_dataset(
        "kth", cls.raw_dir, cls.out_dir, num_workers=2, num_shards=2, progress=False)

  def test_summary_reconciles_and_names_bad_input(self):
    train, test = self.summary["train"], self.summary["test"]
    skipped = {s["name"]: s["reason"] for s in train["skipped"]}
    self.assertCountEqual(skipped, ["person02_jogging_d3", "person02_running_d4",
                                    "person02_walking_d1", "person01_jogging_d1"])
    self.assertIn("missing", skipped["person02_jogging_d3"])
    self.assertIn("no video file", skipped["person02_running_d4"])
    self.assertIn("cannot decode", skipped["person02_walking_d1"])
    self.assertIn("not listed", skipped["person01_jogging_d1"])
    self.assertEqual((train["seen"], train["converted"]), (7, 3))
    self.assertEqual(train["examples"], 2 + 2 + 3)
    self.assertEqual((test["seen"], test["converted"], test["skipped"]), (2, 2, []))
    self.assertEqual(test["examples"], 3)
    self.assertLen(train["notes"], 2)  # person02_boxing_d1: one range clipped, one dropped
    self.assertEqual(tfrecords.read_json(os.path.join(self.out_dir, "summary.json")),
                     self.summary)

  def test_examples_carry_metadata(self):
    shards = tfrecords.complete_shards(self.out_dir, "test")
    spec = {name: tf.io.FixedLenFeature([], dtype) for name, dtype in (
        ("video", tf.string), ("person", tf.int64), ("action", tf.string),
        ("scenario", tf.int64), ("subsequence", tf.int64), ("first_frame", tf.int64))}
    records = tf.data.TFRecordDataset([p for p, _ in shards])
    parsed = [tfrecords.parse_example(r, spec) for r in records]
    got = [(p["video"].numpy().decode(), int(p["subsequence"]), int(p["first_frame"]),
            p["action"].numpy().decode(), int(p["person"]), tuple(p["frames"].shape))
           for p in parsed]
    self.assertEqual(got, [
        ("person17_boxing_d1", 0, 1, "boxing", 17, (15, 64, 64, 1)),
        ("person17_boxing_d1", 1, 16, "boxing", 17, (25, 64, 64, 1)),
        ("person17_handwaving_d2", 0, 1, "handwaving", 17, (40, 64, 64, 1)),
    ])

  def test_train_stream_is_deterministic_and_resumes(self):
    build = registry.get_builder("kth")
    kwargs = dict(batch_size=1, num_frames=12, data_dir=self.out_dir)
    stream = [b.numpy() for b in build("train", seed=3, **kwargs).take(20)]
    again = [b.numpy() for b in build("train", seed=3, **kwargs).take(20)]
    resumed = [b.numpy() for b in build("train", seed=3, start_index=9, **kwargs).take(11)]
    other = [b.numpy() for b in build("train", seed=4, **kwargs).take(20)]
    self.assertAllEqual(np.stack(stream), np.stack(again))
    self.assertAllEqual(np.stack(stream[9:]), np.stack(resumed))
    self.assertNotAllEqual(np.stack(stream), np.stack(other))
    self.assertEqual(stream[0].shape, (1, 12, 64, 64, 1))
    self.assertEqual(stream[0].dtype, np.float32)
    self.assertAllInRange(np.stack(stream), 0.0, 1.0)

  def test_test_split_is_fixed(self):
    data = kth.build("test", batch_size=2, num_frames=20, seed=0, data_dir=self.out_dir,
                     drop_remainder=False)
    batches = [b.numpy() for b in data]
    # Only person17_boxing_d1's second sub-sequence (25 frames) and the 40-frame
    # handwaving video have 20 frames.
    self.assertEqual([b.shape for b in batches], [(2, 20, 64, 64, 1)])
    self.assertAllEqual(batches[0], np.stack([b.numpy() for b in data][0]))

  def test_rerun_resumes_without_duplicates(self):
    shard = tfrecords.shard_path(self.out_dir, "train", 1, 2)
    kept = tfrecords.shard_path(self.out_dir, "train", 0, 2)
    kept_mtime = os.path.getmtime(kept)
    with open(shard, "rb") as f:
      original = f.read()
    # An interrupted run: the shard was renamed but its manifest never written, and a
    # temporary file of another attempt is left behind.
    os.remove(tfrecords.manifest_path(shard))
    with open(shard + ".tmp-1", "wb") as f:
      f.write(b"partial")
    summary = prepare.prepare_dataset(
        "kth", self.raw_dir, self.out_dir, num_workers=0, num_shards=2, progress=False)
    self.assertEqual(summary, self.summary)
    self.assertEqual(os.path.getmtime(kept), kept_mtime)
    with open(shard, "rb") as f:
      self.assertEqual(f.read(), original)
    with self.assertRaisesRegex(ValueError, "other settings"):
      prepare.prepare_dataset("kth", self.raw_dir, self.out_dir, image_size=128,
                              num_workers=0, num_shards=2, progress=False)

  def test_unprepared_data_dir_gives_the_command(self):
    empty = os.path.join(self.get_temp_dir(), "nothing_here")
    with self.assertRaisesRegex(FileNotFoundError,
                                "python -m tfgen.bin.prepare --dataset=kth .*--image_size=128"):
      kth.build("train", batch_size=1, num_frames=5, seed=0, data_dir=empty, image_size=128)
    with self.assertRaisesRegex(ValueError, "image_size=64"):
      kth.build("train", batch_size=1, num_frames=5, seed=0, data_dir=self.out_dir,
                image_size=128)

  def test_raw_dir_without_kth_explains_the_layout(self):
    with self.assertRaisesRegex(FileNotFoundError, "boxing.zip"):
      prepare.prepare_dataset("kth", self.get_temp_dir(), os.path.join(
          self.get_temp_dir(), "out"), progress=False)


if __name__ == "__main__":
  tf.test.main()
