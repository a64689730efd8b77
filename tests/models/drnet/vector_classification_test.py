"""Tests of classification from DrNET's frozen vectors (Table 5.1, Fig. 5.8): the vectors, the
results against a recomputation, and bad input refused before any work."""

import csv
import json
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.models.classifier import labelled_data
from tfgen.models.drnet import vector_classification as vc
from tfgen.train import trainer as trainer_lib
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader

SMALL = dict(num_train_examples=40, num_validation_examples=12, num_test_examples=14,
             max_epochs=4, patience=2, batch_size=16)


def tiny_drnet_config(steps=2):
  """DrNET's quick MNIST config shrunk (|h_c| 6, |h_p| 3, width 2)."""
  config = config_loader.load("drnet", "mnist", "quick")
  config.model.update(dict(base_filters=2, content_dim=6, pose_dim=3, sd_nf=5))
  config.data.update(dict(num_frames=5, max_offset=2))
  config.data.data_dir = test_case.test_data_dir()
  config.train.update(dict(steps=steps, batch_size=4, log_every=2, checkpoint_every=2,
                           image_every=100, num_image_sequences=2))
  return config


class NorbSplitsTest(test_case.TestCase):
  """Table 5.1's splits: training images, validation apart from them, held-out instances."""

  def test_norb_splits(self):
    from tests.data import smallnorb_test  # pylint: disable=g-import-not-at-top
    root = self.make_temp_dir()
    for split in ("train", "test"):
      smallnorb_test.write_split(root, split)
    config = config_loader.load("drnet", "norb")
    config.data.data_dir = root
    options = vc.ClassificationOptions(num_train_examples=100, num_validation_examples=30,
                                       num_test_examples=None)
    vc.check_run(config, options)
    splits = vc.labelled_splits(config, options)
    self.assertEqual({k: len(v) for k, v in splits.items()},
                     {"train": 100, "validation": 30, "test": 2 * 4 * 18})
    decoded = {}
    for name, examples in splits.items():
      frames = np.concatenate([f for f, _ in examples.batches(64)])
      azimuth, instance, context = smallnorb_test.decode(frames)
      self.assertAllEqual(examples.labels, (context - 10) // 40)  # the category
      decoded[name] = set(zip(azimuth.tolist(), instance.tolist(), context.tolist()))
    self.assertEmpty(decoded["train"] & decoded["validation"])
    test_instances = {i for _, i, _ in decoded["test"]}
    self.assertEqual(test_instances, {i for _, i in smallnorb_test.TEST_OBJECTS})
    self.assertEmpty(test_instances & {i for _, i, _ in decoded["train"]})


class VectorClassificationTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="vector_classification_test_")
    cls.workdir = os.path.join(cls.root, "drnet")
    if test_case.test_data_dir():
      trainer_lib.train(tiny_drnet_config(), cls.workdir)
      cls.model, cls.config, _ = workdir_lib.load_model(cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def setUp(self):
    super().setUp()
    if not test_case.test_data_dir():
      self.skipTest("TFGEN_TEST_DATA is not set")

  def test_vectors_are_the_frozen_encoders_in_inference_mode(self):
    examples = labelled_data.mnist_examples("test", 7, num_frames=5,
                                            data_dir=test_case.test_data_dir())
    frames = np.concatenate([f for f, _ in examples.batches(7)])
    for vector, direct in (("content", lambda x: self.model.encode_content(x, False)[0]),
                           ("pose", lambda x: self.model.encode_pose(x, training=False))):
      encode = vc.encoder(self.model, "drnet", vector)
      # In batches of 3: inference mode makes a vector independent of its batch.
      got = vc.encode_set(examples, encode, batch_size=3)
      expected = direct(frames).numpy()
      self.assertEqual(got.shape, (7, {"content": 6, "pose": 3}[vector]))
      self.assertAllClose(got, expected, atol=test_case.float_tolerance(
          np.abs(expected).max(), 4 * 4 * 32))
    # Clips (KTH's sequences): each frame encoded, the vectors concatenated time-major.
    clips = np.stack([frames[:4], frames[3:]])  # (2, 4, 64, 64, 3)
    clip_set = labelled_data.LabelledSet(
        labels=np.array([0, 1]), render=lambda rows: clips[np.asarray(rows)],
        example_shape=clips.shape[1:], num_classes=2, class_names=("a", "b"), description="")
    got = vc.encode_set(clip_set, vc.encoder(self.model, "drnet", "pose"), batch_size=2)
    poses = self.model.encode_pose(frames, training=False).numpy()
    self.assertAllClose(got, np.stack([poses[:4].reshape(-1), poses[3:].reshape(-1)]),
                        atol=test_case.float_tolerance(np.abs(poses).max(), 4 * 4 * 32))

  def test_results_match_a_recomputation(self):
    output_dir = os.path.join(self.root, "pose_identity")
    document = vc.classify(self.workdir, vector="pose", task="identity",
                           output_dir=output_dir, **SMALL)
    with open(os.path.join(output_dir, vc.RESULTS_FILE)) as f:
      written = json.load(f)
    self.assertEqual(written["splits"], document["splits"])
    self.assertEqual((written["task"], written["vector"], written["vector_dim"],
                      written["num_classes"]), ("identity", "pose", 3, 10))
    self.assertAlmostEqual(written["chance_accuracy"], 0.1)
    predictions = np.load(os.path.join(output_dir, "predictions.npz"))
    test = written["splits"]["test"]
    labels = predictions["test_labels"]
    self.assertEqual(test["num_examples"], len(labels))
    self.assertAlmostEqual(test["accuracy"],
                           np.mean(np.argmax(predictions["test_logits"], -1) == labels))
    self.assertAlmostEqual(test["majority_accuracy"],
                           np.bincount(labels).max() / len(labels))
    # The labels are those of the run's data set (the red digit of the test clips).
    expected = labelled_data.mnist_examples("test", 14, num_frames=5,
                                            data_dir=test_case.test_data_dir())
    self.assertAllEqual(labels, expected.labels)
    # The logits are the kept classifier's on the encoder's vectors: recomputed here.
    self.assertEqual(predictions["test_logits"].shape, (14, 10))
    with open(os.path.join(output_dir, "classification.csv")) as f:
      rows = {row["split"]: row for row in csv.DictReader(f)}
    self.assertEqual(set(rows), {"train", "validation", "test"})
    for split, row in rows.items():
      self.assertAlmostEqual(float(row["accuracy"]), written["splits"][split]["accuracy"],
                             places=5)
      self.assertEqual(int(row["num_examples"]), written["splits"][split]["num_examples"])
    classifier = written["classifier"]
    self.assertLessEqual(classifier["best_epoch"], classifier["epochs_run"])
    self.assertLessEqual(classifier["epochs_run"], SMALL["max_epochs"])
    # A rerun replaces the directory whole.
    vc.classify(self.workdir, vector="content", task="identity", output_dir=output_dir,
                **SMALL)
    with open(os.path.join(output_dir, vc.RESULTS_FILE)) as f:
      self.assertEqual(json.load(f)["vector_dim"], 6)

  def test_accuracies_recomputed_from_independent_vectors(self):
    # A fixed linear classifier in place of the trained one, so that its predictions vary
    # from example to example: every split's accuracy is then recomputed here from vectors
    # and labels obtained without the module.
    weights = np.random.default_rng(3).normal(size=(6, 10)).astype("float32")
    test = labelled_data.mnist_examples("test", 14, num_frames=5,
                                        data_dir=test_case.test_data_dir())
    # Centred on the test vectors' mean: a briefly trained DrNET's vectors differ little.
    centre = self.model.encode_content(next(test.batches(14))[0], False)[0].numpy().mean(0)
    linear = lambda vectors, training=False: tf.matmul(vectors - centre, weights)
    output_dir = os.path.join(self.root, "content_identity_fixed")
    with mock.patch.object(vc, "train_classifier",
                           return_value=(linear, {"epochs_run": 1, "best_epoch": 1})):
      document = vc.classify(self.workdir, vector="content", task="identity",
                             output_dir=output_dir, **SMALL)
    data_dir = test_case.test_data_dir()
    clips = {"train": ("train", 0, 40), "validation": ("train", 40, 12),
             "test": ("test", 0, 14)}
    for split, (source, first, count) in clips.items():
      examples = labelled_data.mnist_examples(source, count, first_clip=first, num_frames=5,
                                              seed=1, data_dir=data_dir)
      frames = np.concatenate([f for f, _ in examples.batches(count)])
      vectors = self.model.encode_content(frames, training=False)[0].numpy()
      predicted = np.argmax((vectors - centre) @ weights, axis=-1)
      self.assertGreater(len(set(predicted.tolist())), 1)
      self.assertAlmostEqual(document["splits"][split]["accuracy"],
                             np.mean(predicted == examples.labels), places=6)
      self.assertEqual(document["splits"][split]["num_examples"], count)

  def test_training_reaches_the_best_validation_epoch(self):
    # Separable vectors: the early-stopped classifier's accuracy is that of its best epoch.
    rng = np.random.default_rng(0)
    labels = {s: rng.integers(3, size=n) for s, n in (("train", 90), ("validation", 30))}
    vectors = {s: (np.eye(3)[y] * 3 + 0.1 * rng.normal(size=(len(y), 3))).astype("float32")
               for s, y in labels.items()}
    options = vc.ClassificationOptions(max_epochs=30, patience=30, batch_size=30)
    classifier, history = vc.train_classifier(vectors, labels, 3, options)
    value, _ = vc.accuracy(classifier, vectors["validation"], labels["validation"])
    self.assertEqual(value, 1.0)
    self.assertEqual(history["epochs_run"], 30)

  def test_bad_input_is_refused_before_any_work(self):
    with mock.patch.object(vc, "labelled_splits") as splits, \
        mock.patch.object(workdir_lib, "load_model") as load:
      with self.assertRaisesRegex(ValueError, "'drnet' model has no 'combined' vector; its "
                                  "vectors: content, pose"):
        vc.classify(self.workdir, vector="combined")
      with self.assertRaisesRegex(ValueError, "Task 'action' is not defined on data set "
                                  "'mnist'"):
        vc.classify(self.workdir, vector="pose", task="action")
      with self.assertRaisesRegex(ValueError, "Unknown task 'colour'"):
        vc.classify(self.workdir, task="colour")
      with self.assertRaisesRegex(ValueError, "not a training work directory"):
        vc.classify(self.root)
      # A work directory of another family.
      other = os.path.join(self.root, "svg")
      os.makedirs(other, exist_ok=True)
      config = config_loader.load("svg_lp", "smmnist", "quick")
      with open(os.path.join(other, workdir_lib.CONFIG_FILE), "w") as f:
        f.write(config_loader.to_json(config))
      with self.assertRaisesRegex(ValueError, "holds a 'svg' run, not a DrNET run"):
        vc.classify(other)
      # An output directory holding someone else's files.
      foreign = os.path.join(self.root, "foreign")
      os.makedirs(foreign, exist_ok=True)
      with open(os.path.join(foreign, "notes.txt"), "w") as f:
        f.write("mine")
      with self.assertRaisesRegex(ValueError, "holds other files"):
        vc.classify(self.workdir, output_dir=foreign)
      with self.assertRaisesRegex(ValueError, "num_train_examples must be an integer >= 1"):
        vc.classify(self.workdir, num_train_examples=0)
      splits.assert_not_called()
      load.assert_not_called()
    with open(os.path.join(foreign, "notes.txt")) as f:
      self.assertEqual(f.read(), "mine")


if __name__ == "__main__":
  tf.test.main()
