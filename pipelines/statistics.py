"""StatisticsGen, SchemaGen and ExampleValidator for tfgen's sharded TFRecords of clips and images.

TFDV cannot be installed with our stack (PITFALLS.md) and its statistics are per feature
of tabular examples; a clip is one `frames` tensor, and what matters is that of the frames.
Per split: examples and frames, frame shape(s) and dtype, value range, pixel mean and
standard deviation (in [0, 1] units), clip lengths, unreadable shards (a TFRecord whose
CRC fails, a shard whose size disagrees with its manifest), for KTH the persons, and for
labelled examples (the image sets' `label`, -1 when a set has none) the class counts.

Image sets (`dataset_info.json` kind "image", `pipelines.example_gen`) are the same
records with one frame per example; the report calls their frames images.

The schema is inferred from the first run's statistics and kept at `ROOT/schema.json`;
later runs are checked against it. Anomalies: a corrupt or incomplete shard, a split that
is empty or missing, a frame shape or dtype that differs from the schema's, values
outside the schema's range, clips shorter than the schema's minimum, example counts off
by more than the schema's relative tolerance, a person in both splits, and for labelled
sets a class the schema does not know or a class count off by more than the tolerance.
The value range is the dtype's ([0, 255]) for clips; for images it is the range the
first run saw (over every split), so images rescaled or clipped since are caught.
"""

import os
import re

import numpy as np

SCHEMA_FILE = "schema.json"
COUNT_TOLERANCE = 0.1


def split_statistics(data_dir, split):
  """Statistics of one split (module docstring)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top
  info = tfrecords.read_dataset_info(data_dir) or {}
  num_shards = info.get("num_shards", {}).get(split, 0)
  stats = {"examples": 0, "frames": 0, "frame_shapes": [], "dtype": "uint8", "min": None,
           "max": None, "mean": None, "std": None, "lengths": {}, "corrupt_shards": [],
           "shards": num_shards}
  total, total_sq, pixels, shapes, lengths, persons = 0.0, 0.0, 0, set(), [], set()
  classes = {}
  low, high = 255, 0
  for index in range(num_shards):
    path = tfrecords.shard_path(data_dir, split, index, num_shards)
    if not tfrecords.is_shard_complete(path):
      stats["corrupt_shards"].append({"shard": os.path.basename(path),
                                      "reason": "missing, or its size disagrees with its manifest"})
      continue
    try:
      for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        feature = tf.train.Example.FromString(record).features.feature
        shape = tuple(feature[tfrecords.FRAMES_SHAPE].int64_list.value)
        frames = np.frombuffer(feature[tfrecords.FRAMES].bytes_list.value[0], np.uint8)
        if frames.size != int(np.prod(shape)):
          raise ValueError(f"frames hold {frames.size} bytes, not {shape}")
        shapes.add(shape[1:])
        lengths.append(shape[0])
        low, high = min(low, int(frames.min())), max(high, int(frames.max()))
        values = frames.astype(np.float64) / 255.0
        total += values.sum()
        total_sq += np.square(values).sum()
        pixels += values.size
        if "person" in feature:
          persons.add(int(feature["person"].int64_list.value[0]))
        if "label" in feature:
          label = int(feature["label"].int64_list.value[0])
          classes[label] = classes.get(label, 0) + 1
    except (tf.errors.DataLossError, ValueError) as e:
      stats["corrupt_shards"].append({"shard": os.path.basename(path),
                                      "reason": f"{type(e).__name__}: {_first_line(e)}"})
  stats["examples"] = len(lengths)
  stats["frames"] = int(sum(lengths))
  stats["frame_shapes"] = sorted(list(s) for s in shapes)
  if pixels:
    mean = total / pixels
    stats.update(min=low, max=high, mean=mean, std=float(np.sqrt(max(total_sq / pixels - mean**2, 0.0))))
    stats["lengths"] = {"min": int(min(lengths)), "max": int(max(lengths)),
                        "mean": float(np.mean(lengths))}
  if persons:
    stats["persons"] = sorted(persons)
  if classes and set(classes) != {-1}:  # -1: an unlabelled set
    stats["classes"] = {str(label): count for label, count in sorted(classes.items())}
  return stats


def _first_line(error):
  # TensorFlow's messages start with the op's function name in {{...}} and end with [Op:...].
  text = re.sub(r"\{\{.*?\}\}\s*", "", str(error).splitlines()[0])
  return re.sub(r"\s*\[Op:.*$", "", text).strip()


def statistics(data_dir):
  """`{split: split_statistics}` of every split `dataset_info.json` lists."""
  from tfgen.data import tfrecords  # pylint: disable=g-import-not-at-top
  info = tfrecords.read_dataset_info(data_dir)
  if info is None:
    raise FileNotFoundError(f"{data_dir} holds no dataset_info.json: not an ExampleGen output.")
  return {"dataset": info.get("dataset"), "kind": info.get("kind", "video"),
          "splits": {split: split_statistics(data_dir, split) for split in info["num_shards"]}}


def infer_schema(stats):
  """A schema from statistics: what later data must look like (module docstring)."""
  kind = stats.get("kind", "video")
  schema = {"dataset": stats["dataset"], "kind": kind, "count_tolerance": COUNT_TOLERANCE,
            "splits": {}}
  value_range = [0, 255]
  if kind == "image":
    seen = [s for s in stats["splits"].values() if s["examples"]]
    if seen:
      value_range = [min(s["min"] for s in seen), max(s["max"] for s in seen)]
  persons = []
  for split, s in stats["splits"].items():
    schema["splits"][split] = {
        "frame_shapes": s["frame_shapes"], "dtype": s["dtype"], "value_range": value_range,
        "min_length": s["lengths"].get("min", 1), "examples": s["examples"]}
    if "classes" in s:
      schema["splits"][split]["classes"] = s["classes"]
    persons.append(set(s.get("persons", [])))
  schema["disjoint_persons"] = any(persons)
  return schema


def anomalies(stats, schema):
  """The list of anomalies of `stats` against `schema` (module docstring), each a sentence."""
  found = []
  splits = stats["splits"]
  unit = "image" if schema.get("kind") == "image" else "frame"
  tolerance = schema.get("count_tolerance", COUNT_TOLERANCE)

  def off(count, expected):
    return abs(count - expected) > tolerance * expected

  for split, expected in schema["splits"].items():
    s = splits.get(split)
    if s is None:
      found.append(f"split {split!r}: missing (the schema expects it)")
      continue
    for shard in s["corrupt_shards"]:
      found.append(f"split {split!r}: shard {shard['shard']} is corrupt ({shard['reason']})")
    if not s["examples"]:
      found.append(f"split {split!r}: empty (no readable example)")
      continue
    if s["frame_shapes"] != expected["frame_shapes"]:
      found.append(f"split {split!r}: {unit} shape {s['frame_shapes']}, the schema expects "
                   f"{expected['frame_shapes']}")
    if s["dtype"] != expected["dtype"]:
      found.append(f"split {split!r}: dtype {s['dtype']}, the schema expects {expected['dtype']}")
    low, high = expected["value_range"]
    if s["min"] < low or s["max"] > high:
      found.append(f"split {split!r}: values in [{s['min']}, {s['max']}], outside the "
                   f"schema's [{low}, {high}]")
    if s["lengths"]["min"] < expected["min_length"]:
      found.append(f"split {split!r}: a clip of {s['lengths']['min']} frames, shorter than "
                   f"the schema's minimum {expected['min_length']}")
    if off(s["examples"], expected["examples"]):
      found.append(f"split {split!r}: {s['examples']} examples, the schema expects "
                   f"{expected['examples']} +- {100 * tolerance:.0f}%")
    if "classes" in expected:
      classes = s.get("classes", {})
      unknown = sorted(set(classes) - set(expected["classes"]), key=int)
      if unknown:
        found.append(f"split {split!r}: classes {', '.join(unknown)} are not in the schema's "
                     f"({', '.join(sorted(expected['classes'], key=int))})")
      for label, count in sorted(expected["classes"].items(), key=lambda kv: int(kv[0])):
        if off(classes.get(label, 0), count):
          found.append(f"split {split!r}: class {label} has {classes.get(label, 0)} "
                       f"examples, the schema expects {count} +- {100 * tolerance:.0f}%")
  if schema.get("disjoint_persons"):
    seen = {}
    for split, s in splits.items():
      for person in s.get("persons", []):
        seen.setdefault(person, []).append(split)
    for person, where in sorted(seen.items()):
      if len(where) > 1:
        found.append(f"person {person} appears in several splits ({', '.join(where)})")
  return found
