"""Tests of DrNET's KTH score (eq. 5.8-5.9, Fig. 5.9) and nearest neighbours (Fig. 5.10): a
tiny KTH, a "frames_conv" classifier and an AE-LSTM trained a few steps by the trainer."""

import csv
import json
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
from PIL import Image
import tensorflow as tf

from tests import test_case
from tests.models.classifier import labelled_data_test
from tfgen.evaluation import evaluate as evaluate_lib
from tfgen.evaluation import feature_distances
from tfgen.models.classifier import labelled_data
from tfgen.models.drnet import kth_score
from tfgen.models.drnet import pose_lstm as pose_lstm_lib
from tfgen.train import trainer as trainer_lib
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader

WINDOW, CONTEXT, FUTURE = 4, 2, 6


def classifier_config(data_dir):
  config = config_loader.load("classifier", "kth", "quick")
  config.model.update(dict(example_shape=[WINDOW, 64, 64, 1], filters=[2, 3], hidden_units=5))
  config.data.update(dict(num_frames=WINDOW, data_dir=data_dir))
  config.train.update(dict(steps=3, batch_size=4, log_every=1, checkpoint_every=3))
  return config


def ae_lstm_config(data_dir):
  config = config_loader.load("ae_lstm", "kth", "quick")
  config.model.update(dict(base_filters=2, latent_dim=6, hidden_size=8,
                           num_context_frames=CONTEXT, num_future_frames=3))
  config.data.update(dict(num_frames=5, data_dir=data_dir))
  config.train.update(dict(steps=2, batch_size=2, log_every=1, checkpoint_every=2,
                           image_every=100, num_image_sequences=2))
  return config


def trained_runs(root):
  """`(data_dir, classifier_workdir, predictor_workdir)` under `root`."""
  data_dir = labelled_data_test.prepared_kth(root)
  classifier = os.path.join(root, "classifier")
  trainer_lib.train(classifier_config(data_dir), classifier)
  predictor = os.path.join(root, "ae_lstm")
  trainer_lib.train(ae_lstm_config(data_dir), predictor)
  return data_dir, classifier, predictor


def softmax(logits):
  e = np.exp(logits - logits.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def inception_score(logits):
  """Eq. 5.8-5.9 in numpy: exp(mean_i KL(p(y|x_i) || mean_j p(y|x_j)))."""
  p = softmax(np.asarray(logits, np.float64))
  marginal = p.mean(0)
  return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=-1))))


class KTHScoreTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="kth_score_test_")
    cls.data_dir, cls.classifier_dir, cls.predictor_dir = trained_runs(cls.root)
    cls.output_dir = os.path.join(cls.root, "score")
    cls.document = kth_score.score(cls.classifier_dir, [cls.predictor_dir, cls.predictor_dir],
                                   num_future_frames=FUTURE, batch_size=2,
                                   num_neighbour_candidates=20, output_dir=cls.output_dir,
                                   seed=4)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_scores_are_the_classifier_score_of_each_window(self):
    with open(os.path.join(self.output_dir, kth_score.RESULTS_FILE)) as f:
      document = json.load(f)
    logits = np.load(os.path.join(self.output_dir, "logits.npz"))
    self.assertEqual([run["name"] for run in document["runs"]], ["ae_lstm", "ae_lstm_"])
    for run in document["runs"]:
      self.assertEqual(run["offsets"], list(range(FUTURE - WINDOW + 1)))
      for key, name in (("score", f"{run['name']}_logits"),
                        ("real_score", f"{run['name']}_real_logits")):
        per_offset = logits[name]
        self.assertEqual(per_offset.shape, (FUTURE - WINDOW + 1, 3, 6))  # 3 test clips
        for offset, value in enumerate(run[key]):
          self.assertAlmostEqual(value, feature_distances.classifier_score(
              per_offset[offset])[0], places=12)
          self.assertAlmostEqual(value, inception_score(per_offset[offset]), places=5)

  def test_logits_are_the_classifiers_on_generated_and_real_windows(self):
    classifier, config, _ = workdir_lib.load_model(self.classifier_dir)
    model, predictor_config, _ = workdir_lib.load_model(self.predictor_dir)
    video = np.concatenate([v.numpy() for v in evaluate_lib.test_dataset(
        predictor_config, CONTEXT + FUTURE, batch_size=3)])
    logits = np.load(os.path.join(self.output_dir, "logits.npz"))
    generated = model.generate(video[:, :CONTEXT], FUTURE, 1,
                               seed=tf.constant([4, 0], tf.int64))["samples"][:, 0].numpy()
    for offset in range(FUTURE - WINDOW + 1):
      for frames, name in ((generated, "ae_lstm_logits"),
                           (video[:, CONTEXT:], "ae_lstm_real_logits")):
        expected = classifier(frames[:, offset:offset + WINDOW], training=False).numpy()
        self.assertAllClose(logits[name][offset], expected, atol=test_case.float_tolerance(
            np.abs(expected).max() + 1, 64 * 64 * WINDOW * 9))
    self.assertEqual(config.model.architecture, "frames_conv")

  def test_score_of_peaked_and_flat_predictions(self):
    # Confident, balanced predictions score the number of classes; identical ones 1.
    peaked = np.tile(np.eye(6) * 60.0, (2, 1))  # 12 windows, 6 classes
    flat = np.tile(np.arange(6.0), (12, 1))
    scores = kth_score.scores_by_offset(np.stack([peaked, flat]))
    self.assertAllClose(scores, [6.0, 1.0], atol=1e-6)
    logits = np.random.default_rng(0).normal(size=(3, 10, 6)) * 3
    self.assertAllClose(kth_score.scores_by_offset(logits),
                        [inception_score(l) for l in logits], atol=1e-9)

  def test_csv_and_pictures(self):
    with open(os.path.join(self.output_dir, "kth_score.csv")) as f:
      rows = list(csv.DictReader(f))
    self.assertLen(rows, 2 * (FUTURE - WINDOW + 1))
    first = self.document["runs"][0]
    for row, score, real in zip(rows, first["score"], first["real_score"]):
      self.assertAlmostEqual(float(row["score"]), score, places=5)
      self.assertAlmostEqual(float(row["real_score"]), real, places=5)
    with Image.open(os.path.join(self.output_dir, "kth_score.png")) as image:
      self.assertGreater(image.size[0], 100)
    with Image.open(os.path.join(self.output_dir, "neighbours_ae_lstm.png")) as image:
      # 2 clips x (generated + pixels) rows of 64-pixel frames; frames 0 and 3 shown.
      self.assertEqual(image.size, (2 * 65 + 1, 4 * 65 + 1))
    self.assertEqual(first["neighbour_rows"], ["generated", "pixels"] * 2)

  def test_nearest_neighbours(self):
    rng = np.random.default_rng(1)
    queries, candidates = rng.normal(size=(5, 7)), rng.normal(size=(11, 7))
    brute = [int(np.argmin([np.sum((q - c)**2) for c in candidates])) for q in queries]
    self.assertEqual(kth_score.nearest(queries, candidates).tolist(), brute)

  def test_drnet_spaces_are_pose_and_content_with_pose(self):
    model = pose_lstm_lib.PoseLSTM(
        drnet=dict(base_filters=2, channels=1, content_dim=7, pose_dim=5, sd_nf=3),
        num_context_frames=2, num_future_frames=3, hidden_size=4)
    model.build()
    frames = np.random.default_rng(2).random((3, 64, 64, 1)).astype("float32")
    spaces = kth_score._neighbour_spaces(model)  # pylint: disable=protected-access
    self.assertEqual(list(spaces), ["pose", "content_pose"] + ["pixels"])
    pose = model.drnet.encode_pose(frames, training=False).numpy()
    content = model.drnet.encode_content(frames, training=False)[0].numpy()
    self.assertAllClose(spaces["pose"](frames), pose)
    self.assertAllClose(spaces["content_pose"](frames), np.concatenate([content, pose], -1))
    # A generated frame that is in the training set is its own nearest neighbour.
    candidates = np.concatenate([frames[::-1], frames * 0.0])
    picture, rows = kth_score.neighbour_picture(model, frames[None], candidates, stride=1)
    self.assertEqual(rows, ["generated", "pose", "content_pose", "pixels"])
    pixels_row = picture[1 + 3 * 65:1 + 3 * 65 + 64]
    for j in range(3):
      shown = pixels_row[2:62, 1 + j * 65 + 2:1 + j * 65 + 62]  # inside the border
      self.assertAllClose(shown, np.repeat(frames[j, 2:62, 2:62], 3, axis=-1))

  def test_classifier_accuracy(self):
    classifier, config, _ = workdir_lib.load_model(self.classifier_dir)
    value, count = kth_score.classifier_accuracy(classifier, config)
    self.assertEqual((self.document["classifier_test_accuracy"],
                      self.document["classifier_test_windows"]), (value, count))
    examples = labelled_data.kth_examples("test", WINDOW, data_dir=self.data_dir)
    clips = np.concatenate([c for c, _ in examples.batches(100)])
    predicted = np.argmax(classifier(clips, training=False), -1)
    self.assertEqual(count, len(examples))
    self.assertAlmostEqual(value, np.mean(predicted == examples.labels))

  def test_action_classification_from_sequences_of_vectors(self):
    # Fig. 5.8 on the AE-LSTM baseline's one vector: sequences of 4 frames, few labels.
    from tfgen.models.drnet import vector_classification  # pylint: disable=g-import-not-at-top
    output_dir = os.path.join(self.root, "action")
    document = vector_classification.classify(
        self.predictor_dir, vector="combined", task="action", sequence_length=WINDOW,
        num_labelled_per_class=2, num_validation_examples=1, max_epochs=2, patience=1,
        output_dir=output_dir)
    self.assertEqual((document["num_classes"], document["vector_dim"]), (6, WINDOW * 6))
    train = labelled_data.kth_examples("train", WINDOW, data_dir=self.data_dir)
    # 2 labelled windows of each training action (boxing, walking), 1 for validation.
    self.assertEqual(document["splits"]["train"]["num_examples"],
                     2 * len(set(train.labels.tolist())))
    self.assertEqual(document["splits"]["validation"]["num_examples"],
                     len(set(train.labels.tolist())))
    test = labelled_data.kth_examples("test", WINDOW, data_dir=self.data_dir)
    predictions = np.load(os.path.join(output_dir, "predictions.npz"))
    self.assertAllEqual(predictions["test_labels"], test.labels)
    with self.assertRaisesRegex(ValueError, "Task 'identity' is not defined on data set 'kth'"):
      vector_classification.classify(self.predictor_dir, vector="combined")

  def test_bad_input_is_refused_before_any_frame_is_generated(self):
    output_dir = os.path.join(self.root, "bad")
    with mock.patch.object(evaluate_lib, "test_dataset") as dataset:
      with self.assertRaisesRegex(ValueError, "holds a 'ae_lstm' run .* not the KTH action "
                                  "classifier"):
        kth_score.score(self.predictor_dir, [self.predictor_dir], output_dir=output_dir)
      with self.assertRaisesRegex(ValueError, "does not predict future frames"):
        kth_score.score(self.classifier_dir, [self.classifier_dir], output_dir=output_dir)
      with self.assertRaisesRegex(ValueError, r"num_future_frames \(3\) must be at least the "
                                  "classifier's 4 frames"):
        kth_score.score(self.classifier_dir, [self.predictor_dir], num_future_frames=3,
                        output_dir=output_dir)
      with self.assertRaisesRegex(ValueError, "At least one --workdir"):
        kth_score.score(self.classifier_dir, [], output_dir=output_dir)
      with self.assertRaisesRegex(ValueError, "output_dir is required"):
        kth_score.score(self.classifier_dir, [self.predictor_dir])
      with self.assertRaisesRegex(ValueError, "is a training work directory"):
        kth_score.score(self.classifier_dir, [self.predictor_dir],
                        output_dir=self.predictor_dir)
      dataset.assert_not_called()
    self.assertFalse(os.path.exists(output_dir))
    # A horizon the test clips cannot give (the longest test sub-sequence has 25 frames).
    with self.assertRaisesRegex(ValueError, "test set has no sequence with 52 frames"):
      kth_score.score(self.classifier_dir, [self.predictor_dir], num_future_frames=50,
                      output_dir=output_dir)
    self.assertFalse(os.path.exists(output_dir))


if __name__ == "__main__":
  tf.test.main()
