"""Tests of best-of-N evaluation: selection rules, statistics, end to end on tiny runs."""

import json
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
from skimage import metrics as skimage_metrics
import tensorflow as tf

from tests import test_case
from tests.train import trainer_test
from tfgen.evaluation import evaluate
from tfgen.models import factory
from tfgen.train import checkpointing
from tfgen.train import trainer
from tfgen.utils import config_loader


def train_tiny(model, directory):
  """A 2-step tiny run of `model` on SM-MNIST (context 2, future 2) in `directory`."""
  trainer.train(trainer_test.tiny_config(model, steps=2, batch_size=2), directory)
  return directory


def untrained_workdir(model, directory, config=None, checkpoint=True):
  """A work directory laid out as the trainer's, with the initial weights (seconds, not 20 s).

  `config.json` and a `checkpoints/` checkpoint of the model variables under the trainer's
  keys (`checkpointing.training_checkpoint` without the optimiser slots).

  Args:
    model: config name, e.g. "svg_lp"; the tiny config of `trainer_test.tiny_config`.
    directory: created here.
    config: a config to write instead of the tiny one of `model`.
    checkpoint: False writes only `config.json`.
  """
  config = config or trainer_test.tiny_config(model, steps=2, batch_size=2)
  os.makedirs(directory)
  with open(os.path.join(directory, trainer.CONFIG_FILE), "w") as f:
    f.write(config_loader.to_json(config))
  if not checkpoint:
    return directory
  net = factory.build_model(config.model)
  net.build()
  checkpoint = tf.train.Checkpoint(model=checkpointing.model_trackable(net))
  manager = tf.train.CheckpointManager(
      checkpoint, os.path.join(directory, trainer.CHECKPOINT_DIR), max_to_keep=1)
  manager.save(checkpoint_number=0)
  return directory


class SelectionTest(test_case.TestCase):

  def test_reference_and_per_metric(self):
    # 2 sequences, 3 samples, 2 steps.
    ssim = np.array([[[0.1, 0.1], [0.9, 0.7], [0.5, 0.5]],
                     [[0.2, 0.4], [0.1, 0.1], [0.3, 0.2]]])
    psnr = np.array([[[30., 30.], [10., 10.], [20., 20.]],
                     [[5., 5.], [9., 9.], [1., 1.]]])
    mse = np.array([[[0.5, 0.5], [0.1, 0.1], [0.0, 0.1]],
                    [[0.3, 0.3], [0.2, 0.2], [0.9, 0.9]]])
    scores = {"ssim_legacy": ssim, "psnr": psnr, "mse": mse}
    selected, indices = evaluate.select(scores, "reference")
    # One sample per sequence, by mean legacy SSIM: sample 1, then 0 (0.3 > 0.25).
    for name in scores:
      self.assertAllEqual(indices[name], [1, 0])
    self.assertAllClose(selected["psnr"], [[10., 10.], [5., 5.]])
    selected, indices = evaluate.select(scores, "per_metric")
    self.assertAllEqual(indices["ssim_legacy"], [1, 0])
    self.assertAllEqual(indices["psnr"], [0, 1])
    self.assertAllEqual(indices["mse"], [2, 1])  # Lowest MSE.
    self.assertAllClose(selected["mse"], [[0.0, 0.1], [0.2, 0.2]])
    # Without the legacy SSIM the reference rule uses the Gaussian one.
    _, indices = evaluate.select({"ssim_gaussian": ssim, "psnr": psnr}, "reference")
    self.assertAllEqual(indices["psnr"], [1, 0])

  def test_step_statistics(self):
    values = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    stats = evaluate.step_statistics(values)
    self.assertAllClose(stats["mean"], [3.0, 2.0])
    self.assertAllClose(stats["ci95_halfwidth"], [1.96 * 2.0 / np.sqrt(3), 0.0])
    self.assertTrue(np.all(np.isnan(evaluate.step_statistics(values[:1])["ci95_low"])))

  def test_bad_options(self):
    for kwargs, message in [
        (dict(num_samples=0), "num_samples must be an integer >= 1, got 0"),
        (dict(selection="best"), "Unknown selection 'best'; valid: reference, per_metric, both"),
        (dict(ssim="ms"), "Unknown ssim 'ms'; valid: legacy, gaussian, both"),
        (dict(num_future_frames=-2), "num_future_frames must be an integer >= 1")]:
      with self.assertRaisesRegex(ValueError, message):
        evaluate.EvaluationOptions(**kwargs).check()


class EvaluateTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.lp = train_tiny("svg_lp", os.path.join(cls.root, "lp"))
    cls.det = untrained_workdir("svg_det", os.path.join(cls.root, "det"))

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_scores_match_a_per_sample_skimage_loop(self):
    # The vectorised scores of every (sequence, sample, step) equal skimage's on the
    # samples themselves, and sample s of a batch call is the reference's s-th draw.
    config = evaluate.load_config(self.lp)
    model, _ = evaluate.load_model(self.lp, config)
    video = next(iter(evaluate.test_dataset(config, 2 + 3, batch_size=2)))
    scorer = evaluate.make_scorer(model, 2, 3, 4, ("ssim_legacy", "ssim_gaussian", "psnr"),
                                  return_samples=True, frame_shape=(64, 64, 1))
    out = scorer(video, tf.constant([0, 0], tf.int64))
    samples, truth = out["samples"].numpy(), video.numpy()[:, 2:]
    self.assertEqual(samples.shape, (2, 4, 3, 64, 64, 1))
    self.assertEqual(out["psnr"].shape, (2, 4, 3))
    for b in range(2):
      for s in range(4):
        for t in range(3):
          gt, pred = truth[b, t, ..., 0], samples[b, s, t, ..., 0]
          self.assertAllClose(out["ssim_legacy"][b, s, t],
                              skimage_metrics.structural_similarity(gt, pred, data_range=2.0),
                              atol=1e-4)
          self.assertAllClose(out["ssim_gaussian"][b, s, t],
                              skimage_metrics.structural_similarity(
                                  gt, pred, gaussian_weights=True, sigma=1.5,
                                  use_sample_covariance=False, data_range=1.0), atol=1e-4)
          self.assertAllClose(out["psnr"][b, s, t],
                              skimage_metrics.peak_signal_noise_ratio(gt, pred, data_range=1.0),
                              atol=1e-3)
    # Samples differ (a stochastic model), and the seed reproduces them.
    self.assertGreater(np.abs(samples[:, 0] - samples[:, 1]).max(), 0.0)
    again = scorer(video, tf.constant([0, 0], tf.int64))["samples"].numpy()
    self.assertAllClose(again, samples)

  def test_end_to_end(self):
    output_dir = os.path.join(self.make_temp_dir(), "eval")
    document = evaluate.evaluate(self.lp, num_samples=3, num_future_frames=4,
                                 num_test_sequences=5, batch_size=2, selection="both",
                                 ssim="both", output_dir=output_dir)
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["per_metric.png", "reference.png", "results.csv", "results.json",
                      "scores.npz"])
    with open(os.path.join(output_dir, "results.json")) as f:
      saved = json.load(f)
    self.assertEqual(saved["num_samples"], 3)
    self.assertEqual(saved["num_test_sequences"], 5)
    self.assertEqual(saved["training_horizon"], 2)
    self.assertEqual(saved["training_horizon_frame"], 4)
    self.assertEqual([s["beyond_training_horizon"] for s in saved["steps"]],
                     [False, False, True, True])
    self.assertEqual([s["frame"] for s in saved["steps"]], [3, 4, 5, 6])
    self.assertEqual(set(saved["results"]), {"reference", "per_metric"})
    self.assertEqual(set(saved["results"]["reference"]),
                     {"ssim_legacy", "ssim_gaussian", "psnr", "mse"})
    # Numbers agree with the raw scores: reference = best mean legacy SSIM.
    raw = np.load(os.path.join(output_dir, "scores.npz"))
    ssim = raw["scores_ssim_legacy"]
    self.assertEqual(ssim.shape, (5, 3, 4))
    best = ssim[np.arange(5), ssim.mean(axis=2).argmax(axis=1)]
    self.assertAllClose(saved["results"]["reference"]["ssim_legacy"]["mean"], best.mean(0))
    psnr = raw["scores_psnr"]
    self.assertAllClose(saved["results"]["per_metric"]["psnr"]["mean"],
                        psnr[np.arange(5), psnr.mean(axis=2).argmax(axis=1)].mean(0))
    # Per-metric selection is never worse than the reference's one sample.
    for metric in ("ssim_gaussian", "psnr"):
      self.assertTrue(np.all(
          np.array(saved["results"]["per_metric"][metric]["mean_over_steps"]) >=
          np.array(saved["results"]["reference"][metric]["mean_over_steps"]) - 1e-7))
    with open(os.path.join(output_dir, "results.csv")) as f:
      lines = f.read().splitlines()
    self.assertEqual(len(lines), 1 + 2 * 4 * 4)
    self.assertTrue(lines[0].startswith("model_name,num_samples"))
    self.assertTrue(lines[1].startswith("svg_lp,3,2,5,both,reference,ssim_legacy,1,3,0,"))

  def test_deterministic_model_uses_one_sample(self):
    output_dir = os.path.join(self.make_temp_dir(), "eval")
    document = evaluate.evaluate(self.det, num_samples=5, num_future_frames=3,
                                 num_test_sequences=3, output_dir=output_dir,
                                 selection="both")
    self.assertEqual(document["num_samples"], 1)
    raw = np.load(os.path.join(output_dir, "scores.npz"))
    self.assertEqual(raw["scores_ssim_legacy"].shape, (3, 1, 3))
    for metric in ("ssim_legacy", "psnr", "mse"):
      self.assertEqual(document["results"]["reference"][metric],
                       document["results"]["per_metric"][metric])

  def test_rerun_replaces_outputs_and_a_crash_keeps_them(self):
    output_dir = os.path.join(self.make_temp_dir(), "eval")
    kwargs = dict(num_samples=2, num_future_frames=2, num_test_sequences=2,
                  output_dir=output_dir)
    evaluate.evaluate(self.lp, selection="both", **kwargs)
    with open(os.path.join(output_dir, "stale.txt"), "w") as f:
      f.write("old")
    evaluate.evaluate(self.lp, selection="reference", **kwargs)
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["reference.png", "results.csv", "results.json", "scores.npz"])
    with open(os.path.join(output_dir, "results.json")) as f:
      before = f.read()
    with mock.patch.object(evaluate, "plot", side_effect=RuntimeError("disk full")):
      with self.assertRaisesRegex(RuntimeError, "disk full"):
        evaluate.evaluate(self.lp, selection="per_metric", ssim="gaussian", **kwargs)
    with open(os.path.join(output_dir, "results.json")) as f:
      self.assertEqual(f.read(), before)
    self.assertEqual(os.listdir(os.path.dirname(output_dir)), ["eval"])  # No leftovers.

  def test_errors_before_any_work(self):
    empty = self.make_temp_dir()
    with self.assertRaisesRegex(ValueError, "not a training work directory"):
      evaluate.evaluate(empty)
    # A config but no checkpoint.
    no_checkpoint = self.make_temp_dir()
    shutil.copy(os.path.join(self.lp, "config.json"), no_checkpoint)
    with self.assertRaisesRegex(ValueError, "No checkpoint in"):
      evaluate.evaluate(no_checkpoint)
    # The deterministic model's checkpoint under the SVG-LP config.
    mismatched = self.make_temp_dir()
    shutil.copy(os.path.join(self.lp, "config.json"), mismatched)
    shutil.copytree(os.path.join(self.det, "checkpoints"),
                    os.path.join(mismatched, "checkpoints"))
    with self.assertRaisesRegex(ValueError, "does not match this model"):
      evaluate.evaluate(mismatched)
    with self.assertRaisesRegex(ValueError, "num_samples must be an integer >= 1"):
      evaluate.evaluate(self.lp, num_samples=0)
    # An output directory that is not an evaluation's is never replaced.
    other = self.make_temp_dir()
    with open(os.path.join(other, "notes.txt"), "w") as f:
      f.write("mine")
    with self.assertRaisesRegex(ValueError, "holds other files"):
      evaluate.evaluate(self.lp, output_dir=other)
    with self.assertRaisesRegex(ValueError, "is a training work directory"):
      evaluate.evaluate(self.lp, output_dir=self.lp)
    self.assertFalse(os.path.exists(os.path.join(self.lp, "evaluation")))

  def test_horizon_longer_than_a_fixed_length_dataset(self):
    config = evaluate.load_config(self.lp)
    config.data.name = "bair"
    config.data.options = {}
    with self.assertRaisesRegex(ValueError, "bair test set cannot provide 31 frames"):
      evaluate.test_dataset(config, 31, batch_size=2)


if __name__ == "__main__":
  tf.test.main()
