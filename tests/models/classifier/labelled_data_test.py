"""Tests of the labelled examples (Moving MNIST digits, smallNORB categories, KTH actions) and
of the labelled KTH training stream the classifier family feeds the trainer."""

import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.data import kth_test
from tests.data import smallnorb_test
from tfgen.data import kth as kth_lib
from tfgen.data import kth_annotations
from tfgen.data import mnist as mnist_lib
from tfgen.data import moving_mnist
from tfgen.data import prepare
from tfgen.data import smmnist
from tfgen.data import tfrecords
from tfgen.models import factory
from tfgen.models.classifier import labelled_data
from tfgen.utils import config_loader


def prepared_kth(root):
  """The tiny KTH of tests/data/kth_test.py, prepared into `root/kth_64`."""
  raw = kth_test.write_fake_kth(os.path.join(root, "kth_raw"))
  # Person 1's walking video gets frames of its own (the fixture's equal its boxing video's),
  # so that a clip's frames tell its action.
  kth_test.write_avi(os.path.join(raw, "walking", "person01_walking_d2_uncomp.avi"), value=40)
  out = os.path.join(root, "kth_64")
  prepare.prepare_dataset("kth", raw, out, num_workers=0, num_shards=2, progress=False)
  return out


def record_actions(data_dir, split):
  """`[(action_id, frames)]` of every prepared record, in shard order (independent reader)."""
  shards = tfrecords.complete_shards(data_dir, split)
  out = []
  for _, _, serialized in tfrecords.iter_records([path for path, _ in shards]):
    example = tf.train.Example.FromString(serialized)
    action = example.features.feature["action_id"].int64_list.value[0]
    out.append((action, tfrecords.parse_frames(serialized).numpy()))
  return out


class MovingMNISTExamplesTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    if not test_case.test_data_dir():
      self.skipTest("TFGEN_TEST_DATA is not set")
    self.data_dir = test_case.test_data_dir()

  def test_frames_are_the_data_sets_and_labels_name_the_coloured_digit(self):
    examples = {digit: labelled_data.mnist_examples(
        "train", 7, digit=digit, first_clip=3, seed=5, num_frames=4, data_dir=self.data_dir)
        for digit in (0, 1)}
    frames, labels = next(examples[0].batches(7))
    stream = next(iter(moving_mnist.build("train", batch_size=10, num_frames=4, seed=5,
                                          data_dir=self.data_dir))).numpy()
    # Example k is frame (3 + k) % 4 of clip 3 + k of the training stream.
    for k in range(7):
      self.assertAllEqual(frames[k], stream[3 + k, (3 + k) % 4])
    # Label: the MNIST label of the digit drawn in red (channel 0) / green (channel 1);
    # checked on the pixels: that channel holds the resized MNIST image of that label.
    arrays = mnist_lib.load_mnist_with_labels(self.data_dir)
    resized = smmnist.resize_digits(arrays.x_train, 32).astype(np.float32) / 255
    source = moving_mnist.MovingMNIST("train", num_frames=4, seed=5, data_dir=self.data_dir)
    for digit in (0, 1):
      for k in range(7):
        sequence = source.sequence(3 + k)
        (y, x), = sequence["positions"][(3 + k) % 4, digit:digit + 1]
        index = sequence["digit_indices"][digit]
        self.assertEqual(examples[digit].labels[k], arrays.y_train[index])
        channel = frames[k, y:y + 32, x:x + 32, digit]
        if sequence["front"] == digit:  # Not occluded: the exact digit image.
          self.assertAllClose(channel, resized[index])
    self.assertNotAllEqual(examples[0].labels, examples[1].labels)

  def test_test_split_uses_the_fixed_test_clips(self):
    examples = labelled_data.mnist_examples("test", 3, num_frames=4, seed=99,
                                            data_dir=self.data_dir)
    frames, _ = next(examples.batches(3))
    test = next(iter(moving_mnist.build("test", batch_size=3, num_frames=4, seed=0,
                                        data_dir=self.data_dir))).numpy()
    self.assertAllEqual(frames, test[np.arange(3), np.arange(3) % 4])

  def test_bad_digit(self):
    with self.assertRaisesRegex(ValueError, "digit must be an int in 0..1"):
      labelled_data.mnist_examples("train", 2, digit=2, data_dir=self.data_dir)


class NorbExamplesTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="labelled_norb_")
    for split in ("train", "test"):
      smallnorb_test.write_split(cls.root, split)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_every_image_once_labelled_with_its_category(self):
    for split, objects in (("train", smallnorb_test.TRAIN_OBJECTS),
                           ("test", smallnorb_test.TEST_OBJECTS)):
      examples = labelled_data.norb_examples(split, data_dir=self.root)
      self.assertLen(examples, len(objects) * 2 * 2 * 18)
      frames = np.concatenate([f for f, _ in examples.batches(50)])
      self.assertEqual(frames.shape[1:], (64, 64, 1))
      azimuth, instance, context = smallnorb_test.decode(frames)
      # The fixture's context value is 10 + 40 * category + (at most 30).
      self.assertAllEqual(examples.labels, (context - 10) // 40)
      seen = set(zip(instance.tolist(), context.tolist(), azimuth.tolist()))
      self.assertLen(seen, len(examples))  # Every image once.
      self.assertContainsSubset(set(instance.tolist()), {i for _, i in objects})

  def test_subset_keeps_labels_with_their_images(self):
    examples = labelled_data.norb_examples("test", data_dir=self.root)
    rows = labelled_data.random_subset(len(examples), 9, (3, 0))
    subset = examples.subset(rows)
    frames, labels = next(subset.batches(9))
    self.assertAllEqual(labels, examples.labels[rows])
    self.assertAllEqual(labels, (smallnorb_test.decode(frames)[2] - 10) // 40)


class KTHExamplesTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="labelled_kth_")
    cls.data_dir = prepared_kth(cls.root)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_windows_and_actions_match_the_records(self):
    records = record_actions(self.data_dir, "test")
    examples = labelled_data.kth_examples("test", 6, data_dir=self.data_dir)
    expected_frames, expected_labels = [], []
    for action, frames in records:
      for start in range(0, len(frames) - 5, 6):
        if start + 6 <= len(frames):
          expected_frames.append(frames[start:start + 6])
          expected_labels.append(action)
    clips = np.concatenate([c for c, _ in examples.batches(4)])
    self.assertAllEqual(examples.labels, expected_labels)
    self.assertAllClose(clips, np.stack(expected_frames) / 255.0)
    self.assertEqual(examples.num_classes, 6)
    names = {kth_annotations.ACTIONS[a] for a in examples.labels}
    self.assertEqual(names, {"boxing", "handwaving"})  # Person 17's two videos.
    first = labelled_data.kth_examples("test", 6, data_dir=self.data_dir, windows="first")
    self.assertLen(first, len(records))

  def test_train_stream_is_the_kth_stream_with_actions(self):
    labelled = list(labelled_data.kth_train_stream(5, seed=3, start_index=4,
                                                   data_dir=self.data_dir).take(9))
    plain = next(iter(kth_lib.build("train", batch_size=9, num_frames=5, seed=3,
                                    start_index=4, data_dir=self.data_dir))).numpy()
    self.assertAllClose(np.stack([c.numpy() for c, _ in labelled]) / 255.0, plain)
    # Each clip's action is that of the record it was cut from.
    records = record_actions(self.data_dir, "train")
    for clip, action in labelled:
      owners = {a for a, frames in records
                if any(np.array_equal(frames[s:s + 5], clip.numpy())
                       for s in range(len(frames) - 4))}
      self.assertEqual(owners, {int(action)})
    self.assertLen({int(a) for _, a in labelled}, 2)  # boxing and walking clips

  def test_classifier_family_feeds_labelled_clips(self):
    config = config_loader.load("classifier", "kth", "quick")
    config.model.example_shape = [5, 64, 64, 1]
    config.data.update(dict(num_frames=5, data_dir=self.data_dir))
    family = factory.get_family("classifier")
    family.check_data(config)
    batches = family.training_data(None, config, 4)
    clips, labels = next(iter(batches))
    self.assertEqual(clips.shape, (config.train.batch_size, 5, 64, 64, 1))
    expected = list(labelled_data.kth_train_stream(5, config.train.seed, 4,
                                                   data_dir=self.data_dir).take(8))
    self.assertAllEqual(labels, [int(a) for _, a in expected])
    # Bad data: another data set, or clips that do not match the model's examples.
    config.data.num_frames = 6
    with self.assertRaisesRegex(ValueError, r"example_shape \(5, 64, 64, 1\) does not match"):
      family.check_data(config)
    config.data.name = "mnist"
    with self.assertRaisesRegex(ValueError, "labelled clips of kth; got data set 'mnist'"):
      family.check_data(config)

  def test_per_class_subset(self):
    labels = np.array([0, 1, 1, 2, 2, 2, 0, 1])
    chosen = labelled_data.per_class_subset(labels, 2, (0, 0))
    self.assertAllEqual(np.bincount(labels[chosen]), [2, 2, 2])
    rest = labelled_data.per_class_subset(labels, 5, (0, 1), exclude=chosen)
    self.assertEmpty(np.intersect1d(chosen, rest))
    self.assertLen(rest, len(labels) - 6)


if __name__ == "__main__":
  tf.test.main()
