"""Tests of StatisticsGen / SchemaGen / ExampleValidator (`pipelines.statistics`)."""

import os

import numpy as np
import tensorflow as tf

from pipelines import statistics
from tests import test_case
from tfgen.data import tfrecords


def _write_shards(directory, split, clips, metadata, num_shards, default_info):
  """Writes uint8 `clips` with their `metadata` dicts as `split`'s shards; returns the paths."""
  info = tfrecords.read_dataset_info(directory) or default_info
  info.pop("format_version", None)
  info["num_shards"][split] = num_shards
  os.makedirs(directory, exist_ok=True)
  tfrecords.write_dataset_info(directory, info)
  paths = []
  for index in range(num_shards):
    path = tfrecords.shard_path(directory, split, index, num_shards)
    items = list(range(index, len(clips), num_shards))
    with tfrecords.ShardWriter(path, [str(i) for i in items]) as writer:
      for i in items:
        writer.write(tfrecords.serialize_example(clips[i], metadata[i]), len(clips[i]))
    paths.append(path)
  return paths


def write_split(directory, split, clips, persons=None, num_shards=2):
  """Writes uint8 `clips` as `split`'s shards; returns their paths."""
  metadata = [{"person": p} for p in persons] if persons else [{}] * len(clips)
  return _write_shards(directory, split, clips, metadata, num_shards,
                       {"dataset": "fake", "image_size": 8, "channels": 1, "num_shards": {}})


class StatisticsTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = self.make_temp_dir()
    rng = np.random.default_rng(0)
    self.train = [rng.integers(0, 200, (5 + i % 3, 8, 8, 1), dtype=np.uint8) for i in range(12)]
    self.test = [rng.integers(10, 255, (6, 8, 8, 1), dtype=np.uint8) for i in range(6)]
    self.train_paths = write_split(self.dir, "train", self.train, persons=[1 + i % 3 for i in range(12)])
    write_split(self.dir, "test", self.test, persons=[17] * 6)

  def test_statistics_match_numpy(self):
    stats = statistics.statistics(self.dir)
    train = stats["splits"]["train"]
    values = np.concatenate([c.reshape(-1) for c in self.train]).astype(np.float64) / 255
    self.assertEqual(train["examples"], 12)
    self.assertEqual(train["frames"], sum(len(c) for c in self.train))
    self.assertEqual(train["frame_shapes"], [[8, 8, 1]])
    self.assertEqual((train["min"], train["max"]),
                     (min(int(c.min()) for c in self.train), max(int(c.max()) for c in self.train)))
    self.assertAllClose([train["mean"], train["std"]], [values.mean(), values.std()], rtol=1e-9)
    self.assertEqual(train["lengths"], {"min": 5, "max": 7, "mean": np.mean([len(c) for c in self.train])})
    self.assertEqual(train["persons"], [1, 2, 3])
    self.assertEqual(stats["splits"]["test"]["persons"], [17])
    schema = statistics.infer_schema(stats)
    self.assertEqual(statistics.anomalies(stats, schema), [])

  def test_each_anomaly_is_named(self):
    schema = statistics.infer_schema(statistics.statistics(self.dir))
    # A person in both splits, a wrong frame shape, fewer examples, a corrupt shard.
    write_split(self.dir, "test", self.test[:3] + [np.zeros((6, 9, 8, 1), np.uint8)],
                persons=[17, 17, 2, 17])
    with open(self.train_paths[1], "r+b") as f:
      f.seek(40)
      f.write(b"\xff" * 8)  # same size, a broken record
    found = statistics.anomalies(statistics.statistics(self.dir), schema)
    text = "\n".join(found)
    self.assertIn("person 2 appears in several splits (test, train)", text)
    self.assertIn("split 'test': frame shape [[8, 8, 1], [9, 8, 1]]", text)
    self.assertIn("split 'test': 4 examples, the schema expects 6 +- 10%", text)
    self.assertIn(f"shard {os.path.basename(self.train_paths[1])} is corrupt (DataLossError: corrupted record at 12)", text)
    self.assertLen(found, 5)  # and train lost the corrupt shard's 6 examples

  def test_empty_and_missing_splits(self):
    schema = statistics.infer_schema(statistics.statistics(self.dir))
    schema["splits"]["validation"] = dict(schema["splits"]["test"])
    write_split(self.dir, "test", [], num_shards=1)
    found = statistics.anomalies(statistics.statistics(self.dir), schema)
    self.assertIn("split 'test': empty (no readable example)", found)
    self.assertIn("split 'validation': missing (the schema expects it)", found)


def write_images(directory, split, images, labels, num_shards=2):
  """Writes uint8 `images` `(n, H, W, C)` as ExampleGen does for image sets (one frame per
  example, its `label`); returns the shard paths."""
  return _write_shards(directory, split, [image[None] for image in images],
                       [{"label": int(label)} for label in labels], num_shards,
                       {"dataset": "fake_images", "kind": "image", "image_size": 6,
                        "image_shape": [6, 6, 1], "channels": 1, "num_shards": {}})


class ImageStatisticsTest(test_case.TestCase):
  """Image sets (LAPGAN's): class counts, the observed value range, anomalies named."""

  def setUp(self):
    super().setUp()
    self.dir = self.make_temp_dir()
    rng = np.random.default_rng(1)
    self.validation = rng.integers(0, 200, (10, 6, 6, 1), dtype=np.uint8)
    self.test = rng.integers(3, 190, (14, 6, 6, 1), dtype=np.uint8)
    self.test_labels = [i % 3 for i in range(14)]  # classes 0, 1, 2: 5, 5, 4 images
    write_images(self.dir, "validation", self.validation, [i % 2 for i in range(10)])
    write_images(self.dir, "test", self.test, self.test_labels, num_shards=3)

  def test_statistics_match_numpy(self):
    stats = statistics.statistics(self.dir)
    self.assertEqual(stats["kind"], "image")
    test = stats["splits"]["test"]
    values = self.test.astype(np.float64) / 255
    self.assertEqual((test["examples"], test["frames"], test["shards"]), (14, 14, 3))
    self.assertEqual(test["frame_shapes"], [[6, 6, 1]])
    self.assertEqual((test["min"], test["max"]), (int(self.test.min()), int(self.test.max())))
    self.assertAllClose([test["mean"], test["std"]], [values.mean(), values.std()], rtol=1e-9)
    self.assertEqual(test["classes"], {"0": 5, "1": 5, "2": 4})
    self.assertEqual(stats["splits"]["validation"]["classes"], {"0": 5, "1": 5})
    schema = statistics.infer_schema(stats)
    self.assertEqual(schema["kind"], "image")
    # The range the first run saw, over every split.
    self.assertEqual(schema["splits"]["test"]["value_range"],
                     [int(min(self.test.min(), self.validation.min())),
                      int(max(self.test.max(), self.validation.max()))])
    self.assertEqual(statistics.anomalies(stats, schema), [])

  def test_unlabelled_images_have_no_class_counts(self):
    directory = self.make_temp_dir()
    write_images(directory, "test", self.test, [-1] * 14)
    self.assertNotIn("classes", statistics.statistics(directory)["splits"]["test"])

  def test_wrong_shape_range_and_classes_are_named(self):
    schema = statistics.infer_schema(statistics.statistics(self.dir))
    low, high = schema["splits"]["test"]["value_range"]
    # The test split now: one image of another shape, a brighter one, the last image
    # (class 1) relabelled 7.
    test = list(self.test[:13]) + [np.zeros((7, 6, 1), np.uint8)]
    test[2] = np.full((6, 6, 1), 255, np.uint8)
    write_images(self.dir, "test", test, self.test_labels[:13] + [7], num_shards=3)
    found = statistics.anomalies(statistics.statistics(self.dir), schema)
    text = "\n".join(found)
    self.assertIn("split 'test': image shape [[6, 6, 1], [7, 6, 1]], the schema expects "
                  "[[6, 6, 1]]", text)
    self.assertIn(f"split 'test': values in [0, 255], outside the schema's [{low}, {high}]",
                  text)
    self.assertIn("split 'test': classes 7 are not in the schema's (0, 1, 2)", text)
    self.assertIn("split 'test': class 1 has 4 examples, the schema expects 5 +- 10%", text)
    self.assertLen(found, 4)  # validation unchanged: nothing named for it


if __name__ == "__main__":
  tf.test.main()
