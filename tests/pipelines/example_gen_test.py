"""ExampleGen: KTH through Beam equals `tfgen.data.prepare`; generated test splits; bad input."""

import json
import os

import numpy as np
import tensorflow as tf

from pipelines import example_gen
from tests import test_case
from tests.data import kth_test
from tfgen.data import prepare
from tfgen.data import registry
from tfgen.data import tfrecords
from tfgen.utils import config_loader


def _records(directory, split):
  info = tfrecords.read_dataset_info(directory)
  out = []
  for index in range(info["num_shards"][split]):
    path = tfrecords.shard_path(directory, split, index, info["num_shards"][split])
    out.extend(r for _, _, r in tfrecords.iter_records([path]))
  return out


class ExampleGenTest(test_case.TestCase):

  def test_kth_beam_equals_prepare(self):
    raw = kth_test.write_fake_kth(self.make_temp_dir())
    expected_dir, beam_dir = self.make_temp_dir(), self.make_temp_dir()
    expected = prepare.prepare_dataset("kth", raw, expected_dir, num_workers=0, num_shards=2,
                                       progress=False)
    summary = example_gen.kth(raw, beam_dir, num_shards=2,
                              beam_args=list(example_gen.DEFAULT_BEAM_ARGS), num_workers=2)
    self.assertEqual(summary, expected)  # same counts, same skipped videos and reasons
    for split in ("train", "test"):
      got, want = _records(beam_dir, split), _records(expected_dir, split)
      self.assertLen(got, len(want))
      for i, (a, b) in enumerate(zip(got, want)):
        # Equal examples (a proto map's serialised order may differ between processes).
        self.assertTrue(tf.train.Example.FromString(a) == tf.train.Example.FromString(b),
                        f"{split} record {i} differs")
    self.assertEqual(tfrecords.read_dataset_info(beam_dir),
                     tfrecords.read_dataset_info(expected_dir))

  def test_generated_test_split_is_the_registry_one(self):
    config = config_loader.load("svg_lp", "smmnist", "quick")
    out = self.make_temp_dir()
    summary = example_gen.materialise_test_split(config, out, num_frames=7,
                                                 num_test_sequences=6, num_shards=2)
    self.assertEqual(summary["test"]["examples"], 6)
    self.assertEqual(summary["training_stream"]["seed"], config.train.seed)
    expected = next(iter(registry.build("smmnist", "test", batch_size=6, num_frames=7, seed=0,
                                        num_test_sequences=6, **dict(config.data.options))))
    stored = np.stack([tf.reshape(tf.io.decode_raw(
        tf.train.Example.FromString(r).features.feature["frames"].bytes_list.value[0], tf.uint8),
        (7, 64, 64, 1)).numpy() for r in _records(out, "test")])
    # Stored as uint8 like every prepared data set: within half a grey level.
    self.assertAllClose(stored.astype(np.float32) / 255.0, expected.numpy(), rtol=0,
                        atol=0.5 / 255 + 1e-6)
    with open(os.path.join(out, "training_stream.json")) as f:
      self.assertEqual(json.load(f)["options"], dict(config.data.options))

  def test_missing_raw_data_explains_how_to_get_it(self):
    with self.assertRaisesRegex(FileNotFoundError, "00sequences.txt"):
      example_gen.check_raw_data("kth", self.make_temp_dir())
    with self.assertRaisesRegex(FileNotFoundError, "(?s)--raw_dir is required.*bair_robot_pushing"):
      example_gen.check_raw_data("bair", "")
    example_gen.check_raw_data("smmnist", "")  # generated: nothing to check


if __name__ == "__main__":
  tf.test.main()
