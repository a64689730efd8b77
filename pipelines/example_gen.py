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
"""

import os

from tfgen.data import prepare
from tfgen.data import tfrecords

GENERATED = ("smmnist", "mnist")
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
  parts = prepare._assign_shards(list(range(len(frames))), num_shards)  # pylint: disable=protected-access
  tfrecords.write_dataset_info(out_dir, {
      "dataset": data.name, "image_size": int(frames.shape[2]), "channels": int(frames.shape[4]),
      "num_shards": {"test": len(parts)}})
  for index, part in enumerate(parts):
    path = tfrecords.shard_path(out_dir, "test", index, len(parts))
    with tfrecords.ShardWriter(path, [str(i) for i in part]) as writer:
      for i in part:
        writer.converted.append(str(i))
        writer.write(tfrecords.serialize_example(frames[i], {"sequence": int(i)}), num_frames)
  stream = {"dataset": data.name, "seed": int(config.train.seed), "options": dict(
      data.get("options", {})), "data_dir": data.data_dir,
            "rule": "training clip k depends only on (seed, k) (tfgen.data.registry)"}
  tfrecords.write_json_atomic(os.path.join(out_dir, "training_stream.json"), stream)
  summary = {"unit": "sequences", "test": {"seen": len(frames), "converted": len(frames),
                                           "skipped": [], "examples": len(frames), "notes": []},
             "training_stream": stream}
  tfrecords.write_json_atomic(os.path.join(out_dir, tfrecords.SUMMARY), summary)
  return summary
