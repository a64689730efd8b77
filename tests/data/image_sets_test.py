"""Tests of tfgen.data.image_sets: Torch's `image.scale` weights, crops, streams, caching."""

import os

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.data import image_sets


class TorchScaleTest(test_case.TestCase):

  @test_case.parameterized.parameters((32, 28), (28, 14), (28, 8), (14, 8), (96, 64),
                                      (96, 32), (5, 5))
  def test_shrinking_is_tf_area_resize(self, size_in, size_out):
    images = np.random.default_rng(0).random((2, size_in, size_in + 3, 3)).astype(np.float32)
    expected = tf.image.resize(images, (size_out, size_out + 1), method="area").numpy()
    actual = image_sets.torch_scale(images, size_out, size_out + 1)
    self.assertAllClose(actual, expected, atol=5e-6, rtol=0)

  @test_case.parameterized.parameters((16, 32), (8, 14), (14, 28), (1, 4))
  def test_enlarging_is_align_corners_bilinear(self, size_in, size_out):
    images = np.random.default_rng(1).random((2, size_in, size_in, 3)).astype(np.float32)
    expected = tf.compat.v1.image.resize_bilinear(images, (size_out, size_out),
                                                  align_corners=True).numpy()
    actual = image_sets.torch_scale(images, size_out, size_out)
    self.assertAllClose(actual, expected, atol=5e-6, rtol=0)

  def test_rows_sum_to_one(self):
    for size_in, size_out in ((7, 3), (3, 7), (4, 4)):
      self.assertAllClose(image_sets.torch_scale_matrix(size_in, size_out).sum(axis=1),
                          np.ones(size_out))


class StreamTest(test_case.TestCase):

  def test_stream_entries_are_epoch_permutations(self):
    entries = image_sets.stream_entries(np.arange(30), seed=4, size=10)
    for epoch in entries.reshape(3, 10):
      self.assertAllEqual(np.sort(epoch), np.arange(10))
    self.assertNotAllEqual(entries[:10], entries[10:20])
    # Entry k depends only on (seed, k), in any order and batching.
    self.assertAllEqual(image_sets.stream_entries([25, 3, 17], 4, 10), entries[[25, 3, 17]])

  def test_centre_offset(self):
    self.assertEqual(image_sets.centre_offset(32, 28), 2)
    self.assertEqual(image_sets.centre_offset(13, 8), 3)  # ceil(5 / 2), as eyescream.


class StatisticsCacheTest(test_case.TestCase):

  def test_unwritable_directory_keeps_statistics_in_memory(self):
    directory = os.path.join(self.get_temp_dir(), "read_only")
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o500)
    self.addCleanup(os.chmod, directory, 0o700)
    values = {k: np.ones(2) for k in ("pixel_mean", "pixel_std", "channel_mean",
                                      "channel_std")}
    calls = []

    def compute():
      calls.append(1)
      return values

    if os.access(directory, os.W_OK):  # root ignores permissions: make writing fail.
      with open(os.path.join(directory, image_sets.STATISTICS_DIR), "w") as f:
        f.write("a file where the cache directory would go")
    with self.assertLogs(level="WARNING") as logs:
      self.assertIs(image_sets.cached_statistics("x", directory, {"a": 1}, compute), values)
    self.assertIn("kept in memory", "\n".join(logs.output))
    self.assertIs(image_sets.cached_statistics("x", directory, {"a": 1}, compute), values)
    self.assertLen(calls, 1)

  def test_zero_std_becomes_one(self):
    mean, std = image_sets.select_statistics(
        {"pixel_mean": np.zeros(3), "pixel_std": np.array([0.0, 1e-9, 0.25])}, "pixel")
    self.assertAllEqual(std, [1.0, 1.0, 0.25])
    self.assertEqual((mean.dtype, std.dtype), (np.float32, np.float32))


if __name__ == "__main__":
  tf.test.main()
