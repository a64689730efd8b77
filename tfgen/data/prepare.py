"""Converts the KTH and BAIR distributions into tfgen's sharded TFRecords.

`prepare_dataset` is the library function behind `python -m tfgen.bin.prepare`. Work is
split into shards assigned deterministically (sorted item names cut into contiguous
chunks), each written under a temporary name, renamed, then marked done by its manifest
(`tfgen.data.tfrecords.ShardWriter`). A rerun skips the shards already done, so an
interrupted run finishes without duplicated or lost shards.

Bad input never produces a silent partial shard: a corrupt or truncated video, a video that
`00sequences.txt` does not list, an annotation without its video, or a BAIR record missing a
frame is skipped and reported by name in the summary, whose counts reconcile
(`seen == converted + skipped`).

The per-item functions `convert_kth_video` and `convert_bair_record` are plain top-level
functions so that a `concurrent.futures` pool (here) or an Apache Beam `Map` can run them.
This module imports TensorFlow only inside functions: KTH workers are spawned processes
that import it and should start in milliseconds.
"""

import collections
import concurrent.futures
import itertools
import multiprocessing
import os
import re
import zipfile
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np

from tfgen.data import kth_annotations

DATASETS = ("kth", "bair")
KTH_TEST_FIRST_PERSON = 17  # persons 1-16 train, 17-25 test (video-prediction convention)
BAIR_NUM_FRAMES = 30
BAIR_IMAGE_SIZE = 64
_DEFAULT_NUM_SHARDS = {"kth": 16, "bair": 64}
_ZIP_SEPARATOR = "::"

KTH_INSTRUCTIONS = """\
KTH actions (Schuldt, Laptev & Caputo 2004) is not downloadable by tfgen. Obtain it from
its authors' page (KTH, "Recognizing human actions"): six zip files boxing.zip,
handclapping.zip, handwaving.zip, jogging.zip, running.zip, walking.zip, and the
annotation file 00sequences.txt. Put them in one directory, as zips or unpacked:

  RAW_DIR/00sequences.txt
  RAW_DIR/boxing.zip             (or RAW_DIR/boxing/person01_boxing_d1_uncomp.avi, ...)
  ...
  RAW_DIR/walking.zip

then run: python -m tfgen.bin.prepare --dataset=kth --raw_dir=RAW_DIR --out_dir=OUT_DIR"""

BAIR_INSTRUCTIONS = """\
BAIR robot pushing (Ebert et al. 2017) is distributed as bair_robot_pushing_dataset_v0.tar
(about 30 GB) by the Berkeley AI Research lab. Unpack it so that the TFRecords are at

  RAW_DIR/softmotion30_44k/train/traj_*_to_*.tfrecords
  RAW_DIR/softmotion30_44k/test/traj_*_to_*.tfrecords

then run: python -m tfgen.bin.prepare --dataset=bair --raw_dir=RAW_DIR --out_dir=OUT_DIR
(TFDS's `bair_robot_pushing_small` holds the same data: the bair loader reads it with
source="tfds".)"""


def kth_split(person: int) -> str:
  """"train" for persons 1-16, "test" for 17-25."""
  return "train" if person < KTH_TEST_FIRST_PERSON else "test"


# ------------------------------------------------------------------------------------------
# Per-item conversion (no TensorFlow).


def convert_kth_video(path: str, ranges: Sequence[Tuple[int, int]],
                      image_size: int) -> List[Dict]:
  """Decodes one KTH video and cuts it into its annotated sub-sequences.

  Every frame is converted to grey and squash-resized (the full 160x120 frame, aspect
  ratio not kept) to `image_size` x `image_size` by FFmpeg's area-averaging scaler.

  Args:
    path: str, path of `personNN_ACTION_dK_uncomp.avi`, or `ZIP::MEMBER` for a video
      inside a zip file.
    ranges: sequence of `(first, last)` 1-based inclusive frame numbers (from
      `00sequences.txt`).
    image_size: int, output height and width.

  Returns:
    One dict per sub-sequence that has at least one frame in the video: `frames`
    `(time, image_size, image_size, 1)` uint8, `video` name, `person`, `action`,
    `action_id`, `scenario`, `subsequence` (index into `ranges`), `first_frame` and
    `last_frame` (1-based inclusive, clipped to the video's length) and `video_frames`
    (decoded frames in the whole video). A range starting after the last frame is left out.

  Raises:
    ValueError: the video cannot be decoded, has no frames, or is shorter than its header
      says (truncated).
  """
  name = os.path.basename(path.split(_ZIP_SEPARATOR)[-1])
  person, action, scenario = kth_annotations.parse_video_name(name)
  video = _decode_grey(path, image_size)  # (frames, image_size, image_size)
  examples = []
  for index, (first, last) in enumerate(ranges):
    last = min(last, len(video))
    if first > last:
      continue
    examples.append({
        "frames": video[first - 1:last, :, :, None],
        "video": name.replace("_uncomp.avi", "").replace(".avi", ""),
        "person": person,
        "action": action,
        "action_id": kth_annotations.ACTIONS.index(action),
        "scenario": scenario,
        "subsequence": index,
        "first_frame": first,
        "last_frame": last,
        "video_frames": len(video),
    })
  return examples


def _decode_grey(path: str, image_size: int) -> np.ndarray:
  import av  # pylint: disable=g-import-not-at-top  (only the KTH preparation needs PyAV)

  if _ZIP_SEPARATOR in path:
    archive, member = path.split(_ZIP_SEPARATOR, 1)
    with zipfile.ZipFile(archive) as zf, zf.open(member) as f:
      return _decode_grey_from(av, f, image_size)
  return _decode_grey_from(av, path, image_size)


def _decode_grey_from(av, source, image_size: int) -> np.ndarray:
  frames = []
  try:
    with av.open(source) as container:
      if not container.streams.video:
        raise ValueError("no video stream")
      stream = container.streams.video[0]
      expected = stream.frames  # from the AVI header; 0 when unknown
      for frame in container.decode(stream):
        frames.append(frame.reformat(width=image_size, height=image_size, format="gray",
                                     interpolation="AREA").to_ndarray())
  except av.error.FFmpegError as e:
    raise ValueError(f"cannot decode: {e}") from None
  if not frames:
    raise ValueError("no decodable frame")
  if expected and len(frames) < expected:
    raise ValueError(f"truncated: decoded {len(frames)} of the {expected} frames in its header")
  return np.stack(frames).astype(np.uint8)


def convert_bair_record(serialized: bytes,
                        num_frames: int = BAIR_NUM_FRAMES) -> Dict:
  """Reads one softmotion30_44k trajectory.

  Args:
    serialized: bytes, one `tf.train.Example` with `'{t}/image_aux1/encoded'` (the raw
      bytes of a 64x64x3 uint8 frame), `'{t}/action'` (4 floats) and
      `'{t}/endeffector_pos'` (3 floats) for t in 0..num_frames-1.
    num_frames: int, steps per trajectory (30).

  Returns:
    dict: `frames` `(num_frames, 64, 64, 3)` uint8, `actions` `(num_frames, 4)` float32,
    `endeffector_pos` `(num_frames, 3)` float32.

  Raises:
    ValueError: a step's frame is missing or not 64x64x3 bytes, or an action or
      end-effector position is missing or of the wrong length.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  feature = tf.train.Example.FromString(serialized).features.feature
  frame_bytes = BAIR_IMAGE_SIZE * BAIR_IMAGE_SIZE * 3
  frames, actions, positions = [], [], []
  for t in range(num_frames):
    key = f"{t}/image_aux1/encoded"
    if key not in feature or len(feature[key].bytes_list.value) != 1:
      raise ValueError(f"frame {t} ({key!r}) is missing")
    raw = feature[key].bytes_list.value[0]
    if len(raw) != frame_bytes:
      raise ValueError(f"frame {t} has {len(raw)} bytes, not 64x64x3 = {frame_bytes}")
    frames.append(np.frombuffer(raw, np.uint8).reshape(BAIR_IMAGE_SIZE, BAIR_IMAGE_SIZE, 3))
    for key, size, out in ((f"{t}/action", 4, actions), (f"{t}/endeffector_pos", 3, positions)):
      values = feature[key].float_list.value if key in feature else []
      if len(values) != size:
        raise ValueError(f"{key!r} has {len(values)} values, not {size}")
      out.append(list(values))
  return {
      "frames": np.stack(frames),
      "actions": np.asarray(actions, np.float32),
      "endeffector_pos": np.asarray(positions, np.float32),
  }


# ------------------------------------------------------------------------------------------
# Finding the raw files.


def find_kth_files(raw_dir: str) -> Tuple[str, Dict[str, str]]:
  """Finds `00sequences.txt` and the videos under `raw_dir` (folders or zip files).

  Returns:
    `(sequences_path, videos)`: `videos` maps "personNN_ACTION_dK" to a path usable by
    `convert_kth_video` (a plain file is preferred to a zip member of the same name).

  Raises:
    FileNotFoundError: with `KTH_INSTRUCTIONS`, if either is absent.
  """
  sequences_path = None
  videos: Dict[str, str] = {}
  zipped: Dict[str, str] = {}
  for root, dirs, files in os.walk(raw_dir) if os.path.isdir(raw_dir) else ():
    dirs.sort()
    for file_name in sorted(files):
      path = os.path.join(root, file_name)
      if file_name == "00sequences.txt" and sequences_path is None:
        sequences_path = path
      elif file_name.endswith(".avi") and _is_kth_name(file_name):
        videos.setdefault(_video_key(file_name), path)
      elif file_name.endswith(".zip"):
        try:
          with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
        except zipfile.BadZipFile:
          logging.warning("Ignoring %s: not a readable zip file.", path)
          continue
        for member in members:
          base = os.path.basename(member)
          if base.endswith(".avi") and _is_kth_name(base):
            zipped.setdefault(_video_key(base), path + _ZIP_SEPARATOR + member)
  for key, path in zipped.items():
    videos.setdefault(key, path)
  if sequences_path is None or not videos:
    found = "no 00sequences.txt" if sequences_path is None else "no KTH .avi video"
    raise FileNotFoundError(f"Found {found} under --raw_dir={raw_dir}.\n{KTH_INSTRUCTIONS}")
  return sequences_path, dict(sorted(videos.items()))


def _is_kth_name(file_name):
  try:
    kth_annotations.parse_video_name(file_name)
    return True
  except ValueError:
    return False


def _video_key(file_name):
  return re.sub(r"(_uncomp)?\.avi$", "", file_name)


def find_bair_files(raw_dir: str) -> Dict[str, List[str]]:
  """Returns `{"train": [...], "test": [...]}` softmotion30_44k TFRecord paths, in order.

  Accepts `raw_dir` pointing at the directory that holds `softmotion30_44k/` or at
  `softmotion30_44k/` itself. Files are in natural order (traj_256 after traj_0).

  Raises:
    FileNotFoundError: with `BAIR_INSTRUCTIONS`, if a split has no file.
  """
  base = os.path.join(raw_dir, "softmotion30_44k")
  if not os.path.isdir(base):
    base = raw_dir
  files = {}
  for split in ("train", "test"):
    directory = os.path.join(base, split)
    names = os.listdir(directory) if os.path.isdir(directory) else []
    files[split] = [os.path.join(directory, n)
                    for n in sorted(names, key=_natural_key) if n.endswith(".tfrecords")]
  if not files["train"] or not files["test"]:
    raise FileNotFoundError(
        f"Found no softmotion30_44k/{{train,test}}/*.tfrecords under --raw_dir={raw_dir}.\n"
        f"{BAIR_INSTRUCTIONS}")
  return files


def _natural_key(name):
  return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


# ------------------------------------------------------------------------------------------
# The run.


def prepare_dataset(dataset: str, raw_dir: str, out_dir: str, image_size: int = 64,
                    num_workers: Optional[int] = None, num_shards: Optional[int] = None,
                    progress: bool = True) -> Dict:
  """Converts `dataset` from `raw_dir` into sharded TFRecords in `out_dir`.

  Args:
    dataset: str, "kth" or "bair".
    raw_dir: str, directory of the original distribution (see `KTH_INSTRUCTIONS`,
      `BAIR_INSTRUCTIONS`).
    out_dir: str, output directory (the loaders' `data_dir`); created if needed.
    image_size: int, 64 or 128 (KTH); BAIR is distributed at 64 only.
    num_workers: int or None, KTH decoding processes; None uses every CPU, 0 decodes in
      this process. BAIR is converted in this process.
    num_shards: int or None, shards per split (16 for KTH, 64 for BAIR by default),
      capped at the number of items (videos or source files) of the split.
    progress: bool, show a tqdm progress bar.

  Returns:
    The summary (also written to `out_dir/summary.json` and logged): per split, `seen`,
    `converted`, `skipped` (list of `{"name", "reason"}`), `examples`, `notes`.

  Raises:
    ValueError: bad `dataset` or `image_size`, or `out_dir` was prepared with other
      settings.
    FileNotFoundError: `raw_dir` lacks the expected files (the message says how to get
      them).
  """
  if dataset not in DATASETS:
    raise ValueError(f"Unknown dataset {dataset!r}; valid datasets: {', '.join(DATASETS)}.")
  if image_size not in (64, 128):
    raise ValueError(f"Unknown image_size {image_size!r}; valid: 64, 128.")
  if dataset == "bair" and image_size != BAIR_IMAGE_SIZE:
    raise ValueError(f"BAIR is distributed at 64x64; got image_size={image_size}.")
  if num_shards is None:
    num_shards = _DEFAULT_NUM_SHARDS[dataset]
  if num_shards < 1:
    raise ValueError(f"num_shards must be positive; got {num_shards}.")
  if dataset == "kth":
    return _prepare_kth(raw_dir, out_dir, image_size, num_workers, num_shards, progress)
  return _prepare_bair(raw_dir, out_dir, num_shards, progress)


def _assign_shards(items: Sequence, num_shards: int) -> List[List]:
  num_shards = max(1, min(num_shards, len(items)))
  n = len(items)
  return [list(items[i * n // num_shards:(i + 1) * n // num_shards]) for i in range(num_shards)]


def _start_output(out_dir: str, info: Dict) -> None:
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top

  os.makedirs(out_dir, exist_ok=True)
  previous = tfrecords.read_dataset_info(out_dir)
  if previous is not None:
    previous.pop("format_version", None)
    if previous != info:
      raise ValueError(
          f"{out_dir} holds a preparation with other settings ({previous}); this run asks "
          f"for {info}. Use another --out_dir or empty this one.")
  tfrecords.write_dataset_info(out_dir, info)


def _prepare_kth(raw_dir, out_dir, image_size, num_workers, num_shards, progress):
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top

  sequences_path, videos = find_kth_files(raw_dir)
  annotations, marked_missing = kth_annotations.read_sequences_file(sequences_path)
  pre_skipped = collections.defaultdict(list)  # split -> [{"name", "reason"}]
  for name in sorted(set(videos) | set(annotations) | set(marked_missing)):
    person = kth_annotations.parse_video_name(name)[0]
    reason = None
    if name in marked_missing:
      reason = "marked *missing* in 00sequences.txt"
    elif name not in videos:
      reason = "listed in 00sequences.txt but no video file was found"
    elif name not in annotations:
      reason = "video not listed in 00sequences.txt"
    if reason:
      pre_skipped[kth_split(person)].append({"name": name, "reason": reason})
  convertible = sorted(set(videos) & set(annotations))
  by_split = {"train": [], "test": []}
  for name in convertible:
    by_split[kth_split(annotations[name].person)].append(name)
  shards = {split: _assign_shards(names, num_shards) for split, names in by_split.items()}
  _start_output(out_dir, {
      "dataset": "kth", "image_size": image_size, "channels": 1,
      "num_shards": {split: len(s) for split, s in shards.items()}})

  pending = []  # (path, names) of the shards still to write
  for split, split_shards in shards.items():
    for index, names in enumerate(split_shards):
      path = tfrecords.shard_path(out_dir, split, index, len(split_shards))
      if tfrecords.is_shard_complete(path, names):
        logging.info("%s is done; skipping it.", path)
      else:
        pending.append((path, names))
  tasks = [(videos[name], annotations[name].ranges, image_size)
           for _, names in pending for name in names]
  results = _ordered_map(convert_kth_video, tasks, num_workers)
  with _progress_bar(progress, len(tasks), "video") as bar:
    for path, names in pending:
      with tfrecords.ShardWriter(path, names) as writer:
        for name in names:
          ok, value = next(results)
          bar.update(1)
          if not ok:
            logging.warning("Skipping KTH video %s: %s", name, value)
            writer.skipped.append({"name": name, "reason": value})
            continue
          writer.converted.append(name)
          writer.notes.extend(_kth_notes(name, annotations[name].ranges, value))
          for example in value:
            frames = example.pop("frames")
            writer.write(tfrecords.serialize_example(frames, example), len(frames))
  return _summarise(out_dir, shards, pre_skipped, "videos")


def _kth_notes(name, ranges, examples):
  notes = []
  kept = {e["subsequence"]: e for e in examples}
  for index, (first, last) in enumerate(ranges):
    example = kept.get(index)
    if example is None:
      notes.append(f"{name}: sub-sequence {index} (frames {first}-{last}) starts after the "
                   f"video's last frame; left out")
    elif example["last_frame"] != last:
      notes.append(f"{name}: sub-sequence {index} (frames {first}-{last}) clipped to "
                   f"{first}-{example['last_frame']}, the video's length")
  return notes


def _prepare_bair(raw_dir, out_dir, num_shards, progress):
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top

  files = find_bair_files(raw_dir)
  shards = {split: _assign_shards(paths, num_shards) for split, paths in files.items()}
  _start_output(out_dir, {
      "dataset": "bair", "image_size": BAIR_IMAGE_SIZE, "channels": 3,
      "num_shards": {split: len(s) for split, s in shards.items()}})
  with _progress_bar(progress, None, "trajectory") as bar:
    for split, split_shards in shards.items():
      for index, paths in enumerate(split_shards):
        path = tfrecords.shard_path(out_dir, split, index, len(split_shards))
        names = [os.path.basename(p) for p in paths]
        if tfrecords.is_shard_complete(path, names):
          logging.info("%s is done; skipping it.", path)
          continue
        with tfrecords.ShardWriter(path, names) as writer:
          for source, record_index, serialized in tfrecords.iter_records(paths):
            name = f"{split}/{os.path.basename(source)}:{record_index}"
            bar.update(1)
            try:
              example = convert_bair_record(serialized)
            except ValueError as e:
              logging.warning("Skipping BAIR trajectory %s: %s", name, e)
              writer.skipped.append({"name": name, "reason": str(e)})
              continue
            writer.converted.append(name)
            frames = example.pop("frames")
            example["source"] = name
            writer.write(tfrecords.serialize_example(frames, example), len(frames))
  return _summarise(out_dir, shards, {}, "trajectories")


def _summarise(out_dir, shards, pre_skipped, unit) -> Dict:
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top

  summary = {"unit": unit}
  for split, split_shards in shards.items():
    converted, skipped, notes, examples = 0, list(pre_skipped.get(split, [])), [], 0
    for index in range(len(split_shards)):
      manifest = tfrecords.read_json(tfrecords.manifest_path(
          tfrecords.shard_path(out_dir, split, index, len(split_shards))))
      converted += len(manifest["converted"])
      skipped.extend(manifest["skipped"])
      notes.extend(manifest["notes"])
      examples += manifest["num_examples"]
    summary[split] = {
        "seen": converted + len(skipped), "converted": converted, "skipped": skipped,
        "examples": examples, "notes": notes}
  tfrecords.write_json_atomic(os.path.join(out_dir, tfrecords.SUMMARY), summary)
  for split in shards:
    s = summary[split]
    logging.info("%s: %d %s seen = %d converted + %d skipped; %d examples written.",
                 split, s["seen"], unit, s["converted"], len(s["skipped"]), s["examples"])
    for item in s["skipped"]:
      logging.info("  skipped %s: %s", item["name"], item["reason"])
    for note in s["notes"]:
      logging.info("  note: %s", note)
  return summary


def _call(fn, args):
  try:
    return True, fn(*args)
  except Exception as e:  # pylint: disable=broad-except  (reported by name, then skipped)
    return False, f"{type(e).__name__}: {e}"


def _ordered_map(fn, tasks: Sequence[Tuple], num_workers: Optional[int]) -> Iterator:
  """Yields `(ok, result or error message)` of `fn(*task)` for each task, in order.

  Runs in `num_workers` spawned processes (None: one per CPU; 0: in this process) with at
  most a few tasks per worker in flight, so memory stays bounded however many videos wait.
  """
  if num_workers is None:
    num_workers = os.cpu_count() or 1
  if num_workers <= 0 or len(tasks) <= 1:
    for task in tasks:
      yield _call(fn, task)
    return
  context = multiprocessing.get_context("spawn")  # TensorFlow's threads do not survive fork
  with concurrent.futures.ProcessPoolExecutor(num_workers, mp_context=context) as executor:
    remaining = iter(tasks)
    in_flight = collections.deque(
        executor.submit(_call, fn, task) for task in itertools.islice(remaining, 4 * num_workers))
    while in_flight:
      future = in_flight.popleft()
      task = next(remaining, None)
      if task is not None:
        in_flight.append(executor.submit(_call, fn, task))
      yield future.result()  # a crashed worker (BrokenProcessPool) aborts the run


class _NoBar:

  def __enter__(self):
    return self

  def __exit__(self, *args):
    return False

  def update(self, n):
    del n


def _progress_bar(enabled, total, unit):
  if not enabled:
    return _NoBar()
  import tqdm  # pylint: disable=g-import-not-at-top
  return tqdm.tqdm(total=total, unit=unit, dynamic_ncols=True)
