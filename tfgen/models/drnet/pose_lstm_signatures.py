"""Serving signatures of `PoseLSTM` (the exporter's "drnet_lstm" signature provider).

Signatures (each a `tf.function` taking and returning tensors only, so the export holds
core TensorFlow ops and loads without tfgen or TensorFlow Probability; batch norm in
inference mode):

* `serving_default`:
    `context` float32 `(batch, num_context_frames, height, width, channels)` in [0, 1],
    the observed frames;
    `num_future_frames` int32 scalar > 0, frames to predict.
  Returns `frames` float32 `(batch, num_future_frames, height, width, channels)` in
  [0, 1], the prediction (the pose LSTM's rollout, its own poses fed back, content and
  skips of the last context frame; the rollout is a loop in the graph) and `poses`
  float32 `(batch, num_future_frames, pose_dim)`, the predicted pose vectors.

The number of context frames is the model's training value; height, width and channels
are the model's. Inputs are declared with unknown rank and checked in the graph
(`tfgen.export.input_checks`): a wrong rank, number of frames, frame size or channel
count, values outside [0, 1] (or NaN), a wrong dtype or a non-positive
`num_future_frames` raise `InvalidArgumentError` saying what was expected.
"""

import numpy as np
import tensorflow as tf

from tfgen.export import input_checks

SERVING_DEFAULT = "serving_default"


def input_specs(model):
  """`{signature_name: {input_name: tf.TensorSpec}}`, the shapes the checks enforce."""
  frame = (model.image_size, model.image_size, model.channels)
  return {SERVING_DEFAULT: {
      "context": tf.TensorSpec((None, model.num_context_frames) + frame, tf.float32),
      "num_future_frames": tf.TensorSpec((), tf.int32),
  }}


def signatures(model):
  """`{"serving_default": tf.function}` of a built `PoseLSTM` (module docstring)."""
  specs = input_specs(model)[SERVING_DEFAULT]

  @tf.function(input_signature=input_checks.unknown_rank(specs))
  def serving_default(context, num_future_frames):
    context = input_checks.checked_frames(context, "context", specs["context"])
    num_future_frames = input_checks.checked_count(num_future_frames, "num_future_frames",
                                                   specs["num_future_frames"])
    frames, poses = model.predict_future(context, num_future_frames, return_poses=True)
    return {"frames": tf.identity(frames, name="frames"),
            "poses": tf.identity(poses, name="poses")}

  return {SERVING_DEFAULT: serving_default}


def example_inputs(model, batch_size=1, num_future_frames=3):
  """Valid inputs, for warm-up requests, REST examples and tests (frames: uniform noise)."""
  rng = np.random.default_rng(0)
  context = input_specs(model)[SERVING_DEFAULT]["context"]
  return {SERVING_DEFAULT: {
      "context": rng.uniform(size=(batch_size,) + tuple(context.shape[1:])).astype(np.float32),
      "num_future_frames": np.asarray(num_future_frames, np.int32),
  }}
