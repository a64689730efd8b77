"""Tests of the AE-LSTM baseline: sizes, which loss trains what, the rollout, and one run
through the trainer, the pictures, the evaluation and the export."""

import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.evaluation import evaluate
from tfgen.export import exporter
from tfgen.models.drnet import ae_lstm as ae_lstm_lib
from tfgen.models.drnet import prediction_pictures
from tfgen.train import trainer as trainer_lib
from tfgen.utils import config_loader

# batch 6, context 3, future 4, latent 7, 2 channels, 8 LSTM units.
BATCH, CONTEXT, FUTURE, LATENT, CHANNELS, HIDDEN = 6, 3, 4, 7, 2, 8


def tiny_ae(**kwargs):
  fields = dict(base_filters=2, channels=CHANNELS, latent_dim=LATENT, encoder="dcgan_unet",
                num_context_frames=CONTEXT, num_future_frames=FUTURE, hidden_size=HIDDEN)
  model = ae_lstm_lib.AELSTM(**{**fields, **kwargs})
  model.build()
  rng = np.random.default_rng(0)
  # Weights at He / 1 / sqrt(fan_in) scale: outputs then depend on inputs (see drnet_test).
  for variable in model.weights:
    if len(variable.shape) == 4:
      fan_in = np.prod(variable.shape[:2]) * variable.shape[2]
      variable.assign(rng.normal(0.0, np.sqrt(2.0 / fan_in), variable.shape).astype("float32"))
    elif len(variable.shape) == 2:
      variable.assign(rng.normal(0.0, np.sqrt(1.0 / variable.shape[0]), variable.shape)
                      .astype("float32"))
  return model


def clip(time=CONTEXT + FUTURE, seed=0):
  return np.random.default_rng(seed).random((BATCH, time, 64, 64, CHANNELS)).astype("float32")


class AELSTMTest(test_case.TestCase):

  def test_parameter_counts(self):
    # DrNET's MNIST sizes: the decoder of 133 numbers is DrNET's D (DRNET_FACTS §3
    # "mnist_thesis" netD 3,848,003); the LSTM of 133 -> 133 is DrNET's LSTM (133 -> 5)
    # with a wider head (+ 256 * 128 + 128).
    model = ae_lstm_lib.AELSTM(latent_dim=133)
    model.build()
    summary = trainer_lib.parameter_summary(model)
    self.assertEqual(summary["trainable_parameters"]["decoder"], 3_848_003)
    self.assertEqual(summary["trainable_parameters"]["latent_lstm"],
                     1_086_213 + 256 * 128 + 128)
    self.assertEqual(summary["reference_equivalent_parameters"]["latent_lstm"],
                     1_088_261 + 256 * 128 + 128)

  def test_each_loss_trains_its_part(self):
    model = tiny_ae()
    video = tf.constant(clip())
    with tf.GradientTape(persistent=True) as tape:
      losses = model.compute_losses(video, training=True)
    encoder = model.encoder.trainable_variables
    lstm = model.latent_lstm.trainable_variables
    # The prediction loss reaches the LSTM only (its targets are fixed codes) ...
    self.assertTrue(all(g is None for g in tape.gradient(losses["prediction_loss"], encoder)))
    self.assertTrue(all(g is not None for g in tape.gradient(losses["prediction_loss"], lstm)))
    # ... and the reconstruction loss the autoencoder only.
    self.assertTrue(all(g is None for g in tape.gradient(losses["reconstruction_loss"], lstm)))
    self.assertTrue(any(g is not None for g in
                        tape.gradient(losses["reconstruction_loss"], encoder)))
    # Reconstructions use the skips of the last context frame.
    codes, skips = model.encode_clip(video, training=False)
    _, expected = model.encode(video[:, CONTEXT - 1], training=False)
    for s, e in zip(skips, expected):
      self.assertAllClose(s, e)

  def test_rollout_equals_step_by_step(self):
    model = tiny_ae()
    context = clip(time=CONTEXT)
    frames, codes = model.predict_future(context, 5, return_poses=True)
    h, skips = model.encode(context[:, -1], training=False)
    state = model.latent_lstm.initial_state(BATCH)
    code = None
    for t in range(CONTEXT):
      code, _ = model.encode(context[:, t], training=False)
      if t < CONTEXT - 1:
        _, state = model.latent_lstm.step(code, state)
    expected_codes, expected_frames = [], []
    for _ in range(5):
      code, state = model.latent_lstm.step(code, state)
      expected_codes.append(code.numpy())
      expected_frames.append(model.decode(code, skips, training=False).numpy())
    self.assertCloseForAccumulation(codes, np.stack(expected_codes, 1), HIDDEN * 5, scale=1.0)
    self.assertCloseForAccumulation(frames, np.stack(expected_frames, 1), 4 * 4 * 8 * 5,
                                    scale=1.0)
    del h

  def test_config_round_trip_and_bad_options(self):
    self.run_config_round_trip(tiny_ae())
    with self.assertRaisesRegex(ValueError, "Unknown encoder 'resnet'; valid: dcgan"):
      ae_lstm_lib.AELSTM(encoder="resnet")


class AELSTMRunTest(test_case.TestCase):

  def test_train_generate_evaluate_export(self):
    root = tempfile.mkdtemp(prefix="ae_lstm_test_")
    self.addCleanup(shutil.rmtree, root, ignore_errors=True)
    config = config_loader.load("ae_lstm", "mnist", "quick")
    config.model.update(dict(base_filters=2, latent_dim=6, hidden_size=8,
                             num_context_frames=2, num_future_frames=3))
    config.data.num_frames = 5
    config.data.data_dir = test_case.test_data_dir()
    config.train.update(dict(steps=2, batch_size=4, log_every=1, checkpoint_every=2,
                             image_every=100, num_image_sequences=2))
    workdir = os.path.join(root, "ae")
    metrics = trainer_lib.train(config, workdir)
    self.assertEqual(set(metrics), {"loss", "reconstruction_loss", "prediction_loss"})
    pictures = prediction_pictures.write_samples(workdir, num_future_frames=4,
                                                 num_sequences=2)
    self.assertEqual(sorted(os.listdir(pictures)),
                     ["prediction_pictures.txt", "sequence_000.gif", "sequence_000.png",
                      "sequence_001.gif", "sequence_001.png"])
    document = evaluate.evaluate(workdir, num_test_sequences=2, num_future_frames=3,
                                 output_dir=os.path.join(root, "evaluation"))
    self.assertEqual(document["model_name"], "ae_lstm")
    self.assertEqual(document["num_samples"], 1)
    path = exporter.export_workdir(workdir, os.path.join(root, "export"))
    loaded = tf.saved_model.load(path)
    outputs = loaded.signatures["serving_default"](context=tf.zeros((1, 2, 64, 64, 3)),
                                                   num_future_frames=tf.constant(4))
    self.assertEqual(outputs["frames"].shape, (1, 4, 64, 64, 3))
    self.assertEqual(outputs["poses"].shape, (1, 4, 6))


if __name__ == "__main__":
  tf.test.main()
