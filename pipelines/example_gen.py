"""ExampleGen: the data set as tfgen's sharded TFRecords (`tfgen.data.tfrecords` format).

- KTH and BAIR: `tfgen.data.prepare`'s per-item functions (`convert_kth_video`,
  `convert_bair_record`) run as an Apache Beam pipeline: items keyed by their shard,
  converted in parallel, grouped by shard, each shard written whole
  (`tfrecords.ShardWriter`), then `dataset_info.json` and the same summary as
  `python -m tfgen.bin.prepare` (seen = converted + skipped, skipped items named). Locally
  Beam's DirectRunner in multi-processing mode; any runner (Dataflow, Flink, Spark) through
  standard Beam pipeline options (`--beam_pipeline_args`), with the output on storage its
  workers share.
- Data sets generated on the fly (SM-MNIST, two-colour Moving MNIST): the fixed test split
  is materialised in the same format (so statistics, validation and evaluation read the
  same clips), and the training stream's seed and options are recorded: training draws the
  stream from them (clip k depends only on (seed, k)).
- Image sets (LAPGAN's: MNIST digits, CIFAR-10, STL-10, LSUN; registry kind "image"): the
  finite splits the Evaluator reads (validation, where sigma is chosen, and test) are
  materialised through the set's own loader (its crops and resizing, as the Trainer and
  the Evaluator see them), one example per image (`frames` of shape `(1, H, W, C)` and its
  `label`, -1 when the set has none), so statistics and validation check the images that
  are scored; the training stream is recorded as for generated sets (seed, options,
  `data_dir`, the files under it) with a digest of its first images, which changes when
  the source does. The Evaluator checks that the loader still gives the materialised
  images (`pipelines.evaluation_lapgan`).
"""

import os

from pipelines import artifacts
from tfgen.data import prepare
from tfgen.data import tfrecords

GENERATED = ("smmnist", "mnist")
# Images of the training stream whose digest ExampleGen records (its provenance).
TRAIN_DIGEST_IMAGES = 256
PREPARED = prepare.DATASETS  # kth, bair
DEFAULT_BEAM_ARGS = ("--runner=DirectRunner", "--direct_running_mode=multi_processing")


def check_raw_data(dataset, raw_dir):
  """Raises `FileNotFoundError` (saying how to get the data) when raw data is missing."""
  if dataset not in PREPARED:
    return
  if not raw_dir:
    instructions = prepare.KTH_INSTRUCTIONS if dataset == "kth" else prepare.BAIR_INSTRUCTIONS
    raise FileNotFoundError(f"--raw_dir is required for dataset {dataset!r}: the directory of "
                            f"its original distribution.\n{instructions}")
  if dataset == "kth":
    prepare.find_kth_files(raw_dir)
  else:
    prepare.find_bair_files(raw_dir)


def beam_options(beam_args, num_workers):
  from apache_beam.options.pipeline_options import PipelineOptions  # pylint: disable=g-import-not-at-top
  args = list(beam_args) if beam_args else list(DEFAULT_BEAM_ARGS)
  if not any(a.startswith("--direct_num_workers") for a in args):
    args.append(f"--direct_num_workers={num_workers or os.cpu_count() or 1}")
  return PipelineOptions(args)


# ------------------------------------------------------------------------------- KTH


def _convert_kth(task, image_size):
  shard_key, name, path, ranges = task
  try:
    return shard_key, (name, True, prepare.convert_kth_video(path, ranges, image_size))
  except Exception as e:  # pylint: disable=broad-except  (reported by name, then skipped)
    return shard_key, (name, False, f"{type(e).__name__}: {e}")


def _write_kth_shard(keyed, out_dir, shard_items, ranges_by_name):
  shard_key, results = keyed
  split, index, count = shard_key
  names = shard_items[shard_key]
  by_name = {name: (ok, value) for name, ok, value in results}
  path = tfrecords.shard_path(out_dir, split, index, count)
  with tfrecords.ShardWriter(path, names) as writer:
    for name in names:  # the prepared order, whatever order Beam delivered them in
      ok, value = by_name[name]
      if not ok:
        writer.skipped.append({"name": name, "reason": value})
        continue
      writer.converted.append(name)
      writer.notes.extend(prepare._kth_notes(name, ranges_by_name[name], value))  # pylint: disable=protected-access
      for example in value:
        frames = example.pop("frames")
        writer.write(tfrecords.serialize_example(frames, example), len(frames))
  return path


def kth(raw_dir, out_dir, image_size=64, num_shards=16, beam_args=None, num_workers=None):
  """KTH through Beam (module docstring); returns the preparation summary."""
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from tfgen.data import kth_annotations  # pylint: disable=g-import-not-at-top
  sequences_path, videos = prepare.find_kth_files(raw_dir)
  annotations, marked_missing = kth_annotations.read_sequences_file(sequences_path)
  pre_skipped = {"train": [], "test": []}
  for name in sorted(set(videos) | set(annotations) | set(marked_missing)):
    reason = None
    if name in marked_missing:
      reason = "marked *missing* in 00sequences.txt"
    elif name not in videos:
      reason = "listed in 00sequences.txt but no video file was found"
    elif name not in annotations:
      reason = "video not listed in 00sequences.txt"
    if reason:
      person = kth_annotations.parse_video_name(name)[0]
      pre_skipped[prepare.kth_split(person)].append({"name": name, "reason": reason})
  by_split = {"train": [], "test": []}
  for name in sorted(set(videos) & set(annotations)):
    by_split[prepare.kth_split(annotations[name].person)].append(name)
  shards = {split: prepare._assign_shards(names, num_shards)  # pylint: disable=protected-access
            for split, names in by_split.items()}
  os.makedirs(out_dir, exist_ok=True)
  tfrecords.write_dataset_info(out_dir, {
      "dataset": "kth", "image_size": image_size, "channels": 1,
      "num_shards": {split: len(s) for split, s in shards.items()}})
  shard_items, tasks = {}, []
  for split, split_shards in shards.items():
    for index, names in enumerate(split_shards):
      key = (split, index, len(split_shards))
      shard_items[key] = names
      tasks.extend((key, name, videos[name], annotations[name].ranges) for name in names)
  ranges_by_name = {name: annotations[name].ranges for name in annotations}
  with beam.Pipeline(options=beam_options(beam_args, num_workers)) as pipeline:
    _ = (pipeline
         | "Videos" >> beam.Create(tasks)
         | "Spread" >> beam.Reshuffle()
         | "Convert" >> beam.Map(_convert_kth, image_size)
         | "ByShard" >> beam.GroupByKey()
         | "WriteShard" >> beam.Map(_write_kth_shard, out_dir, shard_items, ranges_by_name))
  return prepare._summarise(out_dir, shards, pre_skipped, "videos")  # pylint: disable=protected-access


# ------------------------------------------------------------------------------- BAIR


def _read_bair_file(task):
  shard_key, split, path = task
  for source, index, serialized in tfrecords.iter_records([path]):
    yield shard_key, (f"{split}/{os.path.basename(source)}:{index}", serialized)


def _convert_bair(keyed):
  shard_key, (name, serialized) = keyed
  try:
    example = prepare.convert_bair_record(serialized)
  except ValueError as e:
    return shard_key, (name, False, str(e))
  return shard_key, (name, True, example)


def _write_bair_shard(keyed, out_dir, shard_items):
  shard_key, results = keyed
  split, index, count = shard_key
  path = tfrecords.shard_path(out_dir, split, index, count)
  with tfrecords.ShardWriter(path, shard_items[shard_key]) as writer:
    for name, ok, value in sorted(results, key=lambda r: prepare._natural_key(r[0])):  # pylint: disable=protected-access
      if not ok:
        writer.skipped.append({"name": name, "reason": value})
        continue
      writer.converted.append(name)
      frames = value.pop("frames")
      value["source"] = name
      writer.write(tfrecords.serialize_example(frames, value), len(frames))
  return path


def bair(raw_dir, out_dir, num_shards=64, beam_args=None, num_workers=None):
  """BAIR through Beam (module docstring); returns the preparation summary."""
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  files = prepare.find_bair_files(raw_dir)
  shards = {split: prepare._assign_shards(paths, num_shards)  # pylint: disable=protected-access
            for split, paths in files.items()}
  os.makedirs(out_dir, exist_ok=True)
  tfrecords.write_dataset_info(out_dir, {
      "dataset": "bair", "image_size": prepare.BAIR_IMAGE_SIZE, "channels": 3,
      "num_shards": {split: len(s) for split, s in shards.items()}})
  shard_items, tasks = {}, []
  for split, split_shards in shards.items():
    for index, paths in enumerate(split_shards):
      key = (split, index, len(split_shards))
      shard_items[key] = [os.path.basename(p) for p in paths]
      tasks.extend((key, split, p) for p in paths)
  with beam.Pipeline(options=beam_options(beam_args, num_workers)) as pipeline:
    _ = (pipeline
         | "Files" >> beam.Create(tasks)
         | "Spread" >> beam.Reshuffle()
         | "Read" >> beam.FlatMap(_read_bair_file)
         | "Convert" >> beam.Map(_convert_bair)
         | "ByShard" >> beam.GroupByKey()
         | "WriteShard" >> beam.Map(_write_bair_shard, out_dir, shard_items))
  return prepare._summarise(out_dir, shards, {}, "trajectories")  # pylint: disable=protected-access


# ------------------------------------------------------------------------ generated sets


def materialise_test_split(config, out_dir, num_frames, num_test_sequences=None,
                           num_shards=4):
  """Writes the fixed test split of a generated data set as sharded TFRecords.

  Returns:
    `{"test": {"examples": n}, "training_stream": {...}}`: the training stream is not
    written (it is endless); its seed, options and source are recorded instead.
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  data = config.data
  options = dict(data.get("options", {}))
  if num_test_sequences:
    options["num_test_sequences"] = num_test_sequences
  dataset = registry.build(data.name, "test", batch_size=64, num_frames=num_frames,
                           seed=config.train.seed, data_dir=data.data_dir,
                           drop_remainder=False, **options)
  clips = np.concatenate([np.asarray(batch) for batch in dataset], axis=0)
  if num_test_sequences:
    clips = clips[:num_test_sequences]
  # uint8 like every prepared data set: within half a grey level of the generated frames.
  frames = np.round(clips * 255.0).astype(np.uint8)
  os.makedirs(out_dir, exist_ok=True)
  tfrecords.write_dataset_info(out_dir, {
      "dataset": data.name, "kind": "video", "image_size": int(frames.shape[2]),
      "channels": int(frames.shape[4]), "num_shards": {"test": _shard_count(len(frames),
                                                                           num_shards)}})
  _write_split(out_dir, "test", frames, [{"sequence": i} for i in range(len(frames))],
               num_shards)
  stream = _training_stream(config, "training clip k depends only on (seed, k) "
                            "(tfgen.data.registry)")
  tfrecords.write_json_atomic(os.path.join(out_dir, "training_stream.json"), stream)
  summary = {"unit": "sequences", "test": {"seen": len(frames), "converted": len(frames),
                                           "skipped": [], "examples": len(frames), "notes": []},
             "training_stream": stream}
  tfrecords.write_json_atomic(os.path.join(out_dir, tfrecords.SUMMARY), summary)
  return summary


def _shard_count(num_examples, num_shards):
  return len(prepare._assign_shards(list(range(num_examples)), num_shards))  # pylint: disable=protected-access


def _write_split(out_dir, split, examples, metadata, num_shards):
  """Writes uint8 `examples` `(n, time, H, W, C)` with their `metadata` as `split`'s shards."""
  parts = prepare._assign_shards(list(range(len(examples))), num_shards)  # pylint: disable=protected-access
  for index, part in enumerate(parts):
    path = tfrecords.shard_path(out_dir, split, index, len(parts))
    with tfrecords.ShardWriter(path, [str(i) for i in part]) as writer:
      for i in part:
        writer.converted.append(str(i))
        writer.write(tfrecords.serialize_example(examples[i], metadata[i]), len(examples[i]))


def _training_stream(config, rule):
  """What the training stream is drawn from: seed, options, `data_dir` and its files."""
  data = config.data
  stream = {"dataset": data.name, "seed": int(config.train.seed),
            "options": dict(data.get("options", {})), "data_dir": data.data_dir,
            "rule": rule}
  if data.data_dir and os.path.exists(data.data_dir):
    stream["data_files"] = artifacts.source_listing(data.data_dir)
  return stream


def load_image_split(config, split, count=None, seed=None, batch_size=256):
  """`(images, labels)`: the first `count` images of `split` of the config's image set
  through its loader, as float32 `(n, H, W, C)` in the loader's units and int32 `(n,)`."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  data = config.data
  dataset = registry.build(data.name, split, batch_size=batch_size,
                           seed=int(config.train.seed if seed is None else seed),
                           num_frames=None, data_dir=data.get("data_dir"),
                           drop_remainder=False, **dict(data.get("options", {})))
  images, labels, total = [], [], 0
  for element in dataset:
    images.append(np.asarray(element["image"]))
    labels.append(np.asarray(element["label"]))
    total += len(images[-1])
    if count is not None and total >= count:
      break
  if not images:
    return np.zeros((0,), np.float32), np.zeros((0,), np.int32)
  return np.concatenate(images)[:count], np.concatenate(labels)[:count]


def to_uint8(images, name):
  """`images` in [0, 1] as uint8 grey levels; values outside [0, 1] raise `ValueError`."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  if images.size and (not np.all(np.isfinite(images)) or images.min() < 0.0 or
                      images.max() > 1.0):
    raise ValueError(f"{name}: the loader gave values in [{np.nanmin(images):.4g}, "
                     f"{np.nanmax(images):.4g}] (or non-finite ones), not in [0, 1] as the "
                     "image-set contract says (tfgen.data.registry).")
  return np.round(images * 255.0).astype(np.uint8)


def materialise_image_splits(config, out_dir, num_images=None, num_shards=4):
  """Writes the finite splits of an image set as sharded TFRecords (module docstring).

  Args:
    config: the stage's config (its `data` names the set, `data_dir` and options).
    out_dir: the output directory.
    num_images: keep the first this many images of each split (None: all).
    num_shards: shards per split.

  Returns:
    `{split: {"examples": n, ...}, "training_stream": {...}}` (also `summary.json`).
  """
  import hashlib  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  data = config.data
  splits = [s for s in registry.splits(data.name) if s != "train"]
  arrays = {}
  for split in splits:
    images, labels = load_image_split(config, split, num_images)
    arrays[split] = (to_uint8(images, f"{data.name} {split}"), labels,
                     float(np.abs(images - np.round(images * 255.0) / 255.0).max())
                     if images.size else 0.0)
  shape = next((a[0].shape[1:] for a in arrays.values() if a[0].size), None)
  if shape is None:
    raise ValueError(f"Data set {data.name!r} gave no {' or '.join(splits)} image: nothing "
                     "to evaluate on.")
  os.makedirs(out_dir, exist_ok=True)
  tfrecords.write_dataset_info(out_dir, {
      "dataset": data.name, "kind": "image", "image_size": int(shape[0]),
      "image_shape": [int(d) for d in shape], "channels": int(shape[-1]),
      "num_shards": {split: _shard_count(len(arrays[split][0]), num_shards)
                     for split in splits}})
  summary = {"unit": "images"}
  for split in splits:
    images, labels, quantisation = arrays[split]
    # (n, H, W, C) -> (n, 1, H, W, C): an image is a clip of one frame in tfgen's format.
    _write_split(out_dir, split, images[:, None],
                 [{"label": int(label), "index": i} for i, label in enumerate(labels)],
                 num_shards)
    summary[split] = {"seen": len(images), "converted": len(images), "skipped": [],
                      "examples": len(images), "notes": [],
                      "max_quantisation_error": quantisation}
  stream = _training_stream(config, "training image k depends only on (seed, k) "
                            "(tfgen.data.image_sets)")
  first, _ = load_image_split(config, "train", TRAIN_DIGEST_IMAGES)
  stream["first_images_sha256"] = hashlib.sha256(
      to_uint8(first, f"{data.name} train").tobytes()).hexdigest()
  stream["first_images"] = int(len(first))
  tfrecords.write_json_atomic(os.path.join(out_dir, "training_stream.json"), stream)
  summary["training_stream"] = stream
  tfrecords.write_json_atomic(os.path.join(out_dir, tfrecords.SUMMARY), summary)
  return summary


def read_image_split(data_dir, split):
  """`(images uint8 (n, H, W, C), labels int64 (n,))` of a split `materialise_image_splits`
  wrote, in its order."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  info = tfrecords.read_dataset_info(data_dir)
  images, labels = [], []
  for path, _ in tfrecords.complete_shards(data_dir, split):
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
      feature = tf.train.Example.FromString(record).features.feature
      shape = tuple(feature[tfrecords.FRAMES_SHAPE].int64_list.value)
      frames = np.frombuffer(feature[tfrecords.FRAMES].bytes_list.value[0], np.uint8)
      images.append(frames.reshape(shape)[0])  # (1, H, W, C) -> (H, W, C)
      labels.append(int(feature["label"].int64_list.value[0]))
  if not images:
    return np.zeros([0] + list(info["image_shape"]), np.uint8), np.zeros((0,), np.int64)
  return np.stack(images), np.asarray(labels, np.int64)
