"""tfgen's sharded TFRecord format for prepared video data sets (KTH, BAIR).

On disk, a prepared data set is one directory:

    dataset_info.json                      what was prepared and how (`write_dataset_info`)
    train-00000-of-00016.tfrecord          a shard: one `tf.train.Example` per sequence
    train-00000-of-00016.tfrecord.json     its manifest, written last: the done marker
    ...
    test-00000-of-00004.tfrecord(.json)
    summary.json                           counts of the last preparation run

Each example holds `frames` (bytes, the raw C-order uint8 tensor), `frames_shape` (int64
`[time, height, width, channels]`) and data-set specific metadata (ints, strings, float
lists). A shard is written under a temporary name and renamed when complete; its manifest
(items, number of examples, sequence lengths, size in bytes) is written after the rename,
so a shard counts as done only when both exist and agree (`is_shard_complete`).

Train streams (`train_clips`) honour the registry contract: clip `k` depends only on
`(seed, k)`. The stream runs in epochs; epoch `e` visits every sequence long enough once,
shard by shard in an order drawn from `(seed, e)`, and within a shard in an order drawn
from `(seed, e, shard)`; the clip's first frame is drawn from `(seed, k)`. Resuming at
`start_index` skips whole shards without reading them, so it costs at most one shard.
"""

import json
import os
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

FRAMES = "frames"
FRAMES_SHAPE = "frames_shape"
DATASET_INFO = "dataset_info.json"
SUMMARY = "summary.json"
FORMAT_VERSION = 1


def shard_path(directory: str, split: str, index: int, num_shards: int) -> str:
  """Path of shard `index` of `num_shards` of `split` in `directory`."""
  return os.path.join(directory, f"{split}-{index:05d}-of-{num_shards:05d}.tfrecord")


def manifest_path(path: str) -> str:
  return path + ".json"


def write_json_atomic(path: str, value) -> None:
  """Writes `value` as JSON to `path` through a temporary file and a rename."""
  tmp = f"{path}.tmp-{os.getpid()}"
  with open(tmp, "w", encoding="utf-8") as f:
    json.dump(value, f, indent=1, sort_keys=True)
  os.replace(tmp, path)


def read_json(path: str):
  """Returns the JSON value in `path`, or None if it is missing or unreadable."""
  try:
    with open(path, "r", encoding="utf-8") as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def serialize_example(frames: np.ndarray, metadata: Optional[Dict] = None) -> bytes:
  """Serialises one sequence as a `tf.train.Example`.

  Args:
    frames: `(time, height, width, channels)` uint8 array.
    metadata: dict of name -> int, str, bytes, or a float/int sequence or array.

  Returns:
    The serialised example.
  """
  frames = np.ascontiguousarray(frames)
  if frames.dtype != np.uint8 or frames.ndim != 4:
    raise ValueError(
        f"frames must be uint8 (time, height, width, channels); got {frames.dtype} "
        f"{frames.shape}.")
  feature = {
      FRAMES: _bytes_feature(frames.tobytes()),
      FRAMES_SHAPE: tf.train.Feature(int64_list=tf.train.Int64List(value=frames.shape)),
  }
  for name, value in (metadata or {}).items():
    if name in feature:
      raise ValueError(f"Metadata name {name!r} is reserved.")
    feature[name] = _feature(value)
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _bytes_feature(value: bytes) -> tf.train.Feature:
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _feature(value) -> tf.train.Feature:
  if isinstance(value, str):
    return _bytes_feature(value.encode("utf-8"))
  if isinstance(value, bytes):
    return _bytes_feature(value)
  if isinstance(value, (bool, int, np.integer)):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
  array = np.asarray(value)
  if np.issubdtype(array.dtype, np.integer):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=array.reshape(-1)))
  if np.issubdtype(array.dtype, np.floating):
    return tf.train.Feature(float_list=tf.train.FloatList(value=array.reshape(-1)))
  raise ValueError(f"Cannot store a metadata value of type {type(value).__name__}.")


def parse_frames(serialized: tf.Tensor) -> tf.Tensor:
  """Parses the frames of one serialised example: `(time, height, width, channels)` uint8."""
  parsed = tf.io.parse_single_example(serialized, {
      FRAMES: tf.io.FixedLenFeature([], tf.string),
      FRAMES_SHAPE: tf.io.FixedLenFeature([4], tf.int64),
  })
  frames = tf.io.decode_raw(parsed[FRAMES], tf.uint8)
  return tf.reshape(frames, parsed[FRAMES_SHAPE])


def parse_example(serialized: tf.Tensor, metadata_spec: Optional[Dict] = None) -> Dict:
  """Parses frames and the metadata named in `metadata_spec` (name -> `tf.io` feature)."""
  spec = dict(metadata_spec or {})
  spec[FRAMES] = tf.io.FixedLenFeature([], tf.string)
  spec[FRAMES_SHAPE] = tf.io.FixedLenFeature([4], tf.int64)
  parsed = tf.io.parse_single_example(serialized, spec)
  parsed[FRAMES] = tf.reshape(tf.io.decode_raw(parsed[FRAMES], tf.uint8),
                              parsed.pop(FRAMES_SHAPE))
  return parsed


class ShardWriter:
  """Writes one shard atomically: temporary file, rename, then the manifest.

  Usage:
    with ShardWriter(path, items) as writer:
      writer.write(serialized, length=num_frames)
      writer.skip(name, reason)
    # on a clean exit the shard and its manifest exist; on an exception neither changes.

  Args:
    path: str, final path of the shard.
    items: list of str, the names of the work items assigned to this shard (kept in the
      manifest so a rerun can tell whether the shard is up to date).
  """

  def __init__(self, path: str, items: Sequence[str]):
    self.path = path
    self.items = list(items)
    self.lengths: List[int] = []
    self.converted: List[str] = []
    self.skipped: List[Dict[str, str]] = []
    self.notes: List[str] = []
    self._tmp = f"{path}.tmp-{os.getpid()}"
    self._writer = None

  def __enter__(self):
    self._writer = tf.io.TFRecordWriter(self._tmp)
    return self

  def write(self, serialized: bytes, length: int) -> None:
    self._writer.write(serialized)
    self.lengths.append(int(length))

  def __exit__(self, exc_type, exc, tb):
    self._writer.close()
    if exc_type is not None:
      _remove(self._tmp)
      return False
    os.replace(self._tmp, self.path)
    write_json_atomic(manifest_path(self.path), {
        "items": self.items,
        "num_examples": len(self.lengths),
        "lengths": self.lengths,
        "num_bytes": os.path.getsize(self.path),
        "converted": self.converted,
        "skipped": self.skipped,
        "notes": self.notes,
    })
    return False


def _remove(path):
  try:
    os.remove(path)
  except OSError:
    pass


def is_shard_complete(path: str, items: Optional[Sequence[str]] = None) -> bool:
  """True if the shard and its manifest exist, agree in size, and list `items`."""
  manifest = read_json(manifest_path(path))
  if manifest is None or not os.path.exists(path):
    return False
  if os.path.getsize(path) != manifest.get("num_bytes"):
    return False
  return items is None or list(items) == manifest.get("items")


def complete_shards(data_dir: str, split: str) -> List[Tuple[str, Dict]]:
  """Returns `[(path, manifest), ...]` of `split`'s shards in order.

  Raises:
    FileNotFoundError: `dataset_info.json` is missing, or a shard is missing or incomplete
      (the message says which).
  """
  info = read_json(os.path.join(data_dir, DATASET_INFO))
  if info is None:
    raise FileNotFoundError(f"{os.path.join(data_dir, DATASET_INFO)} is missing.")
  num_shards = info["num_shards"][split]
  shards = []
  for index in range(num_shards):
    path = shard_path(data_dir, split, index, num_shards)
    if not is_shard_complete(path):
      raise FileNotFoundError(f"Shard {path} is missing or incomplete.")
    shards.append((path, read_json(manifest_path(path))))
  return shards


def _fold(seed: tf.Tensor, *values) -> tf.Tensor:
  for value in values:
    seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(value, tf.int64))
  return seed


def train_clips(shards: Sequence[Tuple[str, Dict]], num_frames: int, seed: int,
                start_index: int = 0, metadata_spec: Optional[Dict] = None) -> tf.data.Dataset:
  """Endless stream of random clips of `num_frames` frames (see the module docstring).

  Args:
    shards: `[(path, manifest), ...]` from `complete_shards`.
    num_frames: int, frames per clip; shorter sequences are never drawn.
    seed: int, the stream's seed.
    start_index: int, index of the first clip to yield.
    metadata_spec: optional `{name: tf.io feature}` of per-sequence metadata (e.g. KTH's
      `action_id`) to yield with each clip; the clips are the same either way.

  Returns:
    Dataset of `(num_frames, height, width, channels)` uint8 clips; with `metadata_spec`,
    of `(clip, {name: value})`.
  """
  paths = [path for path, _ in shards]
  # Eligible sequences (long enough) per shard, as a padded mask the graph can index.
  eligible = [[length >= num_frames for length in manifest["lengths"]] for _, manifest in shards]
  counts = np.array([sum(e) for e in eligible], np.int64)
  per_epoch = int(counts.sum())
  if per_epoch == 0:
    raise ValueError(f"No training sequence has num_frames={num_frames} frames.")
  width = max(1, max(len(e) for e in eligible))
  mask = tf.constant([e + [False] * (width - len(e)) for e in eligible], tf.bool)
  paths_t = tf.constant(paths)
  base = tf.constant([seed, 0x5eed], tf.int64)

  def shard_order(epoch):
    # (num_shards,) shard indices in the order epoch `epoch` visits them.
    return tf.cast(tf.argsort(
        tf.random.stateless_uniform([len(paths)], _fold(base, 1, epoch))), tf.int64)

  def shard_sequences(epoch, shard, skip):
    records = tf.data.TFRecordDataset(paths_t[shard])
    records = records.enumerate().filter(
        lambda i, _: tf.gather_nd(mask, tf.stack([shard, i]))).map(lambda _, r: r)

    def permute(batch):  # batch: (count,) serialised records of the whole shard
      order = tf.argsort(tf.random.stateless_uniform(
          tf.shape(batch)[:1], _fold(base, 2, epoch, shard)))
      return tf.data.Dataset.from_tensor_slices(tf.gather(batch, order)[skip:])

    return records.batch(width).flat_map(permute)

  def epoch_sequences(epoch, first_position=0, skip=0):
    order = shard_order(epoch)[first_position:]
    skips = tf.concat(
        [tf.constant([skip], tf.int64), tf.zeros([tf.size(order) - 1], tf.int64)], 0)
    return tf.data.Dataset.from_tensor_slices((order, skips)).flat_map(
        lambda shard, s: shard_sequences(epoch, shard, s))

  # The first (partial) epoch: drop the shards already consumed without reading them.
  first_epoch, position = divmod(int(start_index), per_epoch)
  order = shard_order(tf.constant(first_epoch, tf.int64)).numpy()
  cumulative = np.cumsum(counts[order])
  first_position = int(np.searchsorted(cumulative, position, side="right"))
  skip = position - (int(cumulative[first_position - 1]) if first_position else 0)
  sequences = epoch_sequences(tf.constant(first_epoch, tf.int64), first_position, skip)
  sequences = sequences.concatenate(
      tf.data.Dataset.range(first_epoch + 1, 2**62).flat_map(epoch_sequences))

  def crop(index, serialized):
    if metadata_spec:
      parsed = parse_example(serialized, metadata_spec)
      frames = parsed.pop(FRAMES)
    else:
      frames = parse_frames(serialized)
    length = tf.shape(frames)[0]
    start = tf.random.stateless_uniform(
        [], _fold(base, 3, index), minval=0, maxval=length - num_frames + 1, dtype=tf.int32)
    if metadata_spec:
      return frames[start:start + num_frames], {k: parsed[k] for k in metadata_spec}
    return frames[start:start + num_frames]

  return sequences.enumerate(start=int(start_index)).map(
      crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def test_clips(shards: Sequence[Tuple[str, Dict]], num_frames: int,
               max_sequences: Optional[int] = None) -> tf.data.Dataset:
  """The first `num_frames` frames of each sequence that has that many, in shard order.

  Args:
    shards: `[(path, manifest), ...]` from `complete_shards`.
    num_frames: int, frames per clip.
    max_sequences: int or None, keep only the first `max_sequences` clips.

  Returns:
    Dataset of `(num_frames, height, width, channels)` uint8 clips.
  """
  keep = [length >= num_frames for _, manifest in shards for length in manifest["lengths"]]
  keep_t = tf.constant(keep or [False], tf.bool)
  records = tf.data.TFRecordDataset([path for path, _ in shards])
  clips = records.enumerate().filter(lambda i, _: keep_t[i]).map(
      lambda _, r: parse_frames(r)[:num_frames], num_parallel_calls=tf.data.AUTOTUNE,
      deterministic=True)
  if max_sequences is not None:
    clips = clips.take(max_sequences)
  return clips


def batch_clips(clips: tf.data.Dataset, batch_size: int, drop_remainder: bool,
                frame_shape: Tuple[int, int, int], num_frames: int) -> tf.data.Dataset:
  """Batches uint8 clips into float32 `(batch, time, height, width, channels)` in [0, 1]."""

  def to_float(clip):
    clip = tf.ensure_shape(clip, (num_frames,) + tuple(frame_shape))
    return tf.cast(clip, tf.float32) / 255.0

  return clips.map(to_float, num_parallel_calls=tf.data.AUTOTUNE).batch(
      batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def write_dataset_info(directory: str, info: Dict) -> None:
  write_json_atomic(os.path.join(directory, DATASET_INFO), dict(info, format_version=FORMAT_VERSION))


def read_dataset_info(directory: str) -> Optional[Dict]:
  return read_json(os.path.join(directory, DATASET_INFO))


def iter_records(paths: Iterable[str]):
  """Yields `(path, index, serialized)` of every record of the TFRecord files `paths`."""
  for path in paths:
    for index, record in enumerate(tf.data.TFRecordDataset(path).as_numpy_iterator()):
      yield path, index, record
