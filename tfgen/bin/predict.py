r"""Predicts the future of your own video: `python -m tfgen.bin.predict --export_dir=... --video=clip.mp4 --num_future_frames=N`.

Takes a model exported by `python -m tfgen.bin.export` (SVG and its variants, DrNET's
pose LSTM), reads `--video` with FFmpeg (any format it decodes), converts the frames as
the model's training data were (squash-resized to its frame size, grey or RGB), takes its
context frames from `--start_frame`, and writes `prediction.gif` and `prediction.mp4`
(context green, prediction red, one column per sample) into `--output_dir`
(`tfgen.export.video_prediction`).

  python -m tfgen.bin.predict --export_dir=/tmp/export/svg_lp --video=clip.mp4 \
      --num_future_frames=30 --num_samples=4 --output_dir=/tmp/clip_prediction
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("export_dir", None, "An exported model: BASE/<model_name> (its largest "
                    "version) or BASE/<model_name>/<version>.")
flags.DEFINE_string("video", None, "The video whose future is predicted (any format FFmpeg "
                    "reads).")
flags.DEFINE_integer("num_future_frames", None, "Frames to predict after the context.")
flags.DEFINE_integer("num_samples", None, "Futures drawn (SVG exports; default 1).")
flags.DEFINE_integer("seed", 0, "Seed of the samples (SVG exports).")
flags.DEFINE_integer("start_frame", 0, "First context frame in the video.")
flags.DEFINE_float("fps", None, "Frame rate of the outputs (default: the video's).")
flags.DEFINE_string("output_dir", None, "Where prediction.gif and prediction.mp4 go.")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.export import video_prediction  # After flag parsing: TensorFlow is slow.
  with tfgen_flags.user_errors():
    for name in ("export_dir", "video", "num_future_frames", "output_dir"):
      if FLAGS[name].value is None:
        raise ValueError(f"--{name} is required.")
    result = video_prediction.predict_video(
        FLAGS.export_dir, FLAGS.video, FLAGS.num_future_frames, FLAGS.output_dir,
        num_samples=FLAGS.num_samples, seed=FLAGS.seed, start_frame=FLAGS.start_frame,
        fps=FLAGS.fps)
  print(f"Prediction: {result['gif']} {result['mp4']}")


if __name__ == "__main__":
  app.run(main)
