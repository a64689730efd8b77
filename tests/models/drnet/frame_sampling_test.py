"""Tests of the DrNET frame sampling: which four frames of a clip a step sees."""

from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tfgen.models.drnet import frame_sampling

# Different sizes on every axis: batch 3, time 7, height 5, width 4, channels 2.
BATCH, TIME, HEIGHT, WIDTH, CHANNELS = 3, 7, 5, 4, 2


def numbered_clips(start_index=0):
  """An endless stream of batches whose pixel values say (clip number, frame number)."""

  def batch(number):
    first = start_index + number * BATCH
    clips = tf.cast(first + tf.range(BATCH, dtype=tf.int64), tf.float32)[:, None] * 100.0
    frames = clips + tf.range(TIME, dtype=tf.float32)[None, :]  # (B, T)
    return tf.broadcast_to(frames[:, :, None, None, None], (BATCH, TIME, HEIGHT, WIDTH,
                                                            CHANNELS))

  return tf.data.Dataset.range(10**9).map(batch)


def decode(example):
  """(B, 4, H, W, C) numbered frames -> (clip numbers (B,), frame numbers (B, 4))."""
  values = np.asarray(example)[:, :, 0, 0, 0].astype(np.int64)
  return values[:, 0] // 100, values % 100


class FrameSamplingTest(tf.test.TestCase, parameterized.TestCase):

  def test_thesis_frames(self):
    k_max = 3
    rows = frame_sampling.frame_indices("thesis", TIME, np.arange(2000), seed=1,
                                        max_offset=k_max)
    t, target, pose, partner = rows.T
    k = target - t
    # content x^t, content_target x^{t+k}, pose x^{t+k}, pose_partner x^t.
    self.assertAllEqual(pose, target)
    self.assertAllEqual(partner, t)
    self.assertEqual(set(k.tolist()), set(range(k_max + 1)))  # k uniform in [0, K]
    self.assertAllInRange(counts_per_value(k, k_max + 1) / len(k), 0.2, 0.3)
    self.assertEqual(t.min(), 0)
    self.assertEqual((t + k).max(), TIME - 1)
    self.assertAllInRange(t + k, 0, TIME - 1)

  def test_consecutive_frames(self):
    rows = frame_sampling.frame_indices("consecutive", TIME, [5, 9], seed=1)
    self.assertAllEqual(rows, [[0, 1, 2, 3], [0, 1, 2, 3]])

  def test_independent_frames(self):
    rows = frame_sampling.frame_indices("independent", TIME, np.arange(2000), seed=1)
    self.assertEqual(set(rows.ravel().tolist()), set(range(TIME)))
    # Four independent draws: every column covers the clip, pairs often differ.
    for column in rows.T:
      self.assertEqual(len(set(column.tolist())), TIME)
    self.assertGreater(np.mean(rows[:, 0] != rows[:, 1]), 0.7)

  @parameterized.parameters("thesis", "independent")
  def test_draws_depend_only_on_seed_and_clip(self, mode):
    rows = frame_sampling.frame_indices(mode, TIME, np.arange(50), seed=4, max_offset=2)
    again = frame_sampling.frame_indices(mode, TIME, np.arange(20, 50), seed=4, max_offset=2)
    self.assertAllEqual(rows[20:], again)
    other = frame_sampling.frame_indices(mode, TIME, np.arange(50), seed=5, max_offset=2)
    self.assertNotAllEqual(rows, other)

  @parameterized.parameters("thesis", "consecutive", "independent")
  def test_stream_picks_the_drawn_frames_in_frame_key_order(self, mode):
    dataset = frame_sampling.sample_frames(numbered_clips(), mode, batch_size=BATCH,
                                           num_frames=TIME, seed=2, max_offset=2)
    self.assertEqual(dataset.element_spec,
                     tf.TensorSpec((BATCH, 4, HEIGHT, WIDTH, CHANNELS), tf.float32))
    for number, example in enumerate(dataset.take(3)):
      clips, frames = decode(example)
      expected = np.arange(number * BATCH, (number + 1) * BATCH)
      self.assertAllEqual(clips, expected)
      self.assertAllEqual(frames, frame_sampling.frame_indices(mode, TIME, expected, seed=2,
                                                               max_offset=2))

  @parameterized.named_parameters(("batch_multiple", 6), ("mid_batch", 4))
  def test_start_index_resumes_exactly(self, start_index):
    def take(start, count):
      dataset = frame_sampling.sample_frames(numbered_clips(start), "thesis",
                                             batch_size=BATCH, num_frames=TIME, seed=2,
                                             start_index=start, max_offset=3)
      return np.concatenate([b.numpy() for b in dataset.take(count)])

    full = take(0, 4)
    resumed = take(start_index, 2)
    self.assertAllEqual(resumed, full[start_index:start_index + 2 * BATCH])

  @parameterized.named_parameters(
      ("unknown", "random", TIME, 2, "'random'; valid: thesis, consecutive, independent"),
      ("no_offset", "thesis", TIME, None, "max_offset, an int >= 0"),
      ("negative_offset", "thesis", TIME, -1, "max_offset, an int >= 0"),
      ("short_thesis", "thesis", 3, 3, r"num_frames \(3\) must be >= max_offset \+ 1 \(4\)"),
      ("short_consecutive", "consecutive", 3, None, r"num_frames \(3\) must be >= 4"),
  )
  def test_bad_settings(self, mode, num_frames, max_offset, message):
    with self.assertRaisesRegex(ValueError, message):
      frame_sampling.check(mode, num_frames, max_offset)


def counts_per_value(values, num_values):
  return np.bincount(values, minlength=num_values).astype(np.float64)


if __name__ == "__main__":
  tf.test.main()
