"""Serving signatures of `DrNet` (the exporter's "drnet" signature provider).

Signatures (each a `tf.function` taking and returning tensors only, so the export holds
core TensorFlow ops and loads without tfgen or TensorFlow Probability; batch norm in
inference mode, with its moving statistics):

* `analogy`, also exported as `serving_default` (thesis Fig. 5.3, 5.4; drnet-py
  `plot_analogy`):
    `content` float32 `(batch, height, width, channels)` in [0, 1], the frames whose
    content (and, for the "*_unet" content encoders, U-Net skips) is decoded;
    `pose` float32 `(batch, height, width, channels)` in [0, 1], the frames whose pose is
    decoded; same batch as `content`.
  Returns `frames` float32 `(batch, height, width, channels)` in [0, 1]:
  D(E_c(content), E_p(pose)), the skips from `content`.
* `encode`:
    `frames` float32 `(batch, height, width, channels)` in [0, 1].
  Returns `content` float32 `(batch, content_dim)` (h_c) and `pose` float32
  `(batch, pose_dim)` (h_p), L2-normalised when the model normalises them.

Height, width and channels are the model's. Inputs are declared with unknown rank and
checked in the graph (`tfgen.export.input_checks`): a wrong rank, frame size or channel
count, values outside [0, 1] (or NaN), a wrong dtype, or `content` and `pose` batches of
different sizes raise `InvalidArgumentError` saying what was expected.
"""

import numpy as np
import tensorflow as tf

from tfgen.export import input_checks

SERVING_DEFAULT = "serving_default"
ANALOGY = "analogy"
ENCODE = "encode"


def input_specs(model):
  """The documented inputs of each signature, with their full shapes.

  The exported signatures declare the same names and dtypes with unknown rank; these are
  the shapes the in-graph checks enforce (`None`: any size).

  Args:
    model: a built `DrNet`.

  Returns:
    `{signature_name: {input_name: tf.TensorSpec}}` for `analogy`, `serving_default` (the
    same) and `encode`.
  """
  frames = tf.TensorSpec((None, model.image_size, model.image_size, model.channels),
                         tf.float32)
  analogy = {"content": frames, "pose": frames}
  return {SERVING_DEFAULT: analogy, ANALOGY: analogy, ENCODE: {"frames": frames}}


def _checked_same_batch(pose, content, spec):
  """`pose` if its batch is `content`'s; else the call fails naming both batch sizes."""
  content_batch, pose_batch = tf.shape(content)[0], tf.shape(pose)[0]
  frame_shape = tf.constant(spec.shape[1:].as_list(), tf.int32)  # (H, W, C)
  stand_in_shape = tf.concat([[content_batch], frame_shape], axis=0)
  pose = input_checks.checked_value(
      tf.equal(content_batch, pose_batch),
      "pose: expected the batch size of content; got the batch sizes of pose and content",
      [pose_batch, content_batch], pose, lambda: tf.zeros(stand_in_shape, spec.dtype))
  return tf.ensure_shape(pose, spec.shape)


def signatures(model):
  """The serving signatures of `model`, see the module docstring.

  Args:
    model: a built `DrNet` with its trained weights.

  Returns:
    `{signature_name: tf.function}` with input signatures: `serving_default` (the
    `analogy` function), `analogy` and `encode`. Each returns a dict of tensors.
  """
  specs = input_specs(model)
  analogy_specs, encode_specs = specs[ANALOGY], specs[ENCODE]

  @tf.function(input_signature=input_checks.unknown_rank(analogy_specs))
  def analogy(content, pose):
    content = input_checks.checked_frames(content, "content", analogy_specs["content"])
    pose = input_checks.checked_frames(pose, "pose", analogy_specs["pose"])
    pose = _checked_same_batch(pose, content, analogy_specs["pose"])
    h_c, skips = model.encode_content(content, training=False)
    h_p = model.encode_pose(pose, training=False)
    frames = model.decode(h_c, skips, h_p, training=False)
    return {"frames": tf.identity(tf.cast(frames, tf.float32), name="frames")}

  @tf.function(input_signature=input_checks.unknown_rank(encode_specs))
  def encode(frames):
    frames = input_checks.checked_frames(frames, "frames", encode_specs["frames"])
    h_c, _ = model.encode_content(frames, training=False)
    h_p = model.encode_pose(frames, training=False)
    return {"content": tf.identity(h_c, name="content"), "pose": tf.identity(h_p, name="pose")}

  # The exporter requires `serving_default`: the analogy, DrNET's defining output.
  return {SERVING_DEFAULT: analogy, ANALOGY: analogy, ENCODE: encode}


def example_inputs(model, batch_size=1):
  """Valid inputs of every signature, for warm-up requests, REST examples and tests.

  Args:
    model: a built `DrNet`.
    batch_size: int, frames per request.

  Returns:
    `{signature_name: {input_name: np.ndarray}}`; frames are uniform noise in [0, 1],
    the same for `serving_default` and `analogy`.
  """
  rng = np.random.default_rng(0)
  specs = input_specs(model)

  def frames(name, input_name):
    shape = (batch_size,) + tuple(specs[name][input_name].shape[1:])
    return rng.uniform(size=shape).astype(np.float32)

  analogy = {"content": frames(ANALOGY, "content"), "pose": frames(ANALOGY, "pose")}
  # serving_default is the analogy: the same request.
  return {SERVING_DEFAULT: analogy, ANALOGY: dict(analogy),
          ENCODE: {"frames": frames(ENCODE, "frames")}}
