"""Predicting the future of your own video with an exported model (`tfgen.bin.predict`).

Works with any export whose `serving_default` takes `context` frames and
`num_future_frames` (SVG and its variants: also `num_samples` and `seed`; DrNET's pose
LSTM), and returns `samples` `(batch, samples, frames, H, W, C)` or `frames`
`(batch, frames, H, W, C)`. What the model expects (number of context frames, frame size,
channels) is read from the export's own TF Serving warm-up request
(`assets.extra/tf_serving_warmup_requests`, which `tfgen.export.exporter` writes), so
nothing of the training run is needed.

The video is read by FFmpeg (PyAV): any container and codec FFmpeg decodes. Frames are
converted as the training data were: squash-resized (aspect ratio not kept) to the
model's size with FFmpeg's area-averaging scaler, to grey for a 1-channel model (as
`tfgen.data.prepare` converts KTH) or RGB for a 3-channel one, scaled to [0, 1].

Outputs, each written atomically: `prediction.gif` and `prediction.mp4`, one frame per
time step: the context (green border) then the prediction (red border), one column per
sample.
"""

import io
import os

import numpy as np
import tensorflow as tf

from tfgen.export import serving_requests
from tfgen.utils import files
from tfgen.utils import images

SERVING_DEFAULT = "serving_default"
_FORMATS = {1: "gray", 3: "rgb24"}


def find_version(export_dir):
  """`export_dir` if it is a SavedModel, else its largest integer version sub-directory."""
  if tf.saved_model.contains_saved_model(export_dir):
    return export_dir
  versions = sorted(int(n) for n in (os.listdir(export_dir) if os.path.isdir(export_dir) else [])
                    if n.isdigit() and tf.saved_model.contains_saved_model(
                        os.path.join(export_dir, n)))
  if not versions:
    raise ValueError(f"--export_dir {export_dir!r} is neither a SavedModel nor a directory of "
                     "TF Serving versions (`python -m tfgen.bin.export` writes "
                     "BASE/<model_name>/<version>/).")
  return os.path.join(export_dir, str(versions[-1]))


def serving_inputs(saved_model_dir):
  """The example request of `serving_default`: `{input_name: np.ndarray}`.

  Raises:
    ValueError: no warm-up request (not written by `tfgen.bin.export`) or no `context`.
  """
  path = os.path.join(saved_model_dir, serving_requests.WARMUP_FILE)
  if not os.path.exists(path):
    raise ValueError(f"{saved_model_dir!r} has no TF Serving warm-up request ({path}): export "
                     "the model with `python -m tfgen.bin.export`.")
  for name, inputs in serving_requests.read_warmup_requests(saved_model_dir):
    if name == SERVING_DEFAULT:
      if "context" not in inputs or "num_future_frames" not in inputs:
        raise ValueError(f"{saved_model_dir!r} does not predict video: its {SERVING_DEFAULT} "
                         f"takes {sorted(inputs)}, not context and num_future_frames.")
      return inputs
  raise ValueError(f"{saved_model_dir!r} has no {SERVING_DEFAULT} warm-up request.")


def read_video(path, image_size, channels, max_frames=None):
  """Decodes a video file as the training frames were made (module docstring).

  Returns:
    `(frames, fps)`: float32 `(T, image_size, image_size, channels)` in [0, 1], and the
    video's frame rate (None when the container does not say).

  Raises:
    ValueError: a missing or undecodable file, no video stream, or a channel count other
      than 1 or 3.
  """
  import av  # pylint: disable=g-import-not-at-top
  if channels not in _FORMATS:
    raise ValueError(f"Models of {channels} channels cannot read videos; expected 1 or 3.")
  if not os.path.exists(path):
    raise ValueError(f"--video {path!r} does not exist.")
  frames, fps = [], None
  try:
    with av.open(path) as container:
      if not container.streams.video:
        raise ValueError(f"--video {path!r} has no video stream.")
      stream = container.streams.video[0]
      fps = float(stream.average_rate) if stream.average_rate else None
      for frame in container.decode(stream):
        frames.append(frame.reformat(width=image_size, height=image_size,
                                     format=_FORMATS[channels],
                                     interpolation="AREA").to_ndarray())
        if max_frames is not None and len(frames) >= max_frames:
          break
  except av.error.FFmpegError as e:
    raise ValueError(f"--video {path!r} cannot be decoded by FFmpeg: {e}") from None
  if not frames:
    raise ValueError(f"--video {path!r} holds no decodable frame.")
  video = np.stack(frames).astype(np.float32) / 255.0
  return video.reshape(video.shape[:3] + (channels,)), fps


def run(saved_model_dir, context, num_future_frames, num_samples=None, seed=0):
  """Runs `serving_default` on one clip: returns `(samples (N, F, H, W, C), N)`.

  Raises:
    ValueError: `num_samples` for a model that draws one future.
  """
  loaded = tf.saved_model.load(saved_model_dir)
  example = serving_inputs(saved_model_dir)
  inputs = {"context": tf.constant(context[None], tf.float32),
            "num_future_frames": tf.constant(num_future_frames, tf.int32)}
  if "num_samples" in example:
    inputs["num_samples"] = tf.constant(num_samples or 1, tf.int32)
  elif num_samples not in (None, 1):
    raise ValueError(f"--num_samples={num_samples}: this model predicts one future (its "
                     f"{SERVING_DEFAULT} takes {sorted(example)}).")
  if "seed" in example:
    inputs["seed"] = tf.constant([seed, 0], tf.int64)
  outputs = loaded.signatures[SERVING_DEFAULT](**inputs)
  if "samples" in outputs:
    samples = outputs["samples"].numpy()[0]  # (N, F, H, W, C)
  else:
    samples = outputs["frames"].numpy()[0][None]  # (1, F, H, W, C)
  return samples


def picture_frames(context, samples):
  """One image per time step: a row of samples, context green then prediction red."""
  frames = []
  for t in range(len(context) + samples.shape[1]):
    if t < len(context):
      row = [images.framed(context[t], images.GREEN)] * samples.shape[0]
    else:
      row = [images.framed(s[t - len(context)], images.RED) for s in samples]
    frames.append(images.grid([row]))
  return frames


def mp4_bytes(frames, fps):
  """H.264 (or MPEG-4 Part 2 where libx264 is missing) MP4 of float RGB frames in [0, 1]."""
  import av  # pylint: disable=g-import-not-at-top
  pictures = images.to_uint8(np.stack(frames))
  # yuv420p needs even sizes: pad the bottom and right edge with white.
  height, width = pictures.shape[1:3]
  pictures = np.pad(pictures, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)),
                    constant_values=255)
  codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
  buffer = io.BytesIO()
  with av.open(buffer, "w", format="mp4") as container:
    stream = container.add_stream(codec, rate=max(1, int(round(fps))))
    stream.height, stream.width = pictures.shape[1:3]
    stream.pix_fmt = "yuv420p"
    for picture in pictures:
      for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
        container.mux(packet)
    for packet in stream.encode():
      container.mux(packet)
  return buffer.getvalue()


def predict_video(export_dir, video_path, num_future_frames, output_dir, num_samples=None,
                  seed=0, start_frame=0, fps=None):
  """Predicts `num_future_frames` frames after the context taken from a video file.

  Args:
    export_dir: a SavedModel of `tfgen.bin.export`, or its model directory (the largest
      version is used).
    video_path: any video FFmpeg decodes.
    num_future_frames: frames to predict (>= 1).
    output_dir: receives `prediction.gif` and `prediction.mp4` (each written atomically).
    num_samples: futures drawn (SVG exports only; default 1).
    seed: seed of the samples (SVG exports).
    start_frame: the context is frames `start_frame .. start_frame + n - 1` of the video,
      n the model's number of context frames.
    fps: frame rate of the outputs; default the video's (10 if it has none).

  Returns:
    dict with `gif`, `mp4` (paths), `num_context_frames`, `num_samples`.

  Raises:
    ValueError: bad counts, an export that does not predict video, an unreadable video, or
      a video too short for the context; all before any prediction.
  """
  if num_future_frames is None or num_future_frames < 1:
    raise ValueError(f"--num_future_frames must be >= 1, got {num_future_frames}.")
  if num_samples is not None and num_samples < 1:
    raise ValueError(f"--num_samples must be >= 1, got {num_samples}.")
  if start_frame < 0:
    raise ValueError(f"--start_frame must be >= 0, got {start_frame}.")
  saved_model_dir = find_version(export_dir)
  example = serving_inputs(saved_model_dir)
  num_context, height, width, channels = example["context"].shape[1:]
  if num_samples not in (None, 1) and "num_samples" not in example:
    raise ValueError(f"--num_samples={num_samples}: this model predicts one future (its "
                     f"{SERVING_DEFAULT} takes {sorted(example)}).")
  frames, video_fps = read_video(video_path, height, channels,
                                 max_frames=start_frame + num_context)
  if len(frames) < start_frame + num_context:
    raise ValueError(f"--video {video_path!r} has {len(frames)} frame"
                     f"{'' if len(frames) == 1 else 's'}; the model needs "
                     f"{num_context} context frames from frame {start_frame} "
                     f"(--start_frame), i.e. at least {start_frame + num_context}.")
  context = frames[start_frame:start_frame + num_context]
  samples = run(saved_model_dir, context, num_future_frames, num_samples, seed)
  pictures = picture_frames(context, samples)
  fps = fps or video_fps or 10.0
  gif_path = os.path.join(output_dir, "prediction.gif")
  mp4_path = os.path.join(output_dir, "prediction.mp4")
  images.save_gif(gif_path, pictures, duration_ms=int(round(1000.0 / fps)))
  files.atomic_write(mp4_path, mp4_bytes(pictures, fps))
  return {"gif": gif_path, "mp4": mp4_path, "num_context_frames": int(num_context),
          "num_samples": int(samples.shape[0]), "saved_model": saved_model_dir}
