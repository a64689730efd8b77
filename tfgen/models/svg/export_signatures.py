"""Serving signatures of `SVG` (SVG-LP, SVG-FP and the deterministic baseline).

Signatures (each a `tf.function` taking and returning tensors only, so the export holds
core TensorFlow ops and loads without tfgen or TensorFlow Probability):

* `serving_default` (every variant):
    `context` float32 `(batch, num_context_frames, height, width, channels)` in [0, 1];
    `num_future_frames` int32 scalar > 0; `num_samples` int32 scalar > 0;
    `seed` int64 `[2]` (the key of the stateless random ops: the same seed gives the same
    samples).
  Returns `samples` float32 `(batch, num_samples, num_future_frames, height, width,
  channels)` and, for SVG-LP, `prior_scale` float32 `(batch, num_samples,
  num_future_frames, z_dim)`, the learned prior's per-step standard deviation.
* `reconstruct` (models with a posterior: SVG-LP and SVG-FP):
    `video` float32 `(batch, num_frames, height, width, channels)` in [0, 1] with
    `num_frames = num_context_frames + num_future_frames` (the training clip length);
    `seed` int64 `[2]`.
  Returns `reconstruction` float32 `(batch, num_frames - 1, height, width, channels)`,
  the posterior reconstruction of frames 2..T.

The number of context frames (and of reconstructed frames) is fixed to the model's
training value: `SVG.generate` unrolls the context statically. Height, width and channels
are the model's.

Inputs are declared with unknown rank and checked in the graph (`input_checks`: a loaded
signature does not check shapes against its declared `TensorSpec`s, neither does TF
Serving, and a declared rank would let TensorFlow fold a rank check away). Wrong rank or
shape, values outside [0, 1] (or NaN), a non-positive count or a wrong dtype raise
`InvalidArgumentError` saying what was expected.
"""

import numpy as np
import tensorflow as tf

from tfgen.export import input_checks

SERVING_DEFAULT = "serving_default"
RECONSTRUCT = "reconstruct"


def input_specs(model):
  """The documented inputs of each signature, with their full shapes.

  The exported signatures declare the same names and dtypes with unknown rank (see the
  module docstring); these are the shapes the in-graph checks enforce (`None`: any size).

  Args:
    model: a built `SVG`.

  Returns:
    `{signature_name: {input_name: tf.TensorSpec}}`.
  """
  frame = (model.image_size, model.image_size, model.channels)
  specs = {
      SERVING_DEFAULT: {
          "context": tf.TensorSpec((None, model.num_context_frames) + frame, tf.float32),
          "num_future_frames": tf.TensorSpec((), tf.int32),
          "num_samples": tf.TensorSpec((), tf.int32),
          "seed": tf.TensorSpec((2,), tf.int64),
      },
  }
  if model.stochastic:
    specs[RECONSTRUCT] = {
        "video": tf.TensorSpec((None, model.num_frames) + frame, tf.float32),
        "seed": tf.TensorSpec((2,), tf.int64),
    }
  return specs


def signatures(model):
  """The serving signatures of `model`, see the module docstring.

  Args:
    model: a built `SVG` with its trained weights.

  Returns:
    `{signature_name: tf.function}` with input signatures: `serving_default` and, for the
    stochastic variants, `reconstruct`. Each returns a dict of tensors.
  """
  specs = input_specs(model)
  default_specs = specs[SERVING_DEFAULT]

  @tf.function(input_signature=input_checks.unknown_rank(default_specs))
  def serving_default(context, num_future_frames, num_samples, seed):
    context = input_checks.checked_frames(context, "context", default_specs["context"])
    num_future_frames = input_checks.checked_count(num_future_frames, "num_future_frames",
                                                   default_specs["num_future_frames"])
    num_samples = input_checks.checked_count(num_samples, "num_samples",
                                             default_specs["num_samples"])
    seed = input_checks.checked(seed, "seed", default_specs["seed"])
    outputs = model.generate(context, num_future_frames, num_samples, seed,
                             return_prior_scale=model.prior == "learned")
    return {name: tf.identity(value, name=name) for name, value in outputs.items()}

  functions = {SERVING_DEFAULT: serving_default}
  if RECONSTRUCT in specs:
    reconstruct_specs = specs[RECONSTRUCT]

    @tf.function(input_signature=input_checks.unknown_rank(reconstruct_specs))
    def reconstruct(video, seed):
      video = input_checks.checked_frames(video, "video", reconstruct_specs["video"])
      seed = input_checks.checked(seed, "seed", reconstruct_specs["seed"])
      return {"reconstruction": tf.identity(model.reconstruct(video, seed),
                                            name="reconstruction")}

    functions[RECONSTRUCT] = reconstruct
  return functions


def example_inputs(model, batch_size=1, num_future_frames=3, num_samples=2, seed=(1, 2)):
  """Valid inputs of every signature, for warm-up requests, REST examples and tests.

  Args:
    model: a built `SVG`.
    batch_size: int, clips per request.
    num_future_frames: int, frames to generate.
    num_samples: int, futures per clip.
    seed: two ints, the stateless seed.

  Returns:
    `{signature_name: {input_name: np.ndarray}}`; frames are uniform noise in [0, 1].
  """
  rng = np.random.default_rng(0)
  examples = {}
  for name, specs in input_specs(model).items():
    inputs = {}
    for input_name, spec in specs.items():
      if input_name in ("context", "video"):
        shape = (batch_size,) + tuple(spec.shape[1:])
        inputs[input_name] = rng.uniform(size=shape).astype(np.float32)
      elif input_name == "seed":
        inputs[input_name] = np.asarray(seed, np.int64)
      elif input_name == "num_future_frames":
        inputs[input_name] = np.asarray(num_future_frames, np.int32)
      elif input_name == "num_samples":
        inputs[input_name] = np.asarray(num_samples, np.int32)
      else:
        raise ValueError(f"No example for input {input_name!r} of signature {name!r}.")
    examples[name] = inputs
  return examples
