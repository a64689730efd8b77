"""Do long rollouts keep the digits? A digit classifier on two-colour Moving MNIST rollouts.

`python -m tfgen.bin.rollout_identity --workdir=W --classifier_workdir=C`: the thesis's
claim for DrNET's pose LSTM (§5.3.2, Fig. 5.2) is that predicting only the pose, with the
content of the last observed frame held fixed, keeps the digits' identity hundreds of
frames ahead, where pixel-space predictors blur them away. This module measures it:

1. the run W (any family that predicts frames through the evaluation's `generate`
   contract: `drnet_lstm`, `ae_lstm`, `svg_*`) trained on two-colour Moving MNIST
   ("mnist": digit n drawn in colour channel n) predicts `num_future_frames` frames of
   each of the first `num_test_sequences` fixed test clips, from its context frames;
2. at each of `steps` (future frame numbers, 1-based) each colour channel of the
   predicted frame is cropped to 28 x 28 around its centre of mass (which is how MNIST
   centred its digits, so the crop of a real frame is an MNIST-like digit), clamped to
   [0, 1];
3. C, a classifier trained by tfgen on MNIST digits (`--model=classifier
   --dataset=mnist_digits`, example shape 28 x 28 x 1), labels each crop; the accuracy
   against the clip's true digits (both digits of every clip) is reported per step and
   over the last `num_last_frames` predicted frames;
4. the same crops of the real context frames give the accuracy this measure reaches on
   real frames (its ceiling: occlusion by the other digit and the crop cost a little), and
   chance is 10%.

A channel left (almost) empty by the prediction (mass below `min_mass`, a digit that
faded away) counts as wrong and is counted separately ("vanished"). Outputs in
`output_dir` (default `W/rollout_identity`), whole or not at all:
`rollout_identity.json` (every number and the protocol), `rollout_identity.csv` (one row
per step), `rollouts.png` (the first clips at the scored steps, context frame first).
"""

import dataclasses
import datetime
import json
import os
from typing import Optional, Sequence

from absl import logging
import numpy as np
import tensorflow as tf
import tqdm

from tfgen.evaluation import evaluate as evaluate_lib
from tfgen.models.classifier import labelled_data
from tfgen.models.classifier import scoring
from tfgen.utils import images

RESULTS_FILE = "rollout_identity.json"
DIGIT_SIZE = 28
DEFAULT_STEPS = (1, 10, 50, 100, 200, 300, 400, 500)


@dataclasses.dataclass
class RolloutIdentityOptions:
  """The flags of `python -m tfgen.bin.rollout_identity`.

  Attributes:
    num_future_frames: frames predicted per clip (thesis Fig. 5.2: 500).
    num_context_frames: frames conditioned on (None: the model's).
    num_test_sequences: the first this many fixed test clips (None: the data set's, 256).
    steps: future frame numbers (1-based) scored; those beyond `num_future_frames` are
      dropped, and the last frame is always scored.
    num_last_frames: the summary accuracy is over this many last predicted frames.
    batch_size: clips per `generate` call.
    min_mass: a channel with less total intensity than this counts as vanished (a real
      MNIST digit has a mass of about 100).
    num_picture_clips: clips shown in `rollouts.png`.
    output_dir: default `<workdir>/rollout_identity` (replaced wholesale).
  """
  num_future_frames: int = 500
  num_context_frames: Optional[int] = None
  num_test_sequences: Optional[int] = None
  steps: Sequence[int] = DEFAULT_STEPS
  num_last_frames: int = 10
  batch_size: int = 16
  min_mass: float = 5.0
  num_picture_clips: int = 4
  output_dir: Optional[str] = None

  def check(self):
    for name in ("num_future_frames", "num_last_frames", "batch_size", "num_picture_clips"):
      value = getattr(self, name)
      if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    for name in ("num_context_frames", "num_test_sequences"):
      value = getattr(self, name)
      if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
        raise ValueError(f"{name} must be an integer >= 1 or None, got {value!r}.")
    if self.num_last_frames > self.num_future_frames:
      raise ValueError(f"num_last_frames ({self.num_last_frames}) must be at most "
                       f"num_future_frames ({self.num_future_frames}).")
    steps = list(self.steps)
    if not steps or any(isinstance(s, bool) or int(s) != s or s < 1 for s in steps):
      raise ValueError(f"steps must be future frame numbers >= 1, got {self.steps!r}.")
    if not self.min_mass >= 0:
      raise ValueError(f"min_mass must be >= 0, got {self.min_mass!r}.")

  def scored_steps(self):
    """The sorted 1-based future frames scored: `steps` within range, plus the last ones."""
    last = range(self.num_future_frames - self.num_last_frames + 1,
                 self.num_future_frames + 1)
    return sorted({int(s) for s in self.steps if s <= self.num_future_frames} | set(last))


def digit_crops(frames, num_digits=2, size=DIGIT_SIZE):
  """Each colour channel's digit, cropped around its centre of mass.

  Args:
    frames: float `(n, H, W, C)` frames, digit d in channel d.
    num_digits: channels holding a digit (the first ones).
    size: crop size (MNIST's 28).

  Returns:
    `(crops (n, num_digits, size, size, 1) float32 in [0, 1], mass (n, num_digits))`: the
    centre of mass of channel d sits at the crop's centre (MNIST's centring); outside the
    frame is zero.
  """
  frames = np.clip(np.asarray(frames, np.float32)[..., :num_digits], 0.0, 1.0)
  n, height, width, _ = frames.shape
  mass = frames.sum(axis=(1, 2))  # (n, D)
  safe = np.maximum(mass, 1e-12)
  ys = np.einsum("nhwd,h->nd", frames, np.arange(height, dtype=np.float32)) / safe
  xs = np.einsum("nhwd,w->nd", frames, np.arange(width, dtype=np.float32)) / safe
  ys = np.where(mass > 0, ys, (height - 1) / 2)
  xs = np.where(mass > 0, xs, (width - 1) / 2)
  # Top-left corners so that the centre of mass lands at the crop's centre, (size - 1) / 2.
  top = np.rint(ys - (size - 1) / 2).astype(np.int64) + size  # in padded coordinates
  left = np.rint(xs - (size - 1) / 2).astype(np.int64) + size
  padded = np.pad(frames, ((0, 0), (size, size), (size, size), (0, 0)))
  offsets = np.arange(size)
  rows = (top[:, :, None] + offsets)[:, :, :, None]    # (n, D, size, 1)
  cols = (left[:, :, None] + offsets)[:, :, None, :]   # (n, D, 1, size)
  crops = padded[np.arange(n)[:, None, None, None], rows, cols,
                 np.arange(num_digits)[None, :, None, None]]
  return crops[..., None], mass


def classify_crops(classifier, crops, batch_size=1000):
  """Predicted classes of `(..., 28, 28, 1)` crops (classifier in inference mode)."""
  flat = crops.reshape((-1,) + crops.shape[-3:])
  predictions = [np.argmax(classifier(flat[s:s + batch_size], training=False), axis=-1)
                 for s in range(0, len(flat), batch_size)]
  return np.concatenate(predictions).reshape(crops.shape[:-3])


def load_classifier(workdir):
  """`(classifier, config, checkpoint_path)`: a tfgen classifier of 28 x 28 x 1 digits."""
  return scoring.load(workdir, example_shape=(DIGIT_SIZE, DIGIT_SIZE, 1))


def check_data(config):
  """Raises `ValueError` unless the run was trained on two-colour Moving MNIST."""
  if config.data.name != "mnist":
    raise ValueError(f"The run was trained on {config.data.name!r}; the digit-identity "
                     "measure needs two-colour Moving MNIST (--dataset=mnist), whose "
                     "colour channels each hold one digit.")


def _accuracy(correct):
  return float(np.mean(correct)) if correct.size else float("nan")


def rollout_accuracy(model, classifier, clips, options):
  """Predicts and scores the clips (module docstring, steps 1-4).

  Args:
    model: has `generate(context, num_future_frames, num_samples)` -> {"samples":
      (B, N, F, H, W, C)}.
    classifier: `classifier(crops (n, 28, 28, 1), training=False)` -> logits `(n, 10)`.
    clips: `labelled_data.LabelledClips`, the context frames and each clip's digits.
    options: `RolloutIdentityOptions`.

  Returns:
    dict: `real_context_accuracy`, `real_context_vanished_fraction`,
    `last_frames_accuracy`, `last_frames_vanished_fraction`, `per_step` (list of
    {step, accuracy, vanished_fraction}) and `frames` (the predicted frames at the scored
    steps, `(n, S, H, W, C)`).
  """
  steps = options.scored_steps()
  step_index = np.asarray(steps) - 1
  num_clips, num_digits = clips.labels.shape
  generate = tf.function(
      lambda context: model.generate(context, options.num_future_frames, num_samples=1)
      ["samples"][:, 0], reduce_retracing=True)
  predicted = []
  progress = tqdm.tqdm(total=num_clips, unit="clip", desc="rollout identity")
  for start in range(0, num_clips, options.batch_size):
    context = clips.frames[start:start + options.batch_size]
    future = np.asarray(generate(tf.constant(context, tf.float32)))  # (b, F, H, W, C)
    if future.shape[1] != options.num_future_frames:
      raise ValueError(f"The model predicted {future.shape[1]} frames, not "
                       f"{options.num_future_frames}.")
    predicted.append(future[:, step_index])
    progress.update(len(context))
  progress.close()
  predicted = np.concatenate(predicted)  # (N, S, H, W, C)

  def score(frames):
    """`(correct, vanished)`, bool `(N, k, D)`, for `(N, k, H, W, C)` frames."""
    crops, mass = digit_crops(frames.reshape((-1,) + frames.shape[2:]), num_digits)
    labels = classify_crops(classifier, crops).reshape(frames.shape[:2] + (num_digits,))
    vanished = (mass < options.min_mass).reshape(labels.shape)
    return (labels == clips.labels[:, None, :]) & ~vanished, vanished

  real_correct, real_vanished = score(clips.frames)
  correct, vanished = score(predicted)
  last = np.asarray(steps) > options.num_future_frames - options.num_last_frames
  return {
      "real_context_accuracy": _accuracy(real_correct),
      "real_context_vanished_fraction": float(np.mean(real_vanished)),
      "last_frames_accuracy": _accuracy(correct[:, last]),
      "last_frames_vanished_fraction": float(np.mean(vanished[:, last])),
      "per_step": [{"step": int(s), "accuracy": _accuracy(correct[:, i]),
                    "vanished_fraction": float(np.mean(vanished[:, i]))}
                   for i, s in enumerate(steps)],
      "frames": predicted,
  }


def measure(workdir, classifier_workdir, options=None, **kwargs):
  """Runs the measure (module docstring); writes and returns the results document."""
  options = options or RolloutIdentityOptions(**kwargs)
  options.check()
  config = evaluate_lib.load_config(workdir)
  check_data(config)
  output_dir = os.path.abspath(options.output_dir or os.path.join(workdir, "rollout_identity"))
  evaluate_lib.check_output_dir(output_dir, marker=RESULTS_FILE)
  classifier, classifier_config, classifier_path = load_classifier(classifier_workdir)
  model, checkpoint_path = evaluate_lib.load_model(workdir, config)
  evaluate_lib.check_predicts(model, config)

  num_context = options.num_context_frames or int(model.num_context_frames)
  data_options = dict(config.data.get("options", {}))
  num_clips = options.num_test_sequences or int(data_options.get("num_test_sequences", 256))
  clips = labelled_data.mnist_test_clips(
      num_clips, num_frames=num_context, data_dir=config.data.data_dir, **data_options)
  results = rollout_accuracy(model, classifier, clips, options)
  predicted = results.pop("frames")
  document = {
      "workdir": os.path.abspath(workdir),
      "model_name": config.get("model_name", config.model.name),
      "checkpoint": checkpoint_path,
      "classifier_workdir": os.path.abspath(classifier_workdir),
      "classifier_checkpoint": classifier_path,
      "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "protocol": {
          "data": "two-colour Moving MNIST, fixed test clips (MNIST test digits)",
          "num_test_sequences": int(num_clips),
          "num_digits_per_clip": int(clips.labels.shape[1]),
          "num_context_frames": int(num_context),
          "num_future_frames": int(options.num_future_frames),
          "scored_steps": options.scored_steps(),
          "num_last_frames": int(options.num_last_frames),
          "crop": (f"each colour channel clamped to [0, 1], {DIGIT_SIZE}x{DIGIT_SIZE} around "
                   "its centre of mass (MNIST's centring), zero outside the frame"),
          "vanished": f"channel mass < {options.min_mass} (counted as wrong)",
          "classifier": (f"tfgen classifier ({classifier_config.model.get('architecture')}) "
                         f"trained on {classifier_config.data.name}"),
          "chance_accuracy": 0.1,
      },
      **results,
      "output_dir": output_dir,
  }
  shown = min(options.num_picture_clips, num_clips)
  rows = [[images.framed(clips.frames[i, -1], images.GREEN)]
          + [images.framed(f, images.RED) for f in predicted[i]] for i in range(shown)]

  def write(staging):
    with open(os.path.join(staging, RESULTS_FILE), "w") as f:
      json.dump(document, f, indent=2)
      f.write("\n")
    lines = ["step,accuracy,vanished_fraction"]
    lines += [f"{e['step']},{e['accuracy']:.6f},{e['vanished_fraction']:.6f}"
              for e in document["per_step"]]
    with open(os.path.join(staging, "rollout_identity.csv"), "w") as f:
      f.write("\n".join(lines) + "\n")
    images.save_png(os.path.join(staging, "rollouts.png"), images.grid(rows))

  evaluate_lib.replace_directory(output_dir, write)
  logging.info("Rollout identity written to %s", output_dir)
  return document
