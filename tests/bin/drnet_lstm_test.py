"""End to end as a user runs it: DrNET, then its pose LSTM (train binary), then generate,
evaluate and export of the LSTM run (binaries), and the DrNET run's own pictures."""

import json
import os
import shutil
import tempfile

import numpy as np
from PIL import Image
import tensorflow as tf

from tests import test_case
from tests.export import video_prediction_test
from tests.models.drnet import pose_lstm_test
from tfgen.export import exporter
from tfgen.models.drnet import sample_pictures
from tfgen.train import trainer as trainer_lib

# The LSTM's tiny sizes: 2 context frames, 3 future, 8 LSTM units.
LSTM_TINY_OVERRIDES = [
    "--config.model.num_context_frames=2", "--config.model.num_future_frames=3",
    "--config.model.hidden_size=8", "--config.data.num_frames=5",
    "--config.train.log_every=1", "--config.train.checkpoint_every=2",
    "--config.train.num_image_sequences=2",
]


def data_flags():
  return [f"--data_dir={test_case.test_data_dir()}"] if test_case.test_data_dir() else []


class DrNetLSTMBinariesTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="drnet_lstm_bin_test_")
    cls.drnet_workdir = os.path.join(cls.root, "drnet")
    cls.workdir = os.path.join(cls.root, "drnet_lstm")
    # DrNET's quick config shrunk (as `tests/bin/train_test.DRNET_TINY_OVERRIDES`).
    trainer_lib.train(pose_lstm_test.tiny_drnet_config(steps=2), cls.drnet_workdir)
    cls.train_result = test_case.run_binary(
        "tfgen.bin.train", "--model=drnet_lstm", "--dataset=mnist", "--quick",
        f"--config.drnet_workdir={cls.drnet_workdir}", f"--workdir={cls.workdir}",
        "--batch_size=4", "--steps=2", *data_flags(), *LSTM_TINY_OVERRIDES)
    cls.export_base = os.path.join(cls.root, "export")
    cls.export_result = test_case.run_binary(
        "tfgen.bin.export", f"--workdir={cls.workdir}", f"--export_dir={cls.export_base}")

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_train(self):
    self.assertEqual(self.train_result.returncode, 0, self.train_result.stderr[-3000:])
    with open(os.path.join(self.workdir, "model_summary.json")) as f:
      summary = json.load(f)
    self.assertEqual(summary["model_name"], "drnet_lstm")
    self.assertTrue(os.path.exists(os.path.join(self.workdir, "samples", "samples.gif")))

  def test_generate(self):
    output_dir = os.path.join(self.make_temp_dir(), "pictures")
    result = test_case.run_binary("tfgen.bin.generate", f"--workdir={self.workdir}",
                                  "--num_future_frames=23", "--num_sequences=2",
                                  f"--output_dir={output_dir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["analogy.png", "interpolation.png", "prediction_pictures.txt",
                      "sequence_000.gif", "sequence_000.png", "sequence_001.gif",
                      "sequence_001.png"])
    # 2 context + 23 predicted = 25 steps: rows of 20 and of 5, each truth over prediction.
    grid = Image.open(os.path.join(output_dir, "sequence_000.png"))
    self.assertEqual(grid.size, (20 * 65 + 1, 4 * 65 + 1))
    pixels = np.asarray(grid.convert("RGB"))
    self.assertEqual(tuple(pixels[65 + 1 + 1, 1 + 1]), (0, 204, 0))  # context: green
    self.assertEqual(tuple(pixels[65 + 1 + 1, 2 * 65 + 1 + 1]), (230, 0, 0))  # predicted: red
    gif = Image.open(os.path.join(output_dir, "sequence_000.gif"))
    self.assertEqual(gif.n_frames, 25)

  def test_evaluate(self):
    output_dir = os.path.join(self.make_temp_dir(), "evaluation")
    result = test_case.run_binary("tfgen.bin.evaluate", f"--workdir={self.workdir}",
                                  "--num_test_sequences=3", "--num_future_frames=4",
                                  f"--output_dir={output_dir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    with open(os.path.join(output_dir, "results.json")) as f:
      document = json.load(f)
    self.assertEqual(document["model_name"], "drnet_lstm")
    self.assertEqual(document["num_samples"], 1)  # Deterministic: N = 1.
    self.assertEqual(document["num_test_sequences"], 3)
    self.assertEqual(document["training_horizon"], 3)
    self.assertEqual([s["beyond_training_horizon"] for s in document["steps"]],
                     [False, False, False, True])
    self.assertLen(document["results"]["reference"]["ssim_legacy"]["mean"], 4)
    self.assertTrue(os.path.exists(os.path.join(output_dir, "reference.png")))

  def test_export_loads_in_plain_tensorflow(self):
    result = self.export_result
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    path = os.path.join(self.export_base, "drnet_lstm", "1")
    loaded = tf.saved_model.load(path)
    context = np.random.default_rng(0).random((2, 2, 64, 64, 3)).astype(np.float32)
    outputs = loaded.signatures["serving_default"](
        context=tf.constant(context), num_future_frames=tf.constant(7))
    model, _, _ = exporter.load_workdir_model(self.workdir)
    frames, poses = model.predict_future(context, 7, return_poses=True)
    self.assertEqual(outputs["frames"].shape, (2, 7, 64, 64, 3))
    self.assertCloseForAccumulation(outputs["frames"], frames, 4 * 4 * 8 * 2, scale=1.0)
    self.assertCloseForAccumulation(outputs["poses"], poses, 8 * 7, scale=1.0)
    # In-graph checks: too few context frames, values outside [0, 1], no future frame.
    signature = loaded.signatures["serving_default"]
    for kwargs, message in (
        (dict(context=tf.constant(context[:, :1]), num_future_frames=tf.constant(2)),
         r"context: expected float32 of shape \(batch, 2, 64, 64, 3\)"),
        (dict(context=tf.constant(context + 1.0), num_future_frames=tf.constant(2)),
         r"context: expected values in \[0, 1\]"),
        (dict(context=tf.constant(context), num_future_frames=tf.constant(0)),
         "num_future_frames: expected a scalar > 0")):
      with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
        signature(**kwargs)
    # Loadable by TensorFlow alone, in a process that never imports tfgen.
    script = (f"import sys, tensorflow as tf; m = tf.saved_model.load({path!r}); "
              "out = m.signatures['serving_default'](context=tf.zeros((1, 2, 64, 64, 3)), "
              "num_future_frames=tf.constant(3)); print(tuple(out['frames'].shape)); "
              "print(any(n.startswith('tfgen') for n in sys.modules))")
    import subprocess  # pylint: disable=g-import-not-at-top
    import sys  # pylint: disable=g-import-not-at-top
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=self.make_temp_dir(), timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    self.assertEqual(done.returncode, 0, done.stderr[-3000:])
    self.assertEqual(done.stdout.split(), ["(1,", "3,", "64,", "64,", "3)", "False"])

  def test_predict_on_a_video_file(self):
    self.assertEqual(self.export_result.returncode, 0, self.export_result.stderr[-3000:])
    video = video_prediction_test.write_video(os.path.join(self.make_temp_dir(), "clip.mp4"))
    output_dir = os.path.join(self.make_temp_dir(), "prediction")
    export_dir = os.path.join(self.export_base, "drnet_lstm")
    result = test_case.run_binary("tfgen.bin.predict", f"--export_dir={export_dir}",
                                  f"--video={video}", "--num_future_frames=6",
                                  f"--output_dir={output_dir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(sorted(os.listdir(output_dir)), ["prediction.gif", "prediction.mp4"])
    self.assertEqual(video_prediction_test.mp4_frame_count(
        os.path.join(output_dir, "prediction.mp4")), 2 + 6)
    # A video shorter than the context: a one-line error, nothing written.
    short = video_prediction_test.write_video(os.path.join(self.make_temp_dir(), "short.mp4"),
                                              num_frames=1)
    empty = os.path.join(self.make_temp_dir(), "nothing")
    result = test_case.run_binary("tfgen.bin.predict", f"--export_dir={export_dir}",
                                  f"--video={short}", "--num_future_frames=6",
                                  f"--output_dir={empty}")
    self.assertEqual(result.returncode, 1)
    self.assertIn("has 1 frame; the model needs 2 context frames", result.stderr)
    self.assertFalse(os.path.exists(empty))

  def test_drnet_pictures(self):
    output_dir = sample_pictures.write_samples(self.drnet_workdir, num_sequences=2,
                                               output_dir=os.path.join(self.make_temp_dir(),
                                                                       "pictures"))
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["analogy.gif", "analogy.png", "reconstructions.png",
                      "sample_pictures.txt"])
    # 2 clips x (frames, reconstructions) rows of 1 + 5 columns.
    self.assertEqual(Image.open(os.path.join(output_dir, "reconstructions.png")).size,
                     (6 * 65 + 1, 4 * 65 + 1))
    # Header + 2 clips.
    self.assertEqual(Image.open(os.path.join(output_dir, "analogy.png")).size,
                     (6 * 65 + 1, 3 * 65 + 1))


if __name__ == "__main__":
  tf.test.main()
