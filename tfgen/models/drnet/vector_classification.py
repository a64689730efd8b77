"""Classification from DrNET's frozen vectors (thesis §5.2.2, Table 5.1, Fig. 5.8).

`python -m tfgen.bin.classify_vectors --workdir=W --vector=content|pose --task=...`:

1. loads the trained run W (DrNET; or the AE-LSTM baseline, whose one vector is
   "combined") and checks, before any work, that it has the vector and that its data set
   has the task;
2. encodes labelled examples (`tfgen.models.classifier.labelled_data`) with the frozen encoder
   in inference mode (batch norm's moving statistics: a vector does not depend on its
   batch);
3. trains tfgen's shared classifier, architecture "mlp" (`Classifier`: dense 256 ->
   batch norm -> leaky ReLU -> dropout -> dense classes; "a two layer fully connected
   network with 256 hidden units", thesis §5.3.2), with Adam and early stopping on a
   validation set (the best epoch's weights are kept), with `Classifier.fit`;
4. writes `classification.json`, `classification.csv` (accuracy on train / validation /
   test, chance level) and `predictions.npz` (vectors' labels and test logits), whole or
   not at all.

Tasks (what the thesis reports; `TASKS`):
- "identity" on "mnist": the digit drawn in red (`digit=1`: green), one frame per clip,
  training clips from the training stream, test on the fixed test clips (MNIST test
  digits). Item 6 of the issue: with beta > 0, h_p should carry little identity.
- "identity" on "norb": object category of every image, training instances against the
  held-out test instances (Table 5.1: h_c 93.3%, h_p 60.9% with beta 0.1).
- "action" on "kth": a sequence of `sequence_length` (24) frames is encoded frame by frame
  and the vectors concatenated, `(24 * |h|,)`; few labels: `num_labelled_per_class`
  training windows per action (Fig. 5.8), validation windows drawn apart from them.

Why `fit` and not the trainer: the examples are a few thousand small vectors computed once
by the frozen encoder; the run takes seconds to minutes, and the thesis's protocol (early
stopping on a validation set, best epoch kept) is Keras's `EarlyStopping`. The trainer's
reasons to exist (exact resumption of long runs, strategies, checkpoints, TensorBoard)
do not apply, and feeding it would need a vector stream registered as a data set.
"""

import dataclasses
import json
import os
from typing import Optional

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from tfgen.evaluation import evaluate as evaluate_lib
from tfgen.models.classifier.classifier import Classifier
from tfgen.models.classifier import labelled_data
from tfgen.train import workdir as workdir_lib

RESULTS_FILE = "classification.json"
TASKS = ("identity", "action")
# data set -> the task it has.
DATASET_TASKS = {"mnist": "identity", "norb": "identity", "kth": "action"}
# model family -> {vector name: fn(model, frames (n, H, W, C)) -> (n, d)}, inference mode.
VECTORS = {
    "drnet": {
        "content": lambda model, frames: model.encode_content(frames, training=False)[0],
        "pose": lambda model, frames: model.encode_pose(frames, training=False),
    },
    "ae_lstm": {
        "combined": lambda model, frames: model.encode(frames, training=False)[0],
    },
}


@dataclasses.dataclass
class ClassificationOptions:
  """The flags of `python -m tfgen.bin.classify_vectors`.

  Attributes:
    vector: "content" or "pose" (DrNET), "combined" (AE-LSTM).
    task: "identity" (mnist, norb) or "action" (kth).
    num_train_examples: training examples (mnist: clips; norb: a random subset of the
      24,300 training images, None = all; kth: ignored, see `num_labelled_per_class`).
    num_validation_examples: validation examples for early stopping (mnist: clips after
      the training ones, default 1,000; norb: training images apart from the training
      subset, default 1,000; kth: windows per class apart from the labelled ones, default
      `num_labelled_per_class`, so that validation is as few-label as training).
    num_test_examples: test examples (None: the whole test set; mnist 256 clips).
    num_labelled_per_class: kth: labelled training windows per action (Fig. 5.8).
    sequence_length: kth: frames per classified sequence (24, thesis §5.3.3).
    digit: mnist: 0 = the red digit names the label, 1 = the green one.
    hidden_units, num_hidden_layers, dropout: the "mlp" classifier (256, 1, 0.5).
    learning_rate, batch_size, max_epochs, patience: Adam and early stopping.
    encode_batch_size: examples per encoder call.
    output_dir: default `<workdir>/vector_classification/<task>_<vector>`.
    seed: seed of the subsets, the classifier's initialisation and dropout.
  """
  vector: str = "content"
  task: str = "identity"
  num_train_examples: Optional[int] = 5000
  num_validation_examples: Optional[int] = None
  num_test_examples: Optional[int] = None
  num_labelled_per_class: int = 10
  sequence_length: int = 24
  digit: int = 0
  hidden_units: int = 256
  num_hidden_layers: int = 1
  dropout: float = 0.5
  learning_rate: float = 1e-3
  batch_size: int = 100
  max_epochs: int = 200
  patience: int = 20
  encode_batch_size: int = 100
  output_dir: Optional[str] = None
  seed: int = 0

  def check(self):
    if self.task not in TASKS:
      raise ValueError(f"Unknown task {self.task!r}; valid: {', '.join(TASKS)}.")
    for name in ("num_train_examples", "num_validation_examples", "num_test_examples"):
      value = getattr(self, name)
      if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
        raise ValueError(f"{name} must be an integer >= 1 or None, got {value!r}.")
    for name in ("num_labelled_per_class", "sequence_length", "hidden_units",
                 "num_hidden_layers", "batch_size", "max_epochs", "patience",
                 "encode_batch_size"):
      value = getattr(self, name)
      if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    if not 0.0 <= self.dropout < 1.0:
      raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")


def check_run(config, options):
  """Raises `ValueError` unless the run has `options.vector` and its data set the task."""
  family = config.model.name
  if family not in VECTORS:
    raise ValueError(f"The work directory holds a {family!r} run, not a DrNET run: "
                     f"classification from vectors needs a run of "
                     f"{' or '.join(repr(f) for f in VECTORS)} (--model=drnet).")
  if options.vector not in VECTORS[family]:
    raise ValueError(f"A {family!r} model has no {options.vector!r} vector; its vectors: "
                     f"{', '.join(VECTORS[family])}.")
  dataset = config.data.name
  if DATASET_TASKS.get(dataset) != options.task:
    tasks = ", ".join(f"{t} ({d})" for d, t in DATASET_TASKS.items())
    raise ValueError(f"Task {options.task!r} is not defined on data set {dataset!r} (the "
                     f"run's); tasks by data set: {tasks}.")


def encoder(model, family, vector):
  """`fn(frames (n, H, W, C)) -> (n, d)` numpy: the frozen encoder, inference mode."""
  encode = tf.function(lambda frames: VECTORS[family][vector](model, frames),
                       reduce_retracing=True)
  return lambda frames: encode(tf.convert_to_tensor(frames, tf.float32)).numpy()


def encode_set(examples, encode, batch_size):
  """Vectors of every example of a `LabelledSet`: `(n, d)`; clips `(n, T * d)`."""
  vectors = []
  for batch, _ in examples.batches(batch_size):
    if batch.ndim == 5:
      # (b, T, H, W, C) -> (b*T, H, W, C): frame by frame, then (b, T * d), time-major.
      frames = batch.reshape((-1,) + batch.shape[2:])
      vectors.append(encode(frames).reshape(batch.shape[0], -1))
    else:
      vectors.append(encode(batch))
  return np.concatenate(vectors).astype(np.float32)


def labelled_splits(config, options):
  """`{"train", "validation", "test"}` -> `LabelledSet` of the run's data set and task."""
  data = config.data
  data_options = dict(data.get("options", {}))
  seed = options.seed
  if data.name == "mnist":
    kwargs = dict(digit=options.digit, seed=config.train.seed, data_dir=data.data_dir,
                  num_frames=data.num_frames, **data_options)
    num_train = options.num_train_examples or 5000
    num_validation = options.num_validation_examples or 1000
    num_test = options.num_test_examples or data_options.get("num_test_sequences", 256)
    return {
        "train": labelled_data.mnist_examples("train", num_train, **kwargs),
        "validation": labelled_data.mnist_examples("train", num_validation,
                                                   first_clip=num_train, **kwargs),
        "test": labelled_data.mnist_examples("test", num_test, **kwargs),
    }
  if data.name == "norb":
    kwargs = dict(data_dir=data.data_dir, **data_options)
    train_all = labelled_data.norb_examples("train", **kwargs)
    test_all = labelled_data.norb_examples("test", **kwargs)
    train = labelled_data.random_subset(len(train_all), options.num_train_examples, (seed, 0))
    validation = labelled_data.random_subset(len(train_all),
                                             options.num_validation_examples or 1000, (seed, 1),
                                             exclude=train)
    if not len(validation):
      raise ValueError("No smallNORB training image is left for validation: lower "
                       "num_train_examples.")
    test = labelled_data.random_subset(len(test_all), options.num_test_examples, (seed, 2))
    return {"train": train_all.subset(train), "validation": train_all.subset(validation),
            "test": test_all.subset(test)}
  # kth
  kwargs = dict(data_dir=data.data_dir, **data_options)
  train_all = labelled_data.kth_examples("train", options.sequence_length, **kwargs)
  test_all = labelled_data.kth_examples("test", options.sequence_length, **kwargs)
  train = labelled_data.per_class_subset(train_all.labels, options.num_labelled_per_class,
                                         (seed, 0))
  validation = labelled_data.per_class_subset(
      train_all.labels, options.num_validation_examples or options.num_labelled_per_class,
      (seed, 1), exclude=train)
  if not len(validation):
    raise ValueError("No KTH training window is left for validation after the labelled "
                     "ones: lower num_labelled_per_class.")
  test = labelled_data.random_subset(len(test_all), options.num_test_examples, (seed, 2))
  return {"train": train_all.subset(train), "validation": train_all.subset(validation),
          "test": test_all.subset(test)}


def selection(dataset, options):
  """How the examples of each split are chosen, in words (the results' protocol)."""
  if dataset == "mnist":
    return ("train: the first clips of the training stream; validation: the clips after "
            "them; test: the fixed test clips")
  if dataset == "norb":
    return (f"train: {options.num_train_examples or 'all'} training images drawn at random; "
            f"validation: {options.num_validation_examples or 1000} other training images; "
            f"test: {options.num_test_examples or 'all'} images of the held-out instances")
  return (f"train: {options.num_labelled_per_class} labelled windows per action drawn at "
          f"random; validation: "
          f"{options.num_validation_examples or options.num_labelled_per_class} other training "
          f"windows per action; test: {options.num_test_examples or 'all'} test windows")


def accuracy(model, vectors, labels, batch_size=1000):
  """`(accuracy, logits)` of `model` (inference mode) on `vectors`."""
  logits = np.concatenate([model(vectors[s:s + batch_size], training=False).numpy()
                           for s in range(0, len(vectors), batch_size)])
  return float(np.mean(np.argmax(logits, axis=-1) == labels)), logits


def train_classifier(vectors, labels, num_classes, options):
  """The "mlp" classifier fitted on `vectors["train"]`, early-stopped on "validation".

  Returns:
    `(classifier, history)`: the best validation epoch's weights; `history` holds
    `epochs_run` and `best_epoch` (1-based).
  """
  keras.utils.set_random_seed(options.seed)
  classifier = Classifier(architecture="mlp", num_classes=num_classes,
                          example_shape=(vectors["train"].shape[1],),
                          hidden_units=options.hidden_units,
                          num_hidden_layers=options.num_hidden_layers, dropout=options.dropout)
  classifier.build()
  classifier.compile(optimizer=keras.optimizers.Adam(options.learning_rate))
  stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                       patience=options.patience, restore_best_weights=True)
  history = classifier.fit(
      vectors["train"], labels["train"], batch_size=options.batch_size,
      epochs=options.max_epochs, validation_data=(vectors["validation"], labels["validation"]),
      shuffle=True, callbacks=[stop], verbose=0)
  validation = history.history["val_accuracy"]
  return classifier, {"epochs_run": len(validation),
                      "best_epoch": int(np.argmax(validation)) + 1}


def csv_text(document):
  lines = ["split,accuracy,num_examples,chance_accuracy,majority_accuracy"]
  for split, entry in document["splits"].items():
    lines.append(f"{split},{entry['accuracy']:.6f},{entry['num_examples']},"
                 f"{document['chance_accuracy']:.6f},{entry['majority_accuracy']:.6f}")
  return "\n".join(lines) + "\n"


def classify(workdir, options=None, **kwargs):
  """Trains and scores a classifier on a run's frozen vectors (module docstring).

  Returns:
    The results document (as written to `classification.json`) with `output_dir`.

  Raises:
    ValueError: bad options, a run without that vector or task, a work directory that is
      not a DrNET (or AE-LSTM) run, an output directory that is not ours; all before any
      example is encoded.
  """
  options = options or ClassificationOptions(**kwargs)
  options.check()
  config = workdir_lib.load_config(workdir)
  check_run(config, options)
  output_dir = options.output_dir or os.path.join(
      workdir, "vector_classification", f"{options.task}_{options.vector}")
  evaluate_lib.check_output_dir(output_dir, marker=RESULTS_FILE)
  splits = labelled_splits(config, options)
  model, _, checkpoint = workdir_lib.load_model(workdir, config)
  encode = encoder(model, config.model.name, options.vector)
  vectors, labels = {}, {}
  for split, examples in splits.items():
    logging.info("Encoding %d %s examples (%s vectors).", len(examples), split, options.vector)
    vectors[split] = encode_set(examples, encode, options.encode_batch_size)
    labels[split] = examples.labels
  num_classes = splits["train"].num_classes
  classifier, history = train_classifier(vectors, labels, num_classes, options)
  document = {
      "workdir": os.path.abspath(workdir), "checkpoint": checkpoint,
      "model_name": config.model.name, "dataset": config.data.name,
      "task": options.task, "vector": options.vector, "vector_dim": vectors["train"].shape[1],
      "num_classes": num_classes, "class_names": list(splits["train"].class_names),
      "chance_accuracy": 1.0 / num_classes,
      "classifier": {"architecture": "mlp", "hidden_units": options.hidden_units,
                     "num_hidden_layers": options.num_hidden_layers,
                     "dropout": options.dropout, "optimizer": "adam",
                     "learning_rate": options.learning_rate,
                     "batch_size": options.batch_size, "max_epochs": options.max_epochs,
                     "early_stopping": f"best validation accuracy, patience "
                                       f"{options.patience} epochs", **history},
      "protocol": {**{split: examples.description for split, examples in splits.items()},
                   "selection": selection(config.data.name, options)},
      "encoder_mode": "inference (batch norm moving statistics)",
      "options": dataclasses.asdict(options),
      "splits": {},
  }
  test_logits = None
  for split in splits:
    value, logits = accuracy(classifier, vectors[split], labels[split])
    counts = np.bincount(labels[split], minlength=num_classes)
    document["splits"][split] = {"accuracy": value, "num_examples": int(len(labels[split])),
                                 "majority_accuracy": float(counts.max() / counts.sum())}
    if split == "test":
      test_logits = logits

  def write(staging):
    with open(os.path.join(staging, RESULTS_FILE), "w") as f:
      json.dump(document, f, indent=2)
      f.write("\n")
    with open(os.path.join(staging, "classification.csv"), "w") as f:
      f.write(csv_text(document))
    np.savez(os.path.join(staging, "predictions.npz"), test_logits=test_logits,
             **{f"{split}_labels": labels[split] for split in splits})

  document["output_dir"] = evaluate_lib.replace_directory(output_dir, write)
  return document
