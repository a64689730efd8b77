"""Tests of LAPGAN's evaluation: one tiny trained LAPGAN, GAN and classifier, evaluated with
tiny counts; every number against direct calls of the library functions."""

import json
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.evaluation import nearest_neighbours_test
from tests.models.classifier import family_test as classifier_family_test
from tests.models.lapgan import tiny
from tfgen.data import registry
from tfgen.evaluation import evaluate as evaluate_lib
from tfgen.evaluation import feature_distances
from tfgen.evaluation import parzen
from tfgen.evaluation import parzen_multiscale
from tfgen.models.lapgan import evaluation
from tfgen.train import trainer

# Tiny counts: 40 samples in Parzen blocks of 10, 12 scored and 11 validation digits.
TINY = dict(num_samples=40, batch_size=10, num_images=12, num_validation_images=11,
            sigma_grid=[0.1, 0.3, 1.0], multiscale_num_images=5, num_noise_samples=7,
            num_train_images=50, num_nn_samples=3, num_neighbours=4, seed=3)


def first_images(config, split, count, seed=3):
  dataset = registry.build(config.data.name, split, batch_size=count, seed=seed,
                           num_frames=None, data_dir=config.data.data_dir,
                           drop_remainder=False)
  return next(iter(dataset))["image"].numpy()


class LAPGANEvaluationTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="tfgen_lapgan_evaluation_test_")
    cls.workdir = os.path.join(cls.root, "lapgan")
    cls.config = tiny.tiny_config(steps=2)
    trainer.train(cls.config, cls.workdir)
    cls.classifier_dir = os.path.join(cls.root, "classifier")
    trainer.train(classifier_family_test.quick_config(steps=2), cls.classifier_dir)
    cls.document = evaluation.evaluate(cls.workdir, classifier_workdir=cls.classifier_dir,
                                       **TINY)
    cls.output_dir = cls.document["output_dir"]
    cls.arrays = dict(np.load(os.path.join(cls.output_dir, "arrays.npz")))

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_files_and_protocol(self):
    self.assertEqual(sorted(os.listdir(self.output_dir)),
                     ["arrays.npz", "nn_features.png", "nn_pixels.png", "results.csv",
                      "results.json", "samples.png"])
    with open(os.path.join(self.output_dir, "results.json")) as f:
      document = json.load(f)
    protocol = document["protocol"]
    self.assertEqual((protocol["num_samples"], protocol["num_images"],
                      protocol["num_validation_images"], protocol["split"],
                      protocol["sigma_split"], protocol["multiscale"],
                      protocol["num_train_images"]), (40, 12, 11, "test", "validation", True, 50))
    self.assertEqual(protocol["pyramid"], {"sizes": [28, 14, 7], "operator": "released",
                                           "coarse_from": "original"})
    self.assertIn("not clipped", protocol["sample_units"])
    self.assertEqual(document["results"]["parzen"]["sigma_grid"], [0.1, 0.3, 1.0])
    self.assertIn("skipped", document["results"]["inception"])
    with open(os.path.join(self.output_dir, "results.csv")) as f:
      rows = [line.split(",") for line in f.read().splitlines()]
    values = {(r[1], r[2]): float(r[3]) for r in rows[1:]}
    self.assertEqual(values[("parzen", "log_likelihood")],
                     document["results"]["parzen"]["mean"])
    self.assertEqual(values[("classifier_features", "frechet_distance")],
                     document["results"]["classifier_features"]["frechet_distance"])

  def test_samples_are_the_models_in_data_units(self):
    model, _ = evaluate_lib.load_model(self.workdir)
    samples = self.arrays["samples"]
    self.assertEqual(samples.shape, (40, 28, 28, 1))
    expected = model.sample(40, tf.constant([3, 0], tf.int64))  # One batch of 500: (seed, 0).
    # Units: the z-scoring undone, not clipped: from_display takes them back.
    self.assertAllClose(model.from_display(samples), expected, atol=1e-4)
    self.assertAllClose(evaluation.unclipped_display(model, expected), samples, atol=1e-6)

  def test_parzen_numbers_equal_direct_calls(self):
    test = first_images(self.config, "test", 12)
    validation = first_images(self.config, "validation", 11)
    direct = parzen.evaluate(self.arrays["samples"], test, validation, sigmas=[0.1, 0.3, 1.0],
                             batch_size=10)
    result = self.document["results"]["parzen"]
    self.assertEqual(result["sigma"], direct.sigma)
    self.assertAllClose(result["validation_means"], direct.validation_means, rtol=1e-12)
    for key in ("mean", "standard_error", "standard_deviation"):
      self.assertAlmostEqual(result[key], getattr(direct, key), delta=1e-9 * abs(direct.mean))
    self.assertAllClose(self.arrays["parzen_log_likelihoods"], direct.log_likelihoods)

  def test_multiscale_numbers_equal_direct_calls(self):
    model, _ = evaluate_lib.load_model(self.workdir)
    test = first_images(self.config, "test", 5)
    validation = first_images(self.config, "validation", 5)  # As many as the scored images.
    train = first_images(self.config, "train", 50)
    grids = [np.array([0.1, 0.3, 1.0]) * 2.0**k for k in range(3)]
    direct = parzen_multiscale.evaluate(
        test, validation, parzen_multiscale.coarsen(train, 2).numpy(),
        evaluation.level_generator(model, 3, 7), 2, 7, sigma_grids=grids)
    result = self.document["results"]["parzen_multiscale"]
    self.assertEqual(result["sigmas"], direct.sigmas)
    self.assertAllClose(self.arrays["parzen_multiscale_log_likelihoods"],
                        direct.log_likelihoods, rtol=1e-9)
    self.assertAlmostEqual(result["mean"], direct.mean, delta=1e-9 * abs(direct.mean))
    same = result["single_scale_same_images"]
    self.assertAlmostEqual(same["mean"], self.arrays["parzen_log_likelihoods"][:5].mean())
    self.assertEqual(same["num_images"], 5)

  def test_level_generator_adds_the_models_residual(self):
    # One image, two noise draws: u(x_{k+1}) + G_k(z, u(x_{k+1})), drawn by the level itself.
    model, _ = evaluate_lib.load_model(self.workdir)
    coarse = first_images(self.config, "test", 2)[:, ::2, ::2]  # (2, 14, 14, 1) in [0, 1]
    generated = evaluation.level_generator(model, 0, 3)(0, coarse, tf.range(3))
    self.assertEqual(generated.shape, (2, 3, 28, 28, 1))
    level = model.levels[0]
    low = level.pyramid.enlarge(model.from_display(coarse), 28)
    drawn = tf.random.stateless_uniform((3, 28, 28, 1), (0, 0), -1.0, 1.0)
    for i in range(2):
      expected = level.generate(drawn, tf.repeat(low[i:i + 1], 3, axis=0), training=False)
      self.assertAllClose(model.from_display(generated[i]), expected, atol=1e-4)

  def test_feature_metrics_equal_direct_calls(self):
    from tfgen.models.classifier import scoring  # pylint: disable=g-import-not-at-top
    classifier, _, _ = scoring.load(self.classifier_dir)
    test = first_images(self.config, "test", 12)
    shown = np.clip(self.arrays["samples"], 0.0, 1.0)
    real_features, real_logits = feature_distances.classifier_outputs(classifier, test)
    fake_features, fake_logits = feature_distances.classifier_outputs(classifier, shown)
    result = self.document["results"]["classifier_features"]
    self.assertAlmostEqual(result["frechet_distance"],
                           feature_distances.frechet_distance(real_features, fake_features),
                           places=6)
    self.assertAlmostEqual(result["kid"], feature_distances.kernel_distance(
        real_features, fake_features, seed=3)[0], places=8)
    self.assertAlmostEqual(result["classifier_score"],
                           feature_distances.classifier_score(fake_logits)[0], places=6)
    self.assertAlmostEqual(result["classifier_score_real_images"],
                           feature_distances.classifier_score(real_logits)[0], places=6)
    train = first_images(self.config, "train", 50)
    train_features, _ = feature_distances.classifier_outputs(classifier, train)
    expected, _ = nearest_neighbours_test.brute_force(fake_features[:3], train_features, 4)
    self.assertAllEqual(self.arrays["nn_feature_indices"], expected)

  def test_pixel_neighbours_equal_brute_force(self):
    train = first_images(self.config, "train", 50)
    expected, distances = nearest_neighbours_test.brute_force(self.arrays["samples"][:3], train,
                                                              4)
    self.assertAllEqual(self.arrays["nn_pixel_indices"], expected)
    self.assertAllClose(self.arrays["nn_pixel_distances"], distances, rtol=1e-6)
    self.assertEqual(self.document["results"]["nearest_neighbours"]["pixels"]["indices"],
                     expected.tolist())

  # ------------------------------------------------------------------ bad input

  @test_case.parameterized.named_parameters(
      ("sigma_zero", dict(sigma_grid=[0.1, 0.0]), "sigma_grid must hold finite positive"),
      ("sigma_text", dict(sigma_grid=["a"]), "sigma_grid must be a list of numbers"),
      ("fewer_samples_than_batch", dict(num_samples=5), "fewer than the Parzen batch"),
      ("split", dict(split="dev"), "Unknown split 'dev'"),
      ("no_classifier", dict(classifier_workdir="{root}/nothing"), "not a training work"),
      ("classifier_is_lapgan", dict(classifier_workdir="{workdir}"), "not a classifier"),
      ("inception", dict(inception_weights="{root}/none.h5"), "inception_weights: no file"),
      ("haar", dict(haar_form="mean"), "Unknown haar_form"),
  )
  def test_bad_options_fail_before_any_work(self, overrides, message):
    overrides = {k: (v.format(root=self.root, workdir=self.workdir) if isinstance(v, str)
                     else v) for k, v in overrides.items()}
    output = os.path.join(self.make_temp_dir(), "out")
    with mock.patch.object(evaluation, "draw_samples") as draw:
      with self.assertRaisesRegex(ValueError, message):
        evaluation.evaluate(self.workdir, **{**TINY, "output_dir": output, **overrides})
    draw.assert_not_called()
    self.assertFalse(os.path.exists(output))

  def test_workdir_without_trained_model(self):
    empty = self.make_temp_dir()
    with self.assertRaisesRegex(ValueError, "not a training work directory"):
      evaluation.evaluate(empty, **TINY)
    untrained = self.make_temp_dir()
    shutil.copy(os.path.join(self.workdir, "config.json"), untrained)
    with self.assertRaisesRegex(ValueError, "No checkpoint"):
      evaluation.evaluate(untrained, **TINY)

  def test_data_of_another_shape_or_scaling(self):
    model, _ = evaluate_lib.load_model(self.workdir)
    images = first_images(self.config, "test", 4)
    with mock.patch.object(evaluation, "draw_samples") as draw:
      with mock.patch.object(registry, "build", return_value=tf.data.Dataset.from_tensors(
          {"image": images[:, :14, :14], "label": np.zeros(4, np.int32)})):
        with self.assertRaisesRegex(ValueError, r"shape \(14, 14, 1\); the model makes"):
          evaluation.evaluate(self.workdir, **TINY, output_dir=self.make_temp_dir() + "/o")
      with mock.patch.object(registry, "build", return_value=tf.data.Dataset.from_tensors(
          {"image": images * 255.0, "label": np.zeros(4, np.int32)})):
        with self.assertRaisesRegex(ValueError, r"not in \[0, 1\]"):
          evaluation.evaluate(self.workdir, **TINY, output_dir=self.make_temp_dir() + "/o")
    draw.assert_not_called()
    del model

  def test_failure_while_writing_keeps_the_previous_results(self):
    output = os.path.join(self.make_temp_dir(), "out")
    shutil.copytree(self.output_dir, output)
    before = sorted(os.listdir(output))
    with mock.patch.object(evaluation.images_lib, "save_png", side_effect=OSError("disk")):
      with self.assertRaisesRegex(OSError, "disk"):
        evaluation.evaluate(self.workdir, **{**TINY, "output_dir": output,
                                             "multiscale": False})
    self.assertEqual(sorted(os.listdir(output)), before)
    self.assertEqual(os.listdir(os.path.dirname(output)), ["out"])  # No staging left.

  def test_refuses_a_directory_of_other_files(self):
    output = self.make_temp_dir()
    with open(os.path.join(output, "mine.txt"), "w") as f:
      f.write("keep")
    with self.assertRaisesRegex(ValueError, "holds other files"):
      evaluation.evaluate(self.workdir, **TINY, output_dir=output)

  def test_plain_gan_skips_the_multiscale_estimate(self):
    workdir = os.path.join(self.root, "gan")
    trainer.train(tiny.tiny_config(steps=2, model="gan"), workdir)
    with self.assertRaisesRegex(ValueError, "one-level model"):
      evaluation.evaluate(workdir, **{**TINY, "multiscale": True})
    document = evaluation.evaluate(workdir, **TINY)
    self.assertFalse(document["protocol"]["multiscale"])
    self.assertIn("one-level model", document["results"]["parzen_multiscale"]["skipped"])
    self.assertIn("no classifier_workdir", document["results"]["classifier_features"]["skipped"])
    self.assertEqual(sorted(os.listdir(document["output_dir"])),
                     ["arrays.npz", "nn_pixels.png", "results.csv", "results.json",
                      "samples.png"])


if __name__ == "__main__":
  test_case.tf.test.main()
