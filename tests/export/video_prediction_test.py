"""Tests of predicting from a video file with an exported model (SVG and DrNET's pose LSTM)."""

import os
import shutil
import tempfile

import av
import numpy as np
from PIL import Image
import tensorflow as tf

from tests import test_case
from tests.models.drnet import pose_lstm_test
from tests.models.svg import export_signatures_test
from tfgen.export import exporter
from tfgen.export import video_prediction
from tfgen.models.drnet import pose_lstm_signatures
from tfgen.models.svg import export_signatures as svg_signatures

NUM_VIDEO_FRAMES = 8


def write_video(path, num_frames=NUM_VIDEO_FRAMES, container_format="mp4", codec="mpeg4"):
  """A 160x120 colour video whose red bar moves 8 pixels per frame on a grey background."""
  with av.open(path, "w", format=container_format) as container:
    stream = container.add_stream(codec, rate=25)
    stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
    for t in range(num_frames):
      image = np.full((120, 160, 3), 128, np.uint8)
      image[:, 8 * t:8 * t + 32] = (220, 30, 30)
      for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)
  return path


def mp4_frame_count(path):
  with av.open(path) as container:
    return sum(1 for _ in container.decode(video=0))


class VideoPredictionTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="video_prediction_test_")
    # DrNET's pose LSTM on grey frames (the KTH set-up), 3 context frames.
    cls.lstm = pose_lstm_test.tiny_lstm(
        drnet={**pose_lstm_test.DRNET, "channels": 1})
    cls.lstm_export = exporter.export(
        cls.lstm, os.path.join(cls.root, "drnet_lstm"), pose_lstm_signatures.signatures(cls.lstm),
        examples=pose_lstm_signatures.example_inputs(cls.lstm))
    # SVG-LP on grey frames, 3 context frames.
    cls.svg = export_signatures_test.tiny_svg("learned")
    cls.svg_dir = os.path.join(cls.root, "svg_lp")
    exporter.export(cls.svg, cls.svg_dir, svg_signatures.signatures(cls.svg),
                    examples=svg_signatures.example_inputs(cls.svg))
    cls.video = write_video(os.path.join(cls.root, "clip.mp4"))

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_read_video_converts_as_training_data(self):
    grey, fps = video_prediction.read_video(self.video, 64, 1)
    self.assertEqual(grey.shape, (NUM_VIDEO_FRAMES, 64, 64, 1))
    self.assertEqual(fps, 25.0)
    self.assertAllInRange(grey, 0.0, 1.0)
    # Background grey 128; the bar (pure-ish red) is darker in grey (BT.601 luma ~0.35).
    self.assertNear(float(grey[0, 32, 60, 0]), 128 / 255, 0.03)
    self.assertLess(float(grey[0, 32, 4, 0]), 0.5)
    # The bar moves right: 8 of 160 pixels per frame, 3.2 of 64.
    column = lambda frame: np.argmin(frame[32, :, 0])
    self.assertGreater(column(grey[4]), column(grey[0]) + 8)
    rgb, _ = video_prediction.read_video(self.video, 32, 3, max_frames=2)
    self.assertEqual(rgb.shape, (2, 32, 32, 3))
    self.assertGreater(float(rgb[0, 16, 2, 0]), 0.7)  # red channel of the bar
    self.assertLess(float(rgb[0, 16, 2, 1]), 0.3)

  def test_drnet_lstm_prediction(self):
    output_dir = os.path.join(self.make_temp_dir(), "out")
    result = video_prediction.predict_video(self.lstm_export, self.video, 5, output_dir,
                                            start_frame=2)
    self.assertEqual(result["num_context_frames"], 3)
    self.assertEqual(result["num_samples"], 1)
    gif = Image.open(result["gif"])
    self.assertEqual(gif.n_frames, 3 + 5)
    self.assertEqual(gif.size, (65 + 1, 65 + 1))
    self.assertEqual(mp4_frame_count(result["mp4"]), 3 + 5)
    # The frames shown are the export's prediction from frames 2..4 of the video.
    frames, _ = video_prediction.read_video(self.video, 64, 1)
    expected = self.lstm.predict_future(frames[None, 2:5], 5).numpy()[0]
    samples = video_prediction.run(self.lstm_export, frames[2:5], 5)
    self.assertCloseForAccumulation(samples[0], expected, 4 * 4 * 8 * 2, scale=1.0)
    gif.seek(7)
    last = np.asarray(gif.convert("RGB"))
    self.assertEqual(tuple(last[1, 1]), (230, 0, 0))  # predicted: red border
    # A model with one future refuses --num_samples.
    with self.assertRaisesRegex(ValueError, "--num_samples=2: this model predicts one future"):
      video_prediction.predict_video(self.lstm_export, self.video, 5, output_dir,
                                     num_samples=2)

  def test_svg_prediction_draws_samples_side_by_side(self):
    output_dir = os.path.join(self.make_temp_dir(), "out")
    # The model directory: its largest version is used.
    result = video_prediction.predict_video(self.svg_dir, self.video, 4, output_dir,
                                            num_samples=2, seed=7)
    self.assertEqual(result["num_samples"], 2)
    # (The untrained model's predicted frames are all alike: the GIF writer merges them.)
    self.assertEqual(Image.open(result["gif"]).size, (2 * 65 + 1, 65 + 1))
    self.assertEqual(mp4_frame_count(result["mp4"]), 3 + 4)
    # yuv420p needs even sizes: the odd width gets one more column.
    with av.open(result["mp4"]) as container:
      stream = container.streams.video[0]
      self.assertEqual((stream.width, stream.height), (2 * 65 + 2, 65 + 1))

  def test_bad_input(self):
    output_dir = os.path.join(self.make_temp_dir(), "out")
    short = write_video(os.path.join(self.make_temp_dir(), "short.avi"), num_frames=2,
                        container_format="avi")
    with self.assertRaisesRegex(ValueError, "has 2 frames; the model needs 3 context frames"):
      video_prediction.predict_video(self.lstm_export, short, 4, output_dir)
    with self.assertRaisesRegex(ValueError, "at least 9"):
      video_prediction.predict_video(self.lstm_export, self.video, 4, output_dir,
                                     start_frame=6)
    not_video = os.path.join(self.make_temp_dir(), "notes.mp4")
    with open(not_video, "wb") as f:
      f.write(b"not a video" * 100)
    with self.assertRaisesRegex(ValueError, "cannot be decoded by FFmpeg"):
      video_prediction.predict_video(self.lstm_export, not_video, 4, output_dir)
    with self.assertRaisesRegex(ValueError, "does not exist"):
      video_prediction.predict_video(self.lstm_export, "/nonexistent.mp4", 4, output_dir)
    with self.assertRaisesRegex(ValueError, "neither a SavedModel"):
      video_prediction.predict_video(self.root + "/nothing", self.video, 4, output_dir)
    with self.assertRaisesRegex(ValueError, "num_future_frames must be >= 1"):
      video_prediction.predict_video(self.lstm_export, self.video, 0, output_dir)
    self.assertFalse(os.path.exists(output_dir))  # Nothing written.


if __name__ == "__main__":
  tf.test.main()
