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

  def _write_mnist(self, rng, num_train=60, num_test=14):
    """A Keras-layout mnist.npz (the format tfgen.data.mnist reads) in a fresh directory."""
    path = os.path.join(self.make_temp_dir(), "mnist.npz")
    np.savez(path, x_train=rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, num_train).astype(np.uint8),
             x_test=rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, num_test).astype(np.uint8))
    return path

  def test_image_splits_are_the_loader_ones(self):
    from pipelines import evaluation_lapgan  # pylint: disable=g-import-not-at-top
    rng = np.random.default_rng(4)
    path = self._write_mnist(rng)
    config = config_loader.load("lapgan", "mnist_digits", "quick")
    config.data.data_dir = path
    out = self.make_temp_dir()
    summary = example_gen.materialise_image_splits(config, out, num_shards=3)
    arrays = np.load(path)
    # mnist_digits: validation is the last sixth of the training digits (10 of 60).
    expected = {"validation": (arrays["x_train"][50:], arrays["y_train"][50:]),
                "test": (arrays["x_test"], arrays["y_test"])}
    self.assertEqual(tfrecords.read_dataset_info(out)["num_shards"], {"validation": 3, "test": 3})
    for split, (images, labels) in expected.items():
      self.assertEqual(summary[split]["examples"], len(images))
      self.assertEqual(summary[split]["max_quantisation_error"], 0.0)  # uint8 digits: exact
      stored, stored_labels = example_gen.read_image_split(out, split)
      self.assertAllEqual(stored, images[..., None])
      self.assertAllEqual(stored_labels, labels)
    stream = summary["training_stream"]
    self.assertEqual((stream["seed"], stream["data_dir"]), (config.train.seed, path))
    self.assertEqual(stream["data_files"][0][:2], ["mnist.npz", os.path.getsize(path)])
    self.assertEqual(stream["first_images"], example_gen.TRAIN_DIGEST_IMAGES)
    # The first 4 test images only, with --num_test_sequences=4.
    few = self.make_temp_dir()
    example_gen.materialise_image_splits(config, few, num_images=4, num_shards=2)
    self.assertAllEqual(example_gen.read_image_split(few, "test")[0], arrays["x_test"][:4, ..., None])
    # The Evaluator's check: the loader still gives the materialised images ...
    self.assertEqual(evaluation_lapgan.check_materialised(config, out, "test", None), 14)
    self.assertEqual(evaluation_lapgan.check_materialised(config, few, "validation", 3), 3)
    # ... and refuses a source changed since (one test digit, one pixel).
    changed = {k: arrays[k].copy() for k in arrays.files}
    changed["x_test"][5, 3, 4] ^= 1
    config.data.data_dir = os.path.join(self.make_temp_dir(), "mnist.npz")
    np.savez(config.data.data_dir, **changed)
    evaluation_lapgan.check_materialised(config, out, "validation", None)  # unchanged
    with self.assertRaisesRegex(ValueError, "test split of 'mnist_digits' now gives other "
                                "images .* \\(1 of 14 differ, the first at index 5\\)"):
      evaluation_lapgan.check_materialised(config, out, "test", None)
    # The training stream's digest follows the training digits, not the test ones.
    digest = example_gen.materialise_image_splits(config, self.make_temp_dir())[
        "training_stream"]["first_images_sha256"]
    self.assertEqual(digest, stream["first_images_sha256"])
    changed["x_train"][:50] = 255 - changed["x_train"][:50]
    config.data.data_dir = os.path.join(self.make_temp_dir(), "mnist.npz")
    np.savez(config.data.data_dir, **changed)
    self.assertNotEqual(example_gen.materialise_image_splits(config, self.make_temp_dir())[
        "training_stream"]["first_images_sha256"], digest)

  def test_image_values_outside_the_unit_range_are_refused(self):
    self.assertAllEqual(example_gen.to_uint8(np.array([0.0, 0.5, 1.0], np.float32), "x"),
                        [0, 128, 255])
    with self.assertRaisesRegex(ValueError, r"cifar10 test: the loader gave values in "
                                r"\[-0.1, 1\] .*not in \[0, 1\]"):
      example_gen.to_uint8(np.array([-0.1, 1.0], np.float32), "cifar10 test")
    with self.assertRaisesRegex(ValueError, "non-finite"):
      example_gen.to_uint8(np.array([np.nan, 0.5], np.float32), "x")

  def test_missing_raw_data_explains_how_to_get_it(self):
    with self.assertRaisesRegex(FileNotFoundError, "00sequences.txt"):
      example_gen.check_raw_data("kth", self.make_temp_dir())
    with self.assertRaisesRegex(FileNotFoundError, "(?s)--raw_dir is required.*bair_robot_pushing"):
      example_gen.check_raw_data("bair", "")
    example_gen.check_raw_data("smmnist", "")  # generated: nothing to check


if __name__ == "__main__":
  tf.test.main()
