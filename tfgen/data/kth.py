"""KTH actions as a `tf.data` pipeline, read from `python -m tfgen.bin.prepare --dataset=kth`.

Train: persons 1-16; test: persons 17-25 (the video-prediction convention, SPEC.md §4).
Each prepared example is one annotated sub-sequence of a video (`00sequences.txt`), grey,
squash-resized to 64x64 or 128x128. Sub-sequences shorter than `num_frames` are never used.
"""

import os
from typing import Optional

import tensorflow as tf

from tfgen.data import registry
from tfgen.data import tfrecords

ENV_VAR = "TFGEN_DATA_DIR"
SPLITS = ("train", "test")
IMAGE_SIZES = (64, 128)


def default_data_dir(image_size: int = 64) -> str:
  """`$TFGEN_DATA_DIR/kth_<image_size>`, or `~/tfgen_data/kth_<image_size>`."""
  root = os.environ.get(ENV_VAR) or os.path.join(os.path.expanduser("~"), "tfgen_data")
  return os.path.join(root, f"kth_{image_size}")


def prepare_command(data_dir: str, image_size: int) -> str:
  """The command that prepares KTH into `data_dir`."""
  return (f"python -m tfgen.bin.prepare --dataset=kth --raw_dir=<directory with the KTH zips "
          f"and 00sequences.txt> --out_dir={data_dir} --image_size={image_size}")


def load_shards(name: str, split: str, data_dir: str, command: str, **expected):
  """Returns `split`'s `[(path, manifest), ...]`; raises a FileNotFoundError with `command`.

  Shared by the KTH and BAIR loaders: checks that `data_dir` holds a complete preparation
  of `name` whose `dataset_info.json` matches `expected` (e.g. `image_size=64`).
  """
  try:
    shards = tfrecords.complete_shards(data_dir, split)
  except FileNotFoundError as e:
    raise FileNotFoundError(
        f"{name} is not prepared in {data_dir} ({e}). Prepare it first (an interrupted "
        f"preparation resumes with the same command):\n  {command}") from None
  info = tfrecords.read_dataset_info(data_dir)
  for key, value in dict(expected, dataset=name.lower()).items():
    if info.get(key) != value:
      raise ValueError(
          f"{data_dir} holds {info.get('dataset')} with {key}={info.get(key)!r}, not "
          f"{value!r}. Prepare it elsewhere with:\n  {command}")
  return shards


@registry.register("kth")
def build(split: str,
          *,
          batch_size: int,
          num_frames: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          image_size: int = 64,
          num_test_sequences: Optional[int] = None) -> tf.data.Dataset:
  """Builds KTH as a `tf.data.Dataset` (contract in `tfgen.data.registry`).

  Args:
    split: "train": an endless stream of random clips; clip k depends only on (seed, k)
      (`tfgen.data.tfrecords.train_clips`: epochs over the sub-sequences in an order drawn
      from the seed, the clip's first frame drawn from (seed, k)). "test": for each test
      sub-sequence with at least `num_frames` frames, in prepared order (video name, then
      sub-sequence index), its first `num_frames` frames.
    batch_size: clips per element.
    num_frames: frames per clip.
    seed: int, seed of the training stream (unused by "test").
    data_dir: output directory of the preparation (default `default_data_dir`).
    start_index: number of the first training clip (resumes the stream exactly).
    drop_remainder: drop a last incomplete batch.
    image_size: 64 or 128, the prepared frame size.
    num_test_sequences: int or None, keep only the first test clips.

  Returns:
    A dataset of float32 `(batch_size, num_frames, image_size, image_size, 1)` in [0, 1].

  Raises:
    FileNotFoundError: KTH is not prepared in `data_dir` (the message gives the command).
  """
  if split not in SPLITS:
    raise ValueError(f"Unknown split {split!r}; valid splits: {', '.join(SPLITS)}.")
  if image_size not in IMAGE_SIZES:
    raise ValueError(f"Unknown image_size {image_size!r}; valid: 64, 128.")
  data_dir = data_dir or default_data_dir(image_size)
  shards = load_shards("KTH", split, data_dir, prepare_command(data_dir, image_size),
                       image_size=image_size)
  if split == "train":
    clips = tfrecords.train_clips(shards, num_frames, seed, start_index)
  else:
    clips = tfrecords.test_clips(shards, num_frames, num_test_sequences)
  return tfrecords.batch_clips(clips, batch_size, drop_remainder, (image_size, image_size, 1),
                               num_frames)
