"""Tests of the digit-identity measure of long rollouts: the crops, the step bookkeeping with
oracle models, the binary's outputs, and bad input refused before any work."""

import json
import os

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.data import mnist as mnist_lib
from tfgen.models.classifier import labelled_data
from tfgen.models.drnet import rollout_identity as ri
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader

CONTEXT = 3


def symmetric_digit():
  """A 28x28 pattern whose centre of mass is exactly the field's centre, (13.5, 13.5)."""
  digit = np.zeros((28, 28), np.float32)
  digit[6:22, 10:18] = 0.5
  digit[9:19, 4:24] = 1.0
  return digit


class DigitCropsTest(test_case.TestCase):

  def test_crop_recentres_each_channel(self):
    digit = symmetric_digit()
    frame = np.zeros((1, 64, 64, 3), np.float32)
    frame[0, 10:38, 30:58, 0] = digit          # red: inside the frame
    frame[0, 0:28, 0:28, 1] = digit[::-1] * 0.7  # green: another pattern, in a corner
    frame[0, ..., 2] = 1.0                     # blue is not a digit: ignored
    crops, mass = ri.digit_crops(frame)
    self.assertEqual(crops.shape, (1, 2, 28, 28, 1))
    self.assertAllClose(crops[0, 0, ..., 0], digit)
    self.assertAllClose(crops[0, 1, ..., 0], digit[::-1] * 0.7)
    self.assertAllClose(mass[0], [digit.sum(), 0.7 * digit.sum()], rtol=1e-5)

  def test_partly_outside_is_zero_and_empty_has_no_mass(self):
    digit = symmetric_digit()
    frame = np.zeros((1, 64, 64, 2), np.float32)
    frame[0, 50:64, 10:38, 0] = digit[:14]  # the top half only, at the bottom edge
    frame[0, 20:30, 20:30, 1] = -0.5        # negative values are clamped away: empty
    crops, mass = ri.digit_crops(frame)
    self.assertAllClose(mass[0], [digit[:14].sum(), 0.0])
    self.assertAllEqual(crops[0, 1], np.zeros((28, 28, 1)))
    # The visible half's centre of mass is recentred; nothing from outside the frame.
    rows = np.nonzero(crops[0, 0, :, :, 0].sum(axis=1))[0]
    self.assertLen(rows, 14 - 6)  # rows 6..13 of the digit have ink
    self.assertAllClose(crops[0, 0, ..., 0].sum(), digit[:14].sum(), rtol=1e-5)

  def test_real_moving_mnist_crops_are_the_source_digits(self):
    if not test_case.test_data_dir():
      self.skipTest("TFGEN_TEST_DATA is not set")
    clips = labelled_data.mnist_test_clips(6, num_frames=2, data_dir=test_case.test_data_dir())
    arrays = mnist_lib.load_mnist_with_labels(test_case.test_data_dir())
    crops, _ = ri.digit_crops(clips.frames[:, 0])
    # Each crop is its source digit up to a shift of a pixel or two (MNIST is centred by
    # its centre of mass too) and occlusion: its nearest test digit has its label.
    candidates = arrays.x_test.reshape(len(arrays.x_test), -1).astype(np.float32) / 255.0
    flat = crops.reshape(-1, 28 * 28)
    nearest = np.argmin((flat ** 2).sum(1)[:, None] - 2 * flat @ candidates.T
                        + (candidates ** 2).sum(1)[None], axis=1)
    found = np.asarray(arrays.y_test)[nearest].reshape(6, 2)
    self.assertGreaterEqual(np.mean(found == clips.labels), 0.75)


class NearestDigitClassifier:
  """Labels a crop by its nearest MNIST test digit under shifts of up to 2 pixels."""

  def __init__(self, data_dir):
    arrays = mnist_lib.load_mnist_with_labels(data_dir)
    digits = arrays.x_test.astype(np.float32) / 255.0
    shifted = [np.roll(digits, (dy, dx), axis=(1, 2))
               for dy in range(-2, 3) for dx in range(-2, 3)]
    self.templates = np.concatenate(shifted).reshape(-1, 28 * 28)
    self.labels = np.tile(np.asarray(arrays.y_test), len(shifted))

  def __call__(self, crops, training=False):
    flat = np.asarray(crops, np.float32).reshape(len(crops), -1)
    distances = (-2 * flat @ self.templates.T + (self.templates ** 2).sum(1)[None])
    return tf.one_hot(self.labels[np.argmin(distances, axis=1)], 10)


class OracleModel:
  """`generate` as the evaluation's contract; frame j (0-based) is `frame_fn(context, j)`."""

  num_context_frames = CONTEXT
  stochastic = False

  def __init__(self, frame_fn):
    self.frame_fn = frame_fn

  def generate(self, context, num_future_frames, num_samples=1, seed=None):
    del seed
    frames = tf.stack([self.frame_fn(context, j) for j in range(num_future_frames)], axis=1)
    return {"samples": tf.repeat(frames[:, None], num_samples, axis=1)}


class RolloutAccuracyTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    if test_case.test_data_dir():
      cls.classifier = NearestDigitClassifier(test_case.test_data_dir())
      cls.clips = labelled_data.mnist_test_clips(8, num_frames=CONTEXT,
                                                 data_dir=test_case.test_data_dir())

  def setUp(self):
    super().setUp()
    if not test_case.test_data_dir():
      self.skipTest("TFGEN_TEST_DATA is not set")

  def options(self, **kwargs):
    fields = dict(num_future_frames=12, steps=(1, 5), num_last_frames=2, batch_size=3)
    return ri.RolloutIdentityOptions(**{**fields, **kwargs})

  def test_a_still_model_keeps_every_digit_as_real_frames_do(self):
    still = OracleModel(lambda context, j: context[:, -1])
    results = ri.rollout_accuracy(still, self.classifier, self.clips, self.options())
    self.assertEqual([e["step"] for e in results["per_step"]], [1, 5, 11, 12])
    self.assertGreaterEqual(results["real_context_accuracy"], 0.8)
    last_real = ri.rollout_accuracy(
        still, self.classifier,
        labelled_data.LabelledClips(self.clips.frames[:, -1:], self.clips.labels),
        self.options())["real_context_accuracy"]
    for entry in results["per_step"]:
      self.assertEqual(entry["accuracy"], last_real)
      self.assertEqual(entry["vanished_fraction"], 0.0)
    self.assertEqual(results["last_frames_accuracy"], last_real)
    self.assertEqual(results["frames"].shape, (8, 4, 64, 64, 3))

  def test_blank_and_swapped_predictions_lose_the_digits(self):
    blank = OracleModel(lambda context, j: tf.zeros_like(context[:, -1]))
    results = ri.rollout_accuracy(blank, self.classifier, self.clips, self.options())
    self.assertEqual(results["last_frames_accuracy"], 0.0)
    self.assertEqual(results["last_frames_vanished_fraction"], 1.0)
    swapped = OracleModel(lambda context, j: tf.gather(context[:, -1], [1, 0, 2], axis=-1))
    results = ri.rollout_accuracy(swapped, self.classifier, self.clips, self.options())
    same = np.mean(self.clips.labels[:, 0] == self.clips.labels[:, 1])
    self.assertLessEqual(results["last_frames_accuracy"], same + 0.25)

  def test_each_step_scores_its_own_frame(self):
    # Only future frame 5 (index 4) shows the digits; every other frame is blank.
    def frame_fn(context, j):
      return context[:, -1] if j == 4 else tf.zeros_like(context[:, -1])
    results = ri.rollout_accuracy(OracleModel(frame_fn), self.classifier, self.clips,
                                  self.options())
    accuracy = {e["step"]: e["accuracy"] for e in results["per_step"]}
    self.assertGreaterEqual(accuracy[5], 0.8)
    self.assertEqual([accuracy[s] for s in (1, 11, 12)], [0.0, 0.0, 0.0])

  def test_options_are_checked(self):
    for kwargs, message in ((dict(num_future_frames=0), "num_future_frames"),
                            (dict(num_last_frames=20), "num_last_frames"),
                            (dict(steps=(0,)), "steps"),
                            (dict(steps=()), "steps"),
                            (dict(min_mass=-1.0), "min_mass")):
      with self.assertRaisesRegex(ValueError, message):
        self.options(**kwargs).check()
    self.assertEqual(self.options(steps=(1, 5, 300)).scored_steps(), [1, 5, 11, 12])


class MeasureInputTest(test_case.TestCase):
  """Bad input refused before any work, naming what is wrong."""

  def write_config(self, model, dataset, variant="quick"):
    workdir = self.make_temp_dir()
    config = config_loader.load(model, dataset, variant)
    with open(os.path.join(workdir, workdir_lib.CONFIG_FILE), "w") as f:
      f.write(config.to_json())
    return workdir, config

  def test_a_run_on_another_data_set_is_refused(self):
    workdir, _ = self.write_config("svg_lp", "smmnist")
    classifier, _ = self.write_config("classifier", "mnist_digits")
    with self.assertRaisesRegex(ValueError, "'smmnist'.*two-colour Moving MNIST"):
      ri.measure(workdir, classifier)

  def test_a_classifier_of_other_examples_is_refused(self):
    workdir, _ = self.write_config("drnet_lstm", "mnist")
    classifier, _ = self.write_config("classifier", "kth")
    with self.assertRaisesRegex(ValueError, "classifies examples of shape"):
      ri.measure(workdir, classifier)
    not_classifier, _ = self.write_config("drnet", "mnist")
    with self.assertRaisesRegex(ValueError, "not a classifier"):
      ri.measure(workdir, not_classifier)

  def test_an_output_dir_with_other_files_is_refused(self):
    workdir, _ = self.write_config("drnet_lstm", "mnist")
    classifier, _ = self.write_config("classifier", "mnist_digits")
    output_dir = self.make_temp_dir()
    with open(os.path.join(output_dir, "mine.txt"), "w") as f:
      f.write("keep")
    with self.assertRaisesRegex(ValueError, "holds other files"):
      ri.measure(workdir, classifier, output_dir=output_dir)
    self.assertEqual(os.listdir(output_dir), ["mine.txt"])
    with open(os.path.join(output_dir, "mine.txt")) as f:
      self.assertEqual(f.read(), "keep")


if __name__ == "__main__":
  tf.test.main()
