"""DrNET's KTH "Inception" score (thesis eq. 5.8-5.9, Fig. 5.9) and nearest neighbours (Fig. 5.10).

`python -m tfgen.bin.kth_score --classifier_workdir=C --workdir=W1,W2,...`:

1. C is a trained "frames_conv" action classifier on real KTH clips of T = 10 frames
   (`python -m tfgen.bin.train --model=classifier --dataset=kth`, `configs/classifier_kth.py`;
   the shared classifier, `tfgen.models.classifier`).
2. Each W is a run that predicts frames (DrNET's pose LSTM, the AE-LSTM baseline, SVG:
   every family with the evaluation's contract, `tfgen.evaluation.evaluate.check_predicts`).
   On the fixed KTH test clips it sees `num_context_frames` frames and predicts
   `num_future_frames` (one sample per clip, seeded). For each offset o = 0 .. F - T, the
   window of generated frames [o, o + T) goes through the classifier, and the score is
   IS = exp(mean_i KL(p(y|x_i) || p_hat(y))), p_hat(y) = mean_i p(y|x_i) (eq. 5.8-5.9;
   `tfgen.evaluation.feature_distances.classifier_score` on the logits). "real" is the
   same score on the test clips' true frames at the same offsets (what a perfect model
   would get, <= 6). The classifier's accuracy on every window of the test persons is
   reported beside the scores.
3. Nearest neighbours (Fig. 5.10): for the first `num_neighbour_clips` test clips, every
   `neighbour_stride`-th generated frame and its nearest frame among
   `num_neighbour_candidates` training frames (L2 distance), in the thesis's feature spaces
   when the model has DrNET's encoders (`pose`: E_p; `content_pose`: [E_c, E_p]), and in
   pixel space for every model (`pixels`). One PNG per run: the generated frames on top,
   one row of neighbours per space below.

Outputs (`output_dir`): `kth_score.json`, `kth_score.csv` (run, offset, score, real score),
`kth_score.png` (score vs offset, Fig. 5.9), `neighbours_<run>.png` and `logits.npz`,
written whole or not at all (a staging directory renamed into place).
"""

import dataclasses
import json
import os
from typing import Optional, Sequence

from absl import logging
import numpy as np
import tensorflow as tf

from tfgen.data import registry
from tfgen.evaluation import evaluate as evaluate_lib
from tfgen.evaluation import feature_distances
from tfgen.train import workdir as workdir_lib
from tfgen.utils import images

RESULTS_FILE = "kth_score.json"


@dataclasses.dataclass
class ScoreOptions:
  """The flags of `python -m tfgen.bin.kth_score`.

  Attributes:
    num_future_frames: frames predicted per test clip (F >= the classifier's T).
    num_context_frames: frames conditioned on (default: each model's).
    num_test_sequences: score the first this many test clips (default: all).
    batch_size: test clips per `generate` call.
    num_neighbour_clips: test clips shown with their nearest neighbours.
    neighbour_stride: every this-many-th generated frame is shown.
    num_neighbour_candidates: training frames searched for neighbours.
    output_dir: where the results go (required by `score`).
    seed: base of the samples' seeds (batch i: (seed, i)) and of the training frames.
  """
  num_future_frames: int = 30
  num_context_frames: Optional[int] = None
  num_test_sequences: Optional[int] = None
  batch_size: int = 16
  num_neighbour_clips: int = 2
  neighbour_stride: int = 3
  num_neighbour_candidates: int = 1000
  output_dir: Optional[str] = None
  seed: int = 0

  def check(self):
    for name in ("num_future_frames", "num_context_frames", "num_test_sequences",
                 "batch_size", "num_neighbour_clips", "neighbour_stride",
                 "num_neighbour_candidates"):
      value = getattr(self, name)
      if value is None and name in ("num_context_frames", "num_test_sequences"):
        continue
      if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    if not self.output_dir:
      raise ValueError("output_dir is required.")


def load_classifier(workdir):
  """`(classifier, config)` of a trained "frames_conv" run; raises `ValueError` otherwise."""
  config = workdir_lib.load_config(workdir)
  if config.model.name != "classifier" or config.model.architecture != "frames_conv":
    raise ValueError(f"--classifier_workdir {workdir!r} holds a {config.model.name!r} run "
                     f"(architecture {config.model.get('architecture', None)!r}), not the "
                     "KTH action classifier: train one with `python -m tfgen.bin.train "
                     "--model=classifier --dataset=kth`.")
  model, _, _ = workdir_lib.load_model(workdir, config)
  return model, config


def classifier_accuracy(classifier, config, num_test_sequences=None, batch_size=32):
  """Accuracy of the KTH classifier on windows of the test persons: `(accuracy, n)`."""
  from tfgen.models.classifier import labelled_data  # pylint: disable=g-import-not-at-top
  data = config.data
  examples = labelled_data.kth_examples("test", data.num_frames, data_dir=data.data_dir,
                                        **dict(data.get("options", {})))
  if num_test_sequences is not None:
    examples = examples.subset(np.arange(min(num_test_sequences, len(examples))))
  correct = 0
  for clips, labels in examples.batches(batch_size):
    correct += int(np.sum(np.argmax(classifier(clips, training=False), -1) == labels))
  return correct / len(examples), len(examples)


def _frame_shape(config):
  size = dict(config.data.get("options", {})).get("image_size", 64)
  return (size, size, 1)


def load_predictor(workdir, classifier_config, options):
  """`(model, config, checkpoint, num_context_frames)` of a run that predicts KTH frames."""
  config = workdir_lib.load_config(workdir)
  model, _, checkpoint = workdir_lib.load_model(workdir, config)
  evaluate_lib.check_predicts(model, config)
  if config.data.name != classifier_config.data.name:
    raise ValueError(f"--workdir {workdir!r} predicts {config.data.name!r} frames; the "
                     f"classifier was trained on {classifier_config.data.name!r}.")
  if _frame_shape(config) != _frame_shape(classifier_config):
    raise ValueError(f"--workdir {workdir!r} predicts {_frame_shape(config)} frames; the "
                     f"classifier reads {_frame_shape(classifier_config)} frames.")
  window = classifier_config.data.num_frames
  if options.num_future_frames < window:
    raise ValueError(f"num_future_frames ({options.num_future_frames}) must be at least the "
                     f"classifier's {window} frames.")
  return model, config, checkpoint, options.num_context_frames or model.num_context_frames


def window_logits(classifier, clips, window):
  """Logits `(num_offsets, B, classes)` of every window [o, o + T) of `clips` `(B, F, ...)`."""
  num_offsets = clips.shape[1] - window + 1
  return np.stack([classifier(clips[:, o:o + window], training=False).numpy()
                   for o in range(num_offsets)])


def scores_by_offset(logits):
  """IS of each offset: `(num_offsets,)`, from `(num_offsets, N, classes)` logits."""
  return np.array([feature_distances.classifier_score(per_offset)[0] for per_offset in logits])


def _neighbour_spaces(model):
  """Feature spaces of the nearest neighbours: name -> fn(frames (n, H, W, C)) -> (n, d)."""
  spaces = {}
  drnet = getattr(model, "drnet", None)
  if drnet is not None and hasattr(drnet, "encode_pose"):
    pose = tf.function(lambda x: drnet.encode_pose(x, training=False), reduce_retracing=True)
    content = tf.function(lambda x: drnet.encode_content(x, training=False)[0],
                          reduce_retracing=True)
    spaces["pose"] = lambda x: pose(x).numpy()
    spaces["content_pose"] = lambda x: np.concatenate([content(x).numpy(), pose(x).numpy()],
                                                      axis=-1)
  spaces["pixels"] = lambda x: np.reshape(x, (len(x), -1))
  return spaces


def nearest(queries, candidates):
  """Index of the nearest row of `candidates` (L2) for each row of `queries`."""
  distances = (np.sum(queries**2, 1)[:, None] - 2.0 * queries @ candidates.T
               + np.sum(candidates**2, 1)[None, :])
  return np.argmin(distances, axis=1)


def training_frames(config, num_frames, seed):
  """`num_frames` frames of the KTH training stream, float32 `(n, H, W, 1)`."""
  data = config.data
  dataset = registry.build(data.name, "train", batch_size=num_frames, num_frames=1, seed=seed,
                           data_dir=data.data_dir, **dict(data.get("options", {})))
  return next(iter(dataset)).numpy()[:, 0]


def neighbour_picture(model, generated, candidates, stride, batch_size=256):
  """Rows: per clip, its generated frames, then their nearest training frame per space."""
  spaces = _neighbour_spaces(model)
  steps = np.arange(0, generated.shape[1], stride)
  rows, names = [], []
  for clip in generated:
    frames = clip[steps]  # (S, H, W, C)
    rows.append([images.framed(f, images.RED) for f in frames])
    names.append("generated")
    for name, features in spaces.items():
      candidate_features = np.concatenate([features(candidates[s:s + batch_size])
                                           for s in range(0, len(candidates), batch_size)])
      index = nearest(features(frames).astype(np.float64),
                      candidate_features.astype(np.float64))
      rows.append([images.framed(candidates[i], images.GREEN) for i in index])
      names.append(name)
  return images.grid(rows), names


def plot(document, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  figure, axis = plt.subplots(figsize=(5.5, 3.6))
  for run in document["runs"]:
    axis.plot(run["offsets"], run["score"], marker=".", label=run["name"])
  first = document["runs"][0]
  axis.plot(first["offsets"], first["real_score"], "k--", label="real test clips")
  axis.set_xlabel("offset of the first scored frame from the last context frame")
  axis.set_ylabel("KTH Inception score")
  axis.set_ylim(bottom=1.0)
  axis.grid(alpha=0.3)
  axis.legend(fontsize="small")
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def csv_text(document):
  lines = ["run,offset,first_frame,score,real_score"]
  for run in document["runs"]:
    for offset, score, real in zip(run["offsets"], run["score"], run["real_score"]):
      lines.append(f"{run['name']},{offset},{offset + 1},{score:.6f},{real:.6f}")
  return "\n".join(lines) + "\n"


def _run_names(workdirs):
  names = []
  for workdir in workdirs:
    name = os.path.basename(os.path.normpath(workdir)) or "run"
    while name in names:
      name += "_"
    names.append(name)
  return names


def score(classifier_workdir, workdirs: Sequence[str], options=None, **kwargs):
  """Scores the predictions of `workdirs` with the KTH classifier (module docstring).

  Returns:
    The document written to `kth_score.json`, with `output_dir`.

  Raises:
    ValueError: bad options, a classifier run of another kind, a run that does not predict
      frames or predicts frames of another size or data set, a horizon the test set cannot
      provide, an output directory that is not ours; all before any frame is generated.
  """
  options = options or ScoreOptions(**kwargs)
  options.check()
  if not workdirs:
    raise ValueError("At least one --workdir of a run that predicts frames is required.")
  evaluate_lib.check_output_dir(options.output_dir, marker=RESULTS_FILE)
  classifier, classifier_config = load_classifier(classifier_workdir)
  window = classifier_config.data.num_frames
  runs = [load_predictor(w, classifier_config, options) for w in workdirs]
  datasets = [evaluate_lib.test_dataset(config, context + options.num_future_frames,
                                        options.batch_size, options.num_test_sequences)
              for _, config, _, context in runs]
  candidates = training_frames(classifier_config, options.num_neighbour_candidates,
                               options.seed)
  accuracy, num_windows = classifier_accuracy(classifier, classifier_config)
  document = {"classifier_workdir": os.path.abspath(classifier_workdir),
              "classifier_window": window,
              # A score means something only if the classifier knows the actions.
              "classifier_test_accuracy": accuracy, "classifier_test_windows": num_windows,
              "num_future_frames": options.num_future_frames,
              "formula": "exp(mean_i KL(p(y|x_i) || mean_j p(y|x_j))), thesis eq. 5.8-5.9",
              "offset": "frames from the last context frame to the first scored frame, "
                        "minus 1 (offset 0: the first predicted frame)",
              "options": dataclasses.asdict(options), "runs": []}
  arrays, pictures = {}, {}
  for name, workdir, (model, config, checkpoint, context), dataset in zip(
      _run_names(workdirs), workdirs, runs, datasets):
    generated_logits, real_logits, shown = [], [], []
    generate = tf.function(
        lambda c, s, m=model: m.generate(c, options.num_future_frames, 1, seed=s)["samples"],
        reduce_retracing=True)
    for i, video in enumerate(dataset):
      samples = generate(video[:, :context], tf.constant([options.seed, i], tf.int64))
      generated = samples[:, 0].numpy()  # (B, F, H, W, C)
      real = video[:, context:context + options.num_future_frames].numpy()
      generated_logits.append(window_logits(classifier, generated, window))
      real_logits.append(window_logits(classifier, real, window))
      if sum(len(s) for s in shown) < options.num_neighbour_clips:
        shown.append(generated[:options.num_neighbour_clips - sum(len(s) for s in shown)])
    generated_logits = np.concatenate(generated_logits, axis=1)  # (offsets, N, classes)
    real_logits = np.concatenate(real_logits, axis=1)
    offsets = list(range(generated_logits.shape[0]))
    entry = {"name": name, "workdir": os.path.abspath(workdir), "checkpoint": checkpoint,
             "model_name": config.model.name, "num_context_frames": context,
             "num_test_sequences": int(generated_logits.shape[1]), "offsets": offsets,
             "score": scores_by_offset(generated_logits).tolist(),
             "real_score": scores_by_offset(real_logits).tolist()}
    picture, rows = neighbour_picture(model, np.concatenate(shown), candidates,
                                      options.neighbour_stride)
    entry["neighbour_rows"] = rows
    entry["neighbour_steps"] = list(range(0, options.num_future_frames,
                                          options.neighbour_stride))
    document["runs"].append(entry)
    arrays[f"{name}_logits"] = generated_logits
    arrays[f"{name}_real_logits"] = real_logits
    pictures[name] = picture
    logging.info("%s: KTH score %s by offset.", name, np.round(entry["score"], 3))

  def write(staging):
    with open(os.path.join(staging, RESULTS_FILE), "w") as f:
      json.dump(document, f, indent=2)
      f.write("\n")
    with open(os.path.join(staging, "kth_score.csv"), "w") as f:
      f.write(csv_text(document))
    np.savez(os.path.join(staging, "logits.npz"), **arrays)
    plot(document, os.path.join(staging, "kth_score.png"))
    for name, picture in pictures.items():
      with open(os.path.join(staging, f"neighbours_{name}.png"), "wb") as f:
        f.write(images.png_bytes(picture))

  document["output_dir"] = evaluate_lib.replace_directory(options.output_dir, write)
  return document
