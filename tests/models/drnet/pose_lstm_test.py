"""Tests of DrNET's pose LSTM: parameter counts, the loss, teacher forcing, frozen networks,
the rollout, and its training through the trainer (DrNET run -> LSTM run, exact resume,
bad DrNET work directories)."""

import json
import os
import shutil
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

from tests import test_case
from tests.models.drnet import drnet_test
from tfgen.models import factory
from tfgen.models.drnet import lstm_family
from tfgen.models.drnet import pose_lstm as pose_lstm_lib
from tfgen.train import checkpointing
from tfgen.train import trainer as trainer_lib
from tfgen.utils import config_loader

# Different sizes on every axis: batch 6, context 3, future 4, pose 5, content 7, 2 channels.
BATCH, CONTEXT, FUTURE, POSE, CONTENT, CHANNELS, HIDDEN = 6, 3, 4, 5, 7, 2, 8
DRNET = dict(base_filters=2, channels=CHANNELS, content_dim=CONTENT, pose_dim=POSE, sd_nf=9,
             content_encoder="dcgan_unet")


def tiny_lstm(**kwargs):
  fields = dict(drnet=DRNET, num_context_frames=CONTEXT, num_future_frames=FUTURE,
                hidden_size=HIDDEN)
  model = pose_lstm_lib.PoseLSTM(**{**fields, **kwargs})
  model.build()
  # At He scale the untrained DrNET's poses depend on the frames (see drnet_test); its
  # variables are not trainable here, so they are redrawn by hand.
  rng = np.random.default_rng(0)
  for variable in model.drnet.weights:
    if len(variable.shape) == 4:
      fan_in = np.prod(variable.shape[:2]) * variable.shape[2]
      variable.assign(rng.normal(0.0, np.sqrt(2.0 / fan_in), variable.shape).astype("float32"))
  # Likewise the LSTM's matrices at 1 / sqrt(fan_in): its predictions then depend on its
  # inputs at order 1 (at the reference's init, by ~1e-4).
  for variable in model.pose_lstm.weights:
    if len(variable.shape) == 2:
      variable.assign(rng.normal(0.0, np.sqrt(1.0 / variable.shape[0]), variable.shape)
                      .astype("float32"))
  return model


def clip(time=CONTEXT + FUTURE, seed=0):
  return drnet_test.clip(batch=BATCH, time=time, channels=CHANNELS, seed=seed)


def manual_teacher_forcing(model, video):
  """drnet-py's loop: one LSTM step per transition on the encoder's real poses."""
  poses, content, _ = model.encode_clip(video)
  state = model.pose_lstm.initial_state(BATCH)
  predictions = []
  for t in range(video.shape[1] - 1):
    inputs = tf.concat([poses[:, t], content], axis=-1)  # pose first
    predicted, state = model.pose_lstm.step(inputs, state)
    predictions.append(predicted)
  return poses.numpy(), np.stack([p.numpy() for p in predictions], axis=1)


class PoseLSTMTest(test_case.TestCase):

  @test_case.parameterized.named_parameters(
      # DRNET_FACTS §3: (content_dim, pose_dim) -> LSTM parameters, PyTorch (two bias
      # vectors per cell) and Keras (one: 2,048 fewer).
      ("thesis", 128, 5, 1_088_261, 1_086_213),
      ("py_default", 128, 10, 1_090_826, 1_088_778),
      ("lua_skip", 64, 16, 1_077_520, 1_075_472),
      ("lua_default", 64, 5, 1_071_877, 1_069_829),
  )
  def test_parameter_counts_match_reference(self, content_dim, pose_dim, torch_count,
                                            keras_count):
    model = pose_lstm_lib.PoseLSTM(drnet=dict(content_dim=content_dim, pose_dim=pose_dim,
                                              content_encoder="dcgan"))
    model.build()
    summary = trainer_lib.parameter_summary(model)
    self.assertEqual(summary["trainable_parameters"], {"pose_lstm": keras_count})
    self.assertEqual(summary["reference_equivalent_parameters"], {"pose_lstm": torch_count})
    # The DrNET networks are frozen: nothing else of the model is trainable.
    self.assertEqual(test_case.count_parameters(model), keras_count)

  def test_loss_is_summed_per_transition_mse_of_matching_shapes(self):
    model = tiny_lstm()
    video = clip()
    poses, predictions = manual_teacher_forcing(model, video)
    # (B, P) against (B, P) per transition, mean over both, summed over the T - 1 = 6.
    per_transition = ((predictions - poses[:, 1:]) ** 2).mean(axis=(0, 2))
    losses = model.compute_losses(video)
    self.assertCloseForAccumulation(losses["loss"], per_transition.sum(), BATCH * POSE * 6)
    self.assertCloseForAccumulation(losses["pose_mse"], per_transition.mean(), BATCH * POSE * 6)
    self.assertEqual(model.pose_loss(tf.constant(predictions), poses[:, 1:]).shape, (6,))
    # drnet-py's (B, P) vs (B, P, 1, 1) broadcast would average (B, P, B, P) differences:
    # a different number, which this loss is not.
    broadcast = np.mean([((predictions[None, None, :, t] - poses[:, t + 1, :, None, None]) ** 2)
                         .mean() for t in range(6)])
    self.assertGreater(abs(broadcast - per_transition.mean()), 1e-3 * per_transition.mean())

  def test_teacher_forcing_over_every_transition(self):
    model = tiny_lstm()
    video = clip()
    _, predictions = manual_teacher_forcing(model, video)
    poses, content, _ = model.encode_clip(video)
    self.assertCloseForAccumulation(model.teacher_forced(poses, content), predictions,
                                    HIDDEN * 6)
    # The prediction of pose t + 1 sees real frames 0..t only: changing the last frame
    # changes nothing before it, and changing frame 1 changes every later prediction.
    changed = video.copy()
    changed[:, -1] = 1.0 - changed[:, -1]
    self.assertAllEqual(model(changed)[:, :-1], model(video)[:, :-1])
    changed = video.copy()
    changed[:, 1] = 1.0 - changed[:, 1]
    difference = np.abs(model(changed).numpy() - model(video).numpy()).max(axis=(0, 2))
    self.assertEqual(difference[0], 0.0)
    self.assertTrue(np.all(difference[1:] > 0.0), difference)

  def test_content_of_last_context_frame(self):
    model = tiny_lstm()
    video = clip()
    _, content, skips = model.encode_clip(video)
    expected, expected_skips = model.drnet.encode_content(video[:, CONTEXT - 1], training=False)
    self.assertAllClose(content, expected)
    self.assertLen(skips, len(expected_skips))

  @test_case.parameterized.named_parameters(("inference", "inference"),
                                            ("training", "training"))
  def test_frozen_networks_unchanged_after_steps(self, encoder_batch_norm):
    model = tiny_lstm(encoder_batch_norm=encoder_batch_norm)
    model.compile()
    lstm_before = drnet_test.snapshot(model.pose_lstm.trainable_variables)
    trainable_before = drnet_test.snapshot(model.drnet.weights)
    for seed in range(3):
      model.train_step(tf.constant(clip(seed=seed)))
    self.assertTrue(all(drnet_test.changed(lstm_before, model.pose_lstm.trainable_variables)))
    changed = dict(zip([v.path for v in model.drnet.weights],
                       drnet_test.changed(trainable_before, model.drnet.weights)))
    moving = {p: c for p, c in changed.items() if "moving_" in p}
    learned = {p: c for p, c in changed.items() if "moving_" not in p}
    self.assertFalse(any(learned.values()), [p for p, c in learned.items() if c])
    if encoder_batch_norm == "inference":
      self.assertFalse(any(moving.values()))
    else:
      # drnet-py's train-mode batch norm: the moving statistics keep changing.
      self.assertTrue(any(moving.values()))
    self.assertEqual(int(model.optimizer.iterations), 3)

  def test_training_mode_batch_norm_encodes_each_frame_as_its_own_batch(self):
    model = tiny_lstm(encoder_batch_norm="training")
    video = clip()
    poses, _, _ = model.encode_clip(video, training=True)
    self.assertAllClose(poses[:, 2], model.drnet.encode_pose(video[:, 2], training=True))
    inference, _, _ = model.encode_clip(video, training=False)
    self.assertGreater(np.abs(poses.numpy() - inference.numpy()).max(), 1e-3)

  def test_rollout_equals_step_by_step(self):
    model = tiny_lstm(normalize_output=True)
    context = clip(time=CONTEXT)
    num_future = 5
    # B = 6 and 16 frames per decoder call: chunks of 2 steps, the last one of 1.
    with mock.patch.object(pose_lstm_lib, "DECODE_FRAMES_PER_CALL", 16):
      frames, poses = model.predict_future(context, num_future, return_poses=True)
    self.assertEqual(frames.shape, (BATCH, num_future, 64, 64, CHANNELS))
    self.assertEqual(poses.shape, (BATCH, num_future, POSE))
    # By hand: LSTM over the real context poses, then its own (L2-normalised) poses.
    content, skips = model.drnet.encode_content(context[:, -1], training=False)
    state = model.pose_lstm.initial_state(BATCH)
    pose = None
    for t in range(CONTEXT):
      pose = model.drnet.encode_pose(context[:, t], training=False)
      if t < CONTEXT - 1:
        _, state = model.pose_lstm.step(tf.concat([pose, content], -1), state)
    expected_frames, expected_poses = [], []
    for _ in range(num_future):
      predicted, state = model.pose_lstm.step(tf.concat([pose, content], -1), state)
      pose = tf.math.l2_normalize(predicted, axis=-1)
      expected_poses.append(pose.numpy())
      expected_frames.append(model.drnet.decode(content, skips, pose, training=False).numpy())
    expected_poses = np.stack(expected_poses, axis=1)
    self.assertAllClose(np.linalg.norm(expected_poses, axis=-1), np.ones((BATCH, num_future)))
    self.assertCloseForAccumulation(poses, expected_poses, HIDDEN * num_future, scale=1.0)
    self.assertCloseForAccumulation(frames, np.stack(expected_frames, axis=1),
                                    4 * 4 * 8 * num_future, scale=1.0)
    # `generate` (the evaluation's contract): the one prediction per sample.
    samples = model.generate(context, num_future, num_samples=2)["samples"]
    self.assertEqual(samples.shape, (BATCH, 2, num_future, 64, 64, CHANNELS))
    self.assertAllClose(samples[:, 1], frames)
    self.assertFalse(model.stochastic)

  def test_picture_rows(self):
    model = tiny_lstm()
    rows = model.picture_rows(clip()[:2])
    self.assertLen(rows, 2)
    truth, prediction = rows[0]
    self.assertLen(truth, CONTEXT + FUTURE)
    self.assertLen(prediction, CONTEXT + FUTURE)
    self.assertEqual(prediction[0].shape, (64, 64, 3))

  def test_config_round_trip_and_bad_options(self):
    model = tiny_lstm(encoder_batch_norm="training", normalize_output=False)
    self.run_config_round_trip(model)
    self.run_serialization_round_trip(model)
    with self.assertRaisesRegex(ValueError, "encoder_batch_norm 'train'.*inference, training"):
      pose_lstm_lib.PoseLSTM(drnet=DRNET, encoder_batch_norm="train")
    with self.assertRaisesRegex(ValueError, "num_context_frames"):
      pose_lstm_lib.PoseLSTM(drnet=DRNET, num_context_frames=0)


class PoseLSTMConfigsTest(test_case.TestCase):

  @test_case.parameterized.named_parameters(
      # thesis §5.3: MNIST observe 5 / predict 10, KTH 10 / 10; rollouts 500 / 100.
      ("mnist", "mnist", 5, 10, 500), ("kth", "kth", 10, 10, 100))
  def test_thesis_task_and_reference_optimiser(self, dataset, context, future, rollout):
    for model in ("drnet_lstm", "ae_lstm"):
      config = config_loader.load(model, dataset)
      self.assertEqual((config.model.num_context_frames, config.model.num_future_frames),
                       (context, future))
      self.assertEqual(config.data.num_frames, context + future)
      self.assertEqual((config.model.hidden_size, config.model.num_layers), (256, 2))
      self.assertEqual(config.num_rollout_frames, rollout)
      self.assertEqual(config.train.epsilon, 1e-8)
      quick = config_loader.load(model, dataset, "quick")
      self.assertLess(quick.train.steps, config.train.steps)
    # drnet-py train_lstm.py: Adam lr 2e-4, betas (0.9, 0.999), batch 100, 200 x 600.
    config = config_loader.load("drnet_lstm", dataset)
    self.assertEqual((config.train.learning_rate, config.train.beta1, config.train.beta2),
                     (2e-4, 0.9, 0.999))
    self.assertEqual((config.train.batch_size, config.train.steps), (100, 120_000))
    self.assertIsNone(config.model.drnet)  # Filled in from config.drnet_workdir.
    self.assertEqual(config.drnet_workdir, "")


# ------------------------------------------------------------------------ trainer


def tiny_drnet_config(steps=2):
  """DrNET's quick MNIST config shrunk as in trainer_test (|h_c| 6, |h_p| 3, width 2)."""
  config = config_loader.load("drnet", "mnist", "quick")
  config.model.update(dict(base_filters=2, content_dim=6, pose_dim=3, sd_nf=5))
  config.data.update(dict(num_frames=5, max_offset=2))
  config.data.data_dir = test_case.test_data_dir()
  config.train.update(dict(steps=steps, batch_size=4, log_every=2, checkpoint_every=2,
                           image_every=100, num_image_sequences=2))
  return config


def tiny_lstm_config(drnet_workdir, steps=2):
  config = config_loader.load("drnet_lstm", "mnist", "quick")
  config.drnet_workdir = drnet_workdir
  config.model.update(dict(num_context_frames=2, num_future_frames=3, hidden_size=8))
  config.data.num_frames = 5
  config.data.data_dir = test_case.test_data_dir()
  config.train.update(dict(steps=steps, batch_size=4, log_every=1, checkpoint_every=1,
                           image_every=100, num_image_sequences=2))
  return config


def latest_weights(config, workdir):
  model = factory.build_model(config.model)
  model.build()
  path = tf.train.latest_checkpoint(os.path.join(workdir, trainer_lib.CHECKPOINT_DIR))
  checkpointing.restore_model(model, path)
  return model, path


class PoseLSTMTrainingTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp(prefix="pose_lstm_test_")
    cls.drnet_workdir = os.path.join(cls.root, "drnet")
    trainer_lib.train(tiny_drnet_config(), cls.drnet_workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_trains_on_the_frozen_drnet_and_resumes_exactly(self):
    # 2N steps in one run equal N steps, a restart, and N more (N = 1).
    straight = self.make_temp_dir()
    metrics = trainer_lib.train(tiny_lstm_config(self.drnet_workdir, steps=2), straight)
    self.assertEqual(set(metrics), {"loss", "pose_mse"})
    resumed = self.make_temp_dir()
    trainer_lib.train(tiny_lstm_config(self.drnet_workdir, steps=1), resumed)
    trainer_lib.train(tiny_lstm_config(self.drnet_workdir, steps=2), resumed)
    with open(os.path.join(straight, "config.json")) as f:
      lstm_factory_config = config_loader.from_json(f.read())
    a, path_a = latest_weights(lstm_factory_config, straight)
    b, path_b = latest_weights(lstm_factory_config, resumed)
    self.assertEqual(os.path.basename(path_a), "ckpt-2")
    self.assertEqual(os.path.basename(path_b), "ckpt-2")
    for x, y in zip(a.get_weights(), b.get_weights()):
      self.assertAllClose(x, y, rtol=1e-5, atol=1e-6)
    # The frozen networks are the DrNET run's, bit for bit, saved in the LSTM's checkpoint.
    drnet, _ = latest_weights(tiny_drnet_config(), self.drnet_workdir)
    for x, y in zip(drnet.get_weights(), a.drnet.get_weights()):
      self.assertAllEqual(x, y)
    # The saved config holds the DrNET's model fields; the summary the LSTM's parameters.
    self.assertEqual(lstm_factory_config.model.drnet.pose_dim, 3)
    with open(os.path.join(straight, "model_summary.json")) as f:
      summary = json.load(f)
    self.assertEqual(list(summary["trainable_parameters"]), ["pose_lstm"])

  def test_bad_drnet_workdir_is_refused_before_any_work(self):
    workdir = self.make_temp_dir()
    cases = [("", "config.drnet_workdir is required"),
             (os.path.join(self.root, "missing"), "is not a trained DrNET run")]
    no_checkpoint = os.path.join(self.root, "no_checkpoint")
    os.makedirs(no_checkpoint, exist_ok=True)
    shutil.copy(os.path.join(self.drnet_workdir, "config.json"), no_checkpoint)
    cases.append((no_checkpoint, "has no checkpoint"))
    for drnet_workdir, message in cases:
      with self.assertRaisesRegex(ValueError, message):
        trainer_lib.Trainer(tiny_lstm_config(drnet_workdir), workdir)
    config = tiny_lstm_config(self.drnet_workdir)
    config.data.name = "smmnist"
    with self.assertRaisesRegex(ValueError, "trained on data set 'mnist'"):
      trainer_lib.Trainer(config, workdir)
    self.assertEqual(os.listdir(workdir), [])

  def test_drnet_alone_is_not_evaluated(self):
    from tfgen.evaluation import evaluate  # pylint: disable=g-import-not-at-top
    with self.assertRaisesRegex(ValueError, "'drnet' run does not predict future frames"):
      evaluate.evaluate(self.drnet_workdir, output_dir=self.make_temp_dir())

  def test_other_drnet_configuration_is_refused(self):
    # A resumed LSTM run whose DrNET workdir now holds another configuration (pose dim).
    lstm_workdir = self.make_temp_dir()
    other = os.path.join(self.make_temp_dir(), "drnet")
    shutil.copytree(self.drnet_workdir, other)
    trainer_lib.train(tiny_lstm_config(other, steps=1), lstm_workdir)
    config = tiny_drnet_config()
    config.model.pose_dim = 4
    with open(os.path.join(other, "config.json"), "w") as f:
      f.write(config_loader.to_json(config))
    with self.assertRaisesRegex(ValueError, r"model\.drnet\.pose_dim: saved 3, now 4"):
      trainer_lib.train(tiny_lstm_config(other, steps=2), lstm_workdir)
    # config.model.drnet set by hand must agree with the DrNET run.
    config = tiny_lstm_config(self.drnet_workdir)
    config.model.drnet = tiny_drnet_config().model
    del config.model.drnet["name"]
    config.model.drnet.image_size = 128
    with self.assertRaisesRegex(ValueError, "image_size: 128 here, 64 in the DrNET run"):
      lstm_family.FAMILY.prepare_config(config)


if __name__ == "__main__":
  tf.test.main()
