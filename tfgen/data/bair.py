"""BAIR robot pushing (softmotion30_44k) as a `tf.data` pipeline.

Two sources: "prepared" (default) reads `python -m tfgen.bin.prepare --dataset=bair`'s
TFRecords; "tfds" reads TFDS's `bair_robot_pushing_small` (the same 30-frame 64x64
trajectories; TFDS must already hold it in `data_dir`). Frames are `image_aux1`, the camera
the SVG and SAVP papers use. The test set is the first `num_test_sequences` (256, SPEC.md
§1.5) test trajectories in distributed order, first `num_frames` frames each.
"""

import os
from typing import Optional

import tensorflow as tf

from tfgen.data import kth
from tfgen.data import registry
from tfgen.data import tfrecords

SPLITS = ("train", "test")
SOURCES = ("prepared", "tfds")
NUM_TEST_SEQUENCES = 256
FRAME_SHAPE = (64, 64, 3)
TFDS_NAME = "bair_robot_pushing_small"


def default_data_dir() -> str:
  """`$TFGEN_DATA_DIR/bair`, or `~/tfgen_data/bair`."""
  root = os.environ.get(kth.ENV_VAR) or os.path.join(os.path.expanduser("~"), "tfgen_data")
  return os.path.join(root, "bair")


def prepare_command(data_dir: str) -> str:
  """The command that prepares BAIR into `data_dir`."""
  return (f"python -m tfgen.bin.prepare --dataset=bair --raw_dir=<directory holding "
          f"softmotion30_44k/> --out_dir={data_dir}")


@registry.register("bair")
def build(split: str,
          *,
          batch_size: int,
          num_frames: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          source: str = "prepared",
          num_test_sequences: Optional[int] = NUM_TEST_SEQUENCES) -> tf.data.Dataset:
  """Builds BAIR as a `tf.data.Dataset` (contract in `tfgen.data.registry`).

  Args:
    split: "train": an endless stream of random sub-clips; clip k depends only on
      (seed, k) (`tfgen.data.tfrecords.train_clips`). "test": the first
      `num_test_sequences` test trajectories, first `num_frames` frames each.
    batch_size: clips per element.
    num_frames: frames per clip, at most 30.
    seed: int, seed of the training stream (unused by "test").
    data_dir: prepared directory (default `default_data_dir`), or TFDS's data_dir for
      `source="tfds"` (default: TFDS's own).
    start_index: number of the first training clip (resumes the stream exactly).
    drop_remainder: drop a last incomplete batch.
    source: "prepared" or "tfds".
    num_test_sequences: int or None (all test trajectories).

  Returns:
    A dataset of float32 `(batch_size, num_frames, 64, 64, 3)` in [0, 1].

  Raises:
    FileNotFoundError: BAIR is not prepared in `data_dir` (the message gives the command).
  """
  if split not in SPLITS:
    raise ValueError(f"Unknown split {split!r}; valid splits: {', '.join(SPLITS)}.")
  if source not in SOURCES:
    raise ValueError(f"Unknown source {source!r}; valid sources: {', '.join(SOURCES)}.")
  if not 1 <= num_frames <= 30:
    raise ValueError(f"num_frames must be in 1..30 for BAIR; got {num_frames}.")
  if source == "tfds":
    clips = _tfds_clips(split, num_frames, seed, data_dir, start_index, num_test_sequences)
  else:
    data_dir = data_dir or default_data_dir()
    shards = kth.load_shards("BAIR", split, data_dir, prepare_command(data_dir), image_size=64)
    if split == "train":
      clips = tfrecords.train_clips(shards, num_frames, seed, start_index)
    else:
      clips = tfrecords.test_clips(shards, num_frames, num_test_sequences)
  return tfrecords.batch_clips(clips, batch_size, drop_remainder, FRAME_SHAPE, num_frames)


def _tfds_clips(split, num_frames, seed, data_dir, start_index, num_test_sequences):
  """Clips from TFDS. Train: a seeded shuffle-buffer stream; resuming re-reads the skipped
  clips (`skip(start_index)`), unlike the prepared source whose resume is O(one shard)."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  read_config = tfds.ReadConfig(shuffle_seed=seed) if split == "train" else None
  dataset = tfds.load(TFDS_NAME, split=split, data_dir=data_dir, download=False,
                      shuffle_files=split == "train", read_config=read_config)
  frames = dataset.map(lambda example: example["image_aux1"])  # (30, 64, 64, 3) uint8
  if split == "test":
    if num_test_sequences is not None:
      frames = frames.take(num_test_sequences)
    return frames.map(lambda f: f[:num_frames])
  frames = frames.repeat().shuffle(1024, seed=seed, reshuffle_each_iteration=True)

  def crop(index, clip):
    start = tf.random.stateless_uniform([], tf.stack([tf.cast(seed, tf.int64), index]),
                                        minval=0, maxval=31 - num_frames, dtype=tf.int32)
    return clip[start:start + num_frames]

  return frames.enumerate().skip(start_index).map(crop, num_parallel_calls=tf.data.AUTOTUNE)
