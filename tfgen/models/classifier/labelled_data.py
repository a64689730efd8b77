"""Labelled examples of DrNET's data sets, for its classification experiments (thesis §5.2.2).

The training streams of `tfgen.data` give frames only; the classifiers of Table 5.1, Fig.
5.8 and the KTH score (eq. 5.8-5.9) need labels. Each source here is a fixed, ordered list
of labelled examples, rendered in batches on demand (`LabelledSet.batches`):

- "mnist" (two-colour Moving MNIST, `tfgen.data.moving_mnist`): example k is ONE frame of
  clip k, frame `k % num_frames`, so the examples cover every pose; its label is the MNIST
  label of digit `digit` (0: the red digit, 1: the green one). Training examples are drawn
  from clips of the training stream (MNIST train digits), test examples from the fixed
  test clips (MNIST test digits, `TEST_SEED`).
- "norb" (smallNORB, `tfgen.data.smallnorb`): example = one image of an azimuth sweep;
  label = the object category (5 classes). The test split holds the held-out instances
  (0, 1, 2, 3, 5), so the classifier names the category of objects it has never seen:
  "object identity" across held-out instances can only be the category.
- "kth" (prepared KTH, `tfgen.data.kth`): example = `num_frames` consecutive frames of one
  annotated sub-sequence (windows starting at 0, num_frames, 2 num_frames, ...); label =
  the action (`tfgen.data.kth_annotations.ACTIONS`, 6 classes), kept in the prepared
  records as `action_id`. Train: persons 1-16; test: persons 17-25.
"""

import dataclasses
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfgen.data import kth as kth_lib
from tfgen.data import kth_annotations
from tfgen.data import mnist as mnist_lib
from tfgen.data import moving_mnist
from tfgen.data import smallnorb
from tfgen.data import tfrecords

DATASETS = ("mnist", "norb", "kth")


@dataclasses.dataclass
class LabelledSet:
  """A fixed list of labelled examples, rendered on demand.

  Attributes:
    labels: int64 `(n,)` class of each example.
    render: fn(indices `(b,)` int) -> float32 `(b,) + example_shape` in [0, 1].
    example_shape: shape of one example: `(H, W, C)` frames or `(T, H, W, C)` clips.
    num_classes: int.
    class_names: tuple of str.
    description: str, what an example and its label are (for the results' protocol).
  """
  labels: np.ndarray
  render: Callable
  example_shape: tuple
  num_classes: int
  class_names: tuple
  description: str

  def __len__(self):
    return len(self.labels)

  def subset(self, indices):
    """The examples `indices` (in that order), as a new `LabelledSet`."""
    indices = np.asarray(indices, np.int64)
    return dataclasses.replace(self, labels=self.labels[indices],
                               render=lambda rows: self.render(indices[np.asarray(rows)]))

  def batches(self, batch_size):
    """Yields `(examples, labels)` numpy batches in order."""
    for start in range(0, len(self), batch_size):
      rows = np.arange(start, min(start + batch_size, len(self)))
      yield self.render(rows), self.labels[rows]


def _check_int(name, value, minimum):
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
    raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")


# ----------------------------------------------------------------------------- Moving MNIST


def mnist_examples(split, num_examples, *, digit=0, first_clip=0, seed=1, num_frames=20,
                   data_dir=None, num_digits=2, velocities="symmetric", **unused_options):
  """Frames of two-colour Moving MNIST labelled with the digit of colour `digit`.

  Args:
    split: "train" (clips `first_clip`.. of the stream of `seed`) or "test" (the fixed test
      clips, `moving_mnist.TEST_SEED`).
    num_examples: int, examples (one frame per clip).
    digit: int, which digit names the label: 0 red, 1 green (< `num_digits`).
    first_clip: int, number of the first clip (disjoint ranges give disjoint sets).
    seed, num_frames, data_dir, num_digits, velocities: as `tfgen.data.moving_mnist.build`.
  """
  _check_int("num_examples", num_examples, 1)
  _check_int("first_clip", first_clip, 0)
  if isinstance(digit, bool) or digit not in range(num_digits):
    raise ValueError(f"digit must be an int in 0..{num_digits - 1} (the digit of channel n "
                     f"names the label), got {digit!r}.")
  source = moving_mnist.MovingMNIST(
      split, num_digits=num_digits, num_frames=num_frames, velocities=velocities,
      seed=seed if split == "train" else moving_mnist.TEST_SEED, data_dir=data_dir)
  clips = np.arange(first_clip, first_clip + num_examples)
  labels = _digit_labels(source, split, clips, data_dir)[:, digit]

  def render(rows):
    rows = np.asarray(rows, np.int64).reshape(-1)
    frames = source.batch(clips[rows])  # (b, T, 64, 64, 3)
    return frames[np.arange(len(rows)), clips[rows] % num_frames]

  colour = ("red", "green", "blue")[digit]
  return LabelledSet(
      labels=labels, render=render, example_shape=(source.image_size, source.image_size, 3),
      num_classes=10, class_names=tuple(str(d) for d in range(10)),
      description=(f"one frame per {split} clip (frame k % {num_frames} of clip k, clips "
                   f"{first_clip}..{first_clip + num_examples - 1}); label: the MNIST digit "
                   f"drawn in {colour}"))


def _digit_labels(source, split, clips, data_dir):
  """int64 `(len(clips), num_digits)`: the MNIST label of each digit of each clip."""
  arrays = mnist_lib.load_mnist_with_labels(data_dir)
  digit_labels = np.asarray(arrays.y_train if split == "train" else arrays.y_test, np.int64)
  if len(digit_labels) != source.num_source_digits:
    raise ValueError(f"The MNIST labels ({len(digit_labels)}) do not match the "
                     f"{source.num_source_digits} {split} digits of Moving MNIST.")
  return np.array([digit_labels[source.sequence(int(k))["digit_indices"]] for k in clips],
                  np.int64).reshape(len(clips), source.num_digits)


@dataclasses.dataclass
class LabelledClips:
  """Clips with the label of each of their digits.

  Attributes:
    frames: float32 `(n, T, H, W, C)` in [0, 1].
    labels: int64 `(n, num_digits)`, digit d drawn in colour channel d.
  """
  frames: np.ndarray
  labels: np.ndarray


def mnist_test_clips(num_clips, *, num_frames, data_dir=None, num_digits=2,
                     velocities="symmetric", **unused_options):
  """The first `num_clips` fixed test clips of two-colour Moving MNIST with their digits."""
  _check_int("num_clips", num_clips, 1)
  _check_int("num_frames", num_frames, 1)
  source = moving_mnist.MovingMNIST(
      "test", num_digits=num_digits, num_frames=num_frames, velocities=velocities,
      seed=moving_mnist.TEST_SEED, data_dir=data_dir)
  clips = np.arange(num_clips)
  return LabelledClips(frames=source.batch(clips),
                       labels=_digit_labels(source, "test", clips, data_dir))


# ----------------------------------------------------------------------------- smallNORB


def norb_examples(split, *, data_dir=None, image_size=64, camera="first", **unused_options):
  """Every image of a smallNORB split, labelled with its object category (5 classes)."""
  source = smallnorb.SmallNORB(split, data_dir=data_dir, camera=camera, image_size=image_size)
  # Example e: sweep e // 18 at azimuth e % 18.
  num = source.num_sweeps * smallnorb.NUM_AZIMUTHS
  sweeps = np.arange(num) // smallnorb.NUM_AZIMUTHS
  azimuths = np.arange(num) % smallnorb.NUM_AZIMUTHS
  labels = source.labels[sweeps, 0].astype(np.int64)  # (category, instance, elev., light.)

  def render(rows):
    rows = np.asarray(rows, np.int64).reshape(-1)
    return source.clips(sweeps[rows], azimuths[rows], num_frames=1)[:, 0]

  instances = smallnorb.INSTANCES[split]
  return LabelledSet(
      labels=labels, render=render,
      example_shape=(image_size, image_size, source.channels),
      num_classes=smallnorb.NUM_CATEGORIES,
      class_names=("animal", "human", "airplane", "truck", "car"),
      description=(f"every image of the smallNORB {split} file (instances "
                   f"{', '.join(map(str, instances))}); label: the object category"))


# ----------------------------------------------------------------------------- KTH


def kth_examples(split, num_frames, *, data_dir=None, image_size=64, windows="all",
                 **unused_options):
  """Windows of `num_frames` frames of prepared KTH, labelled with the action (6 classes).

  Args:
    split: "train" (persons 1-16) or "test" (persons 17-25).
    num_frames: frames per example (24 for Fig. 5.8, 10 for the KTH score).
    data_dir, image_size: as `tfgen.data.kth.build`.
    windows: "all" (non-overlapping windows from frame 0 of each sub-sequence) or "first"
      (the first window only, the clips of `kth.build`'s test split).
  """
  _check_int("num_frames", num_frames, 1)
  if windows not in ("all", "first"):
    raise ValueError(f"Unknown windows {windows!r}; valid: all, first.")
  data_dir = data_dir or kth_lib.default_data_dir(image_size)
  shards = kth_lib.load_shards("KTH", split, data_dir,
                               kth_lib.prepare_command(data_dir, image_size),
                               image_size=image_size)
  paths = [path for path, _ in shards]
  # One pass over the labels only (the frames' bytes are not decoded).
  spec = {"action_id": tf.io.FixedLenFeature([], tf.int64)}
  records, labels = [], []
  lengths = [length for _, manifest in shards for length in manifest["lengths"]]
  for record, (_, _, serialized) in enumerate(tfrecords.iter_records(paths)):
    action = int(tf.io.parse_single_example(serialized, spec)["action_id"])
    count = lengths[record] // num_frames if windows == "all" else int(
        lengths[record] >= num_frames)
    for w in range(count):
      records.append((record, w * num_frames))
      labels.append(action)
  if not records:
    raise ValueError(f"The KTH {split} split in {data_dir} has no sub-sequence of "
                     f"{num_frames} frames.")
  records = np.asarray(records, np.int64)
  # record number -> (shard, index inside the shard)
  starts = np.cumsum([0] + [len(manifest["lengths"]) for _, manifest in shards])
  cache = {}  # The records of the last shard read: examples come in shard order.

  def record_frames(record):
    shard = int(np.searchsorted(starts, record, side="right")) - 1
    if shard not in cache:
      cache.clear()
      cache[shard] = [r for _, _, r in tfrecords.iter_records([paths[shard]])]
    return tfrecords.parse_frames(cache[shard][record - int(starts[shard])]).numpy()

  def render(rows):
    rows = np.asarray(rows, np.int64).reshape(-1)
    clips = [record_frames(int(records[r, 0]))[records[r, 1]:records[r, 1] + num_frames]
             for r in rows]
    return np.stack(clips).astype(np.float32) / np.float32(255)

  return LabelledSet(
      labels=np.asarray(labels, np.int64), render=render,
      example_shape=(num_frames, image_size, image_size, 1),
      num_classes=len(kth_annotations.ACTIONS), class_names=kth_annotations.ACTIONS,
      description=(f"{'non-overlapping windows' if windows == 'all' else 'the first window'}"
                   f" of {num_frames} frames of each KTH {split} sub-sequence (persons "
                   f"{'1-16' if split == 'train' else '17-25'}); label: the action"))


def per_class_subset(labels, num_per_class, seed, exclude=()):
  """Up to `num_per_class` indices of each class, drawn from `seed`, sorted."""
  rng = np.random.default_rng(seed)
  excluded = np.zeros(len(labels), bool)
  excluded[np.asarray(list(exclude), np.int64)] = True
  chosen = []
  for label in np.unique(labels):
    candidates = np.flatnonzero((labels == label) & ~excluded)
    chosen.extend(rng.permutation(candidates)[:num_per_class])
  return np.sort(np.asarray(chosen, np.int64))


def random_subset(num, size: Optional[int], seed, exclude: Sequence[int] = ()):
  """`size` indices of `range(num)` not in `exclude`, drawn from `seed`, sorted (all: None)."""
  candidates = np.setdiff1d(np.arange(num), np.asarray(list(exclude), np.int64))
  if size is None or size >= len(candidates):
    return candidates
  return np.sort(np.random.default_rng(seed).permutation(candidates)[:size])


def kth_train_stream(num_frames, seed, start_index=0, *, data_dir=None, image_size=64,
                     **unused_options):
  """Endless labelled KTH training clips: `(clip uint8 (T, H, W, 1), action_id int64)`.

  The same clips as `tfgen.data.kth.build("train")` (`tfgen.data.tfrecords.train_clips`:
  clip k depends only on (seed, k); resuming at `start_index` skips whole shards unread),
  each with its sequence's action.
  """
  data_dir = data_dir or kth_lib.default_data_dir(image_size)
  shards = kth_lib.load_shards("KTH", "train", data_dir,
                               kth_lib.prepare_command(data_dir, image_size),
                               image_size=image_size)
  spec = {"action_id": tf.io.FixedLenFeature([], tf.int64)}
  clips = tfrecords.train_clips(shards, num_frames, seed, start_index, metadata_spec=spec)
  return clips.map(lambda clip, metadata: (clip, metadata["action_id"]))
