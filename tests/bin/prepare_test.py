"""End-to-end tests of `python -m tfgen.bin.prepare` on tiny KTH and BAIR distributions."""

import os
import subprocess
import sys

import av
import numpy as np
import tensorflow as tf

from tfgen.data import registry
from tfgen.data import tfrecords


def _write_avi(path, num_frames=24):
  with av.open(path, "w", format="avi") as container:
    stream = container.add_stream("mpeg4", rate=25)
    stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
    for t in range(num_frames):
      image = np.full((120, 160), 40, np.uint8)
      image[4 * t:4 * t + 10] = 200
      for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="gray")):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)


def _softmotion_record(value):
  feature = {}
  for t in range(30):
    frame = np.full((64, 64, 3), (value + t) % 256, np.uint8)
    feature[f"{t}/image_aux1/encoded"] = tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[frame.tobytes()]))
    feature[f"{t}/action"] = tf.train.Feature(float_list=tf.train.FloatList(value=[0.0] * 4))
    feature[f"{t}/endeffector_pos"] = tf.train.Feature(
        float_list=tf.train.FloatList(value=[0.0] * 3))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _run_prepare(*flags):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  return subprocess.run(
      [sys.executable, "-m", "tfgen.bin.prepare", *flags], capture_output=True, text=True,
      env=env, timeout=300, check=False)


class PrepareBinaryTest(tf.test.TestCase):

  def test_kth_end_to_end(self):
    raw = os.path.join(self.get_temp_dir(), "kth_raw")
    out = os.path.join(self.get_temp_dir(), "kth_128")
    os.makedirs(os.path.join(raw, "boxing"))
    for name in ("person05_boxing_d1", "person20_boxing_d4"):
      _write_avi(os.path.join(raw, "boxing", f"{name}_uncomp.avi"))
    with open(os.path.join(raw, "00sequences.txt"), "w") as f:
      f.write("person05_boxing_d1\t\tframes\t1-12, 13-24\n"
              "person20_boxing_d4  \tframes\t 1-24\n")
    result = _run_prepare("--dataset=kth", f"--raw_dir={raw}", f"--out_dir={out}",
                          "--image_size=128", "--num_workers=2", "--num_shards=3")
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertIn("1 videos seen = 1 converted + 0 skipped; 2 examples written", result.stderr)
    summary = tfrecords.read_json(os.path.join(out, "summary.json"))
    self.assertEqual(summary["test"]["examples"], 1)
    train = registry.build("kth", "train", batch_size=2, num_frames=10, seed=0, data_dir=out,
                           image_size=128)
    self.assertEqual(next(iter(train)).shape, (2, 10, 128, 128, 1))

  def test_bair_end_to_end(self):
    raw = os.path.join(self.get_temp_dir(), "bair_raw")
    out = os.path.join(self.get_temp_dir(), "bair")
    for split, count in (("train", 3), ("test", 2)):
      os.makedirs(os.path.join(raw, "softmotion30_44k", split))
      path = os.path.join(raw, "softmotion30_44k", split, "traj_0_to_9.tfrecords")
      with tf.io.TFRecordWriter(path) as writer:
        for i in range(count):
          writer.write(_softmotion_record(10 * i))
    result = _run_prepare("--dataset=bair", f"--raw_dir={raw}", f"--out_dir={out}")
    self.assertEqual(result.returncode, 0, result.stderr)
    test = registry.build("bair", "test", batch_size=2, num_frames=30, seed=0, data_dir=out)
    batch = next(iter(test)).numpy()
    self.assertEqual(batch.shape, (2, 30, 64, 64, 3))
    self.assertAllClose(batch[1, 3, 0, 0], [13 / 255] * 3)

  def test_empty_raw_dir_explains_how_to_get_the_data(self):
    result = _run_prepare("--dataset=kth", f"--raw_dir={self.get_temp_dir()}",
                          f"--out_dir={os.path.join(self.get_temp_dir(), 'out')}")
    self.assertNotEqual(result.returncode, 0)
    self.assertIn("00sequences.txt", result.stderr)
    self.assertIn("boxing.zip", result.stderr)
    self.assertNotIn("Traceback", result.stderr)


if __name__ == "__main__":
  tf.test.main()
