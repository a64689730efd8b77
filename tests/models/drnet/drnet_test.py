"""Tests of the DrNET model: parameter counts, losses, the two-player step, fit, config."""

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.models.drnet import drnet as drnet_lib
from tfgen.train import trainer

# Different sizes on every axis, so a swapped axis fails loudly.
BATCH, CHANNELS, CONTENT, POSE, SD_NF = 6, 2, 7, 5, 9
TINY = dict(base_filters=2, channels=CHANNELS, content_dim=CONTENT, pose_dim=POSE,
            sd_nf=SD_NF)


def tiny_drnet(**kwargs):
  model = drnet_lib.DrNet(**{**TINY, **kwargs})
  model.build()
  return model


def clip(batch=BATCH, time=4, size=64, channels=CHANNELS, seed=0):
  return np.random.default_rng(seed).random((batch, time, size, size, channels)).astype(
      "float32")


def he_kernels(model, seed=0):
  """Redraws every conv kernel at He scale, N(0, 2 / fan_in).

  Under the reference's N(0, 0.02) init and inference-mode batch norm (moving statistics
  0 and 1) signals shrink layer by layer and an untrained model's outputs barely depend on
  its inputs; at He scale they do, so a mixed-up input shows.
  """
  rng = np.random.default_rng(seed)
  for variable in model.main_variables:
    if len(variable.shape) == 4:
      fan_in = np.prod(variable.shape[:2]) * variable.shape[2]
      variable.assign(rng.normal(0.0, np.sqrt(2.0 / fan_in), variable.shape).astype("float32"))


def snapshot(variables):
  return [v.numpy().copy() for v in variables]


def changed(before, variables):
  return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


class DrNetTest(test_case.TestCase):

  @test_case.parameterized.named_parameters(
      # DRNET_FACTS.md §3, every row: (image, channels, E_c, E_p, content_dim, pose_dim) ->
      # trainable parameters of netEC, netEP, netD, netC (sd_nf 100) of drnet-py.
      ("mnist_py_default", (64, 3, "dcgan_unet", "dcgan", 128, 10),
       (3_807_424, 2_840_414, 6_644_547, 12_301)),
      ("mnist_thesis", (64, 3, "dcgan", "dcgan", 128, 5),
       (3_807_424, 2_799_439, 3_848_003, 11_301)),
      ("kth128_thesis", (128, 3, "vgg_unet", "resnet", 128, 5),
       (15_772_096, 44_792_591, 21_305_411, 11_301)),
      ("kth64_thesis", (64, 3, "vgg_unet", "resnet", 128, 5),
       (8_689_600, 11_199_759, 11_863_619, 11_301)),
      ("kth128_thesis_c1", (128, 1, "vgg_unet", "resnet", 128, 5),
       (15_770_944, 44_789_391, 21_304_257, 11_301)),
      ("kth64_thesis_c1", (64, 1, "vgg_unet", "resnet", 128, 5),
       (8_688_448, 11_196_559, 11_862_465, 11_301)),
      ("kth128_lua_skip", (128, 1, "dcgan_unet", "dcgan", 64, 16),
       (7_476_736, 7_083_376, 14_555_457, 13_501)),
      ("mnist_lua_default", (64, 1, "dcgan", "dcgan", 64, 5),
       (3_280_896, 2_797_391, 3_321_665, 11_301)),
  )
  def test_parameter_counts_match_reference(self, setup, expected):
    image_size, channels, content_encoder, pose_encoder, content_dim, pose_dim = setup
    model = drnet_lib.DrNet(image_size=image_size, channels=channels,
                            content_encoder=content_encoder, pose_encoder=pose_encoder,
                            content_dim=content_dim, pose_dim=pose_dim, sd_nf=100)
    model.build()
    counts = {name: test_case.count_parameters(part)
              for name, part in model.submodules_by_name().items()}
    self.assertEqual(counts, dict(zip(
        ("content_encoder", "pose_encoder", "decoder", "scene_discriminator"), expected)))

  @test_case.parameterized.named_parameters(
      ("dcgan_unet_dcgan_64", "dcgan_unet", "dcgan", 64, [32, 16, 8, 4], [1, 2, 4, 8]),
      ("dcgan_resnet_64", "dcgan", "resnet", 64, [], []),
      ("vgg_unet_resnet_128", "vgg_unet", "resnet", 128, [128, 64, 32, 16, 8],
       [1, 2, 4, 8, 8]),
  )
  def test_shapes(self, content_encoder, pose_encoder, size, skip_sizes, skip_multipliers):
    model = tiny_drnet(content_encoder=content_encoder, pose_encoder=pose_encoder,
                       image_size=size)
    frames = clip(batch=3, size=size)
    content, skips, pose = model.encode(frames[:, 0], training=True)
    self.assertEqual(content.shape, (3, CONTENT))
    self.assertEqual(pose.shape, (3, POSE))
    self.assertEqual([tuple(s.shape) for s in skips],
                     [(3, s, s, 2 * m) for s, m in zip(skip_sizes, skip_multipliers)])
    decoded = model.decode(content, skips, pose, training=True)
    self.assertEqual(decoded.shape, (3, size, size, CHANNELS))
    self.assertAllInRange(decoded, 0.0, 1.0)
    self.assertEqual(model((frames[:, 0], frames[:, 2])).shape, (3, size, size, CHANNELS))
    self.assertEqual(model(frames).shape, (3, size, size, CHANNELS))

  def test_decoder_input_is_content_then_pose(self):
    model = tiny_drnet()
    calls = []
    original = model.decoder.call

    def recording_call(inputs, training=None):
      calls.append(inputs[0])
      return original(inputs, training=training)

    model.decoder.call = recording_call
    content = np.full((2, CONTENT), 0.5, "float32")
    pose = np.full((2, POSE), -0.25, "float32")
    _, skips = model.encode_content(clip(batch=2)[:, 0])
    model.decode(content, skips, pose)
    self.assertAllEqual(calls[0], np.concatenate([content, pose], axis=1))

  @test_case.parameterized.named_parameters(
      ("pose", dict(normalize_pose=True), False, True),
      ("content", dict(normalize_content=True), True, False),
      ("none", dict(), False, False),
  )
  def test_l2_normalisation(self, kwargs, content_unit, pose_unit):
    model = tiny_drnet(**kwargs)
    content, _, pose = model.encode(clip(batch=3)[:, 0], training=False)
    self.assertEqual(np.allclose(np.linalg.norm(content, axis=1), 1.0, atol=1e-5),
                     content_unit)
    self.assertEqual(np.allclose(np.linalg.norm(pose, axis=1), 1.0, atol=1e-5), pose_unit)

  def test_losses_against_numpy(self):
    # Every term recomputed outside the loss code, from the networks' outputs. Training
    # mode: each frame is its own batch-norm batch (as drnet-py), so batch-normalised
    # encodings are of order 1 and differ between frames.
    model = tiny_drnet(alpha=0.7, beta=0.3)
    # Logits of order 1 (the reference init gives ~1e-3, where the adversarial loss is
    # log 2 to 1e-6 whatever the pair).
    rng = np.random.default_rng(2)
    for variable in model.scene_discriminator.trainable_variables:
      variable.assign(rng.normal(size=variable.shape).astype("float32"))
    frames = model.unpack_frames(clip())
    losses = model.compute_losses(frames, training=True, return_reconstruction=True)

    content, skips = model.encode_content(frames["content"], training=True)
    content_target, _ = model.encode_content(frames["content_target"], training=True)
    pose = model.encode_pose(frames["pose"], training=True)
    pose_partner = model.encode_pose(frames["pose_partner"], training=True)
    reconstruction = model.decode(content, skips, pose, training=True).numpy()
    self.assertAllClose(losses["reconstruction"], reconstruction, atol=1e-6)
    rec = np.mean((reconstruction - frames["pose"])**2)
    sim = np.mean((content.numpy() - content_target.numpy())**2)
    logits = model.scene_discriminator((pose, pose_partner)).numpy().astype("float64")
    p = 1.0 / (1.0 + np.exp(-logits))
    adv = np.mean(-(0.5 * np.log(p) + 0.5 * np.log(1.0 - p)))
    self.assertGreater(adv, np.log(2.0) + 0.05)
    # float32 means over B*H*W*C, B*content_dim and B terms against float64 numpy.
    pixels = BATCH * 64 * 64 * CHANNELS
    self.assertCloseForAccumulation(losses["reconstruction_loss"], rec, pixels)
    self.assertCloseForAccumulation(losses["similarity_loss"], sim, BATCH * CONTENT)
    self.assertCloseForAccumulation(losses["adversarial_loss"], adv, BATCH)
    self.assertCloseForAccumulation(losses["loss"], rec + 0.7 * sim + 0.3 * adv, pixels)

  def test_adversarial_pose_loss_is_cross_entropy_towards_one_half(self):
    model = tiny_drnet()
    logits = np.array([-30.0, -2.5, -0.1, 0.0, 0.7, 4.0, 25.0], "float32")
    p = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    # log(1 - p) written as log(sigmoid(-l)) so the extremes stay finite in numpy too.
    expected = np.mean(-(0.5 * np.log(p) + 0.5 * np.log(1.0 / (1.0 + np.exp(logits)))))
    self.assertCloseForAccumulation(model.adversarial_pose_loss(logits), expected,
                                    accumulation_length=len(logits))
    # Minimal, log 2, where C is undecided.
    self.assertAllClose(model.adversarial_pose_loss(np.zeros(3, "float32")), np.log(2.0))

  @test_case.parameterized.named_parameters(("thesis", "thesis"), ("reference", "reference"))
  def test_discriminator_pairs_and_labels(self, convention):
    model = tiny_drnet(discriminator_labels=convention)
    batch = 7  # odd: the first half is rows 0..2, the same-clip half rows 3..6
    partner = np.arange(batch * POSE, dtype="float32").reshape(batch, POSE)
    shuffled, labels = model.discriminator_pairs(partner, seed=(3, 4))
    shuffled = shuffled.numpy()
    # Rows of the first half are a permutation of the first half; the rest is untouched.
    self.assertCountEqual(shuffled[:3, 0].tolist(), partner[:3, 0].tolist())
    self.assertAllEqual(shuffled[3:], partner[3:])
    same, different = (1.0, 0.0) if convention == "thesis" else (0.0, 1.0)
    self.assertAllEqual(labels, [different] * 3 + [same] * 4)
    # The permutation follows the seed (and is not always the identity).
    again, _ = model.discriminator_pairs(partner, seed=(3, 4))
    self.assertAllEqual(again, shuffled)
    orders = {tuple(model.discriminator_pairs(partner, seed=(s, 0))[0].numpy()[:3, 0])
              for s in range(12)}
    self.assertGreater(len(orders), 1)

  def test_discriminator_loss_and_accuracy_against_numpy(self):
    model = tiny_drnet()
    logits = np.array([-1.5, 0.3, 2.0, -0.2, 0.0, 4.0], "float32")
    labels = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "float32")
    p = 1.0 / (1.0 + np.exp(-logits.astype("float64")))
    bce = -np.mean(labels * np.log(p) + (1.0 - labels) * np.log(1.0 - p))
    self.assertCloseForAccumulation(model.discriminator_loss(logits, labels), bce,
                                    accumulation_length=len(logits))
    # drnet-py: out > 0.5 counts for label 1, out <= 0.5 for label 0.
    self.assertAllEqual(model.discriminator_accuracy(logits, labels), [1, 0, 0, 0, 0, 1])

  def test_similarity_target_gets_no_gradient(self):
    model = tiny_drnet()
    content = tf.constant(np.random.default_rng(0).normal(size=(3, CONTENT)), tf.float32)
    target = tf.constant(np.random.default_rng(1).normal(size=(3, CONTENT)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
      tape.watch([content, target])
      loss = model.similarity_loss(content, target)
    self.assertIsNone(tape.gradient(loss, target))
    self.assertAllClose(tape.gradient(loss, content), 2 * (content - target) / (3 * CONTENT))

  def test_each_step_moves_only_its_players(self):
    model = tiny_drnet(beta=0.5)
    model.compile(discriminator_optimizer=keras.optimizers.SGD(0.1),
                  optimizer=keras.optimizers.SGD(0.1))
    frames = clip()
    main, discriminator = model.main_variables, model.discriminator_variables
    self.assertLen(main + discriminator, len(model.trainable_variables))

    before_main, before_c = snapshot(main), snapshot(discriminator)
    model.discriminator_step(frames)
    self.assertTrue(all(changed(before_c, discriminator)))
    self.assertFalse(any(changed(before_main, main)))

    before_main, before_c = snapshot(main), snapshot(discriminator)
    model.main_step(frames)
    self.assertTrue(all(changed(before_main, main)))
    self.assertFalse(any(changed(before_c, discriminator)))

    before = snapshot(model.trainable_variables)
    model.train_step(frames)
    self.assertTrue(all(changed(before, model.trainable_variables)))
    self.assertEqual(int(model.optimizer.iterations), 2)
    self.assertEqual(int(model.discriminator_optimizer.iterations), 2)

  def test_two_replicas_update_like_one_device(self):
    # Under MirroredStrategy (2 logical CPUs, tests/conftest.py) with synchronized batch
    # norm, E_c and D take the same SGD step as on one device: the hand-written mean
    # losses are divided by the number of replicas before Keras sums the gradients.
    # (E_p's and C's steps depend on C's pairs, which each replica permutes on its own.)
    frames = clip(batch=4)
    single = tiny_drnet()
    single.compile(discriminator_optimizer=keras.optimizers.SGD(0.5),
                   optimizer=keras.optimizers.SGD(0.5))
    strategy = trainer.mirrored_strategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
      mirrored = tiny_drnet()
      mirrored.set_weights(single.get_weights())
      mirrored.compile(discriminator_optimizer=keras.optimizers.SGD(0.5),
                       optimizer=keras.optimizers.SGD(0.5))
    self.assertTrue(mirrored.discriminator_optimizer.built)
    before = snapshot(single.content_net.trainable_variables)
    single.train_step(frames)
    dataset = tf.data.Dataset.from_tensors(frames)
    batch = next(iter(strategy.experimental_distribute_dataset(dataset)))
    tf.function(lambda b: strategy.run(mirrored.train_step, args=(b,)))(batch)

    self.assertTrue(all(changed(before, single.content_net.trainable_variables)))
    for net in ("content_net", "decoder"):
      for a, b in zip(getattr(single, net).trainable_variables,
                      getattr(mirrored, net).trainable_variables):
        # Parameter values of order 1; batch-norm reductions over B * 64 * 64 rows.
        self.assertCloseForAccumulation(b.numpy(), a.numpy(), 4 * 64 * 64, scale=1.0,
                                        msg=a.path)

  def test_compile_defaults_to_reference_adam(self):
    model = tiny_drnet()
    model.compile()
    for optimizer, variables in ((model.optimizer, model.main_variables),
                                 (model.discriminator_optimizer,
                                  model.discriminator_variables)):
      self.assertIsInstance(optimizer, keras.optimizers.Adam)
      self.assertAllClose(
          [float(optimizer.learning_rate), optimizer.beta_1, optimizer.beta_2],
          [0.002, 0.5, 0.999])
      self.assertEqual(optimizer.epsilon, 1e-8)  # torch's; Keras's default is 1e-7
      self.assertTrue(optimizer.built)
      # Built on its player's variables only: iterations, learning rate, then m and v each.
      self.assertEqual(len(optimizer.variables), 2 + 2 * len(variables))

  def test_optimizers_by_name(self):
    model = tiny_drnet()
    model.compile()
    self.assertEqual(model.optimizers_by_name(),
                     {"optimizer": model.optimizer,
                      "discriminator_optimizer": model.discriminator_optimizer})

  def test_picture_rows(self):
    model = tiny_drnet()  # dcgan_unet: the skips come from the content frame.
    he_kernels(model)
    video = clip(batch=3, time=4)
    groups = model.picture_rows(video, num_samples=5, seed=(1, 2))
    self.assertLen(groups, 3 + 1)
    # Longest reduction: a 4x4 (transposed) conv over 2 x 16 channels (U-Net concat).
    length = 4 * 4 * 32
    for i, (frames, reconstructions) in enumerate(groups[:3]):
      self.assertIsNone(frames[0])
      self.assertAllEqual(np.stack(frames[1:]), video[i])
      self.assertAllEqual(reconstructions[0], video[i, 0])
      # Frame t from the content (and skips) of frame 0 and the pose of frame t.
      expected = model((np.repeat(video[i, :1], 4, axis=0), video[i]), training=False)
      self.assertCloseForAccumulation(np.stack(reconstructions[1:]), expected, length)
    header, *analogies = groups[3]
    self.assertIsNone(header[0])
    self.assertAllEqual(np.stack(header[1:]), video[0])
    self.assertLen(analogies, 3)
    for i, row in enumerate(analogies):
      self.assertAllEqual(row[0], video[i, 0])
      # Clip i's content moving with clip 0's poses.
      expected = model((np.repeat(video[i, :1], 4, axis=0), video[0]), training=False)
      self.assertCloseForAccumulation(np.stack(row[1:]), expected, length)
    # Another clip's content gives another picture.
    self.assertNotAllClose(np.stack(analogies[1][1:]), np.stack(analogies[2][1:]))

  def test_fold_frames_is_the_same_function_at_inference(self):
    # Folding only changes which rows share batch statistics in training mode.
    unfolded = tiny_drnet(content_encoder="vgg_unet")
    folded = tiny_drnet(content_encoder="vgg_unet", fold_frames=True)
    he_kernels(unfolded)
    folded.set_weights(unfolded.get_weights())
    frames = unfolded.unpack_frames(clip())
    a = unfolded.compute_losses(frames, training=False, return_reconstruction=True)
    b = folded.compute_losses(frames, training=False, return_reconstruction=True)
    # Batches of 2B and B rows may take different kernels: rounding-level differences.
    # Longest reduction: a 3x3 conv over 2 * 16 channels in the VGG decoder.
    self.assertCloseForAccumulation(a["reconstruction"], b["reconstruction"], 9 * 32)
    for key, length in (("reconstruction_loss", BATCH * 64 * 64 * CHANNELS),
                        ("similarity_loss", BATCH * CONTENT), ("adversarial_loss", BATCH)):
      self.assertCloseForAccumulation(a[key], b[key], length)
    self.assertNotAllClose(unfolded.compute_losses(frames, training=True)["similarity_loss"],
                           folded.compute_losses(frames, training=True)["similarity_loss"])

  def test_unpack_frames(self):
    frames = clip(time=5)
    # drnet-py's x[0..3]: content, similarity target, pose (and reconstruction target),
    # adversarial partner.
    keys = ("content", "content_target", "pose", "pose_partner")
    self.assertEqual(drnet_lib.FRAME_KEYS, keys)
    expected = {key: frames[:, i] for i, key in enumerate(keys)}
    for data in (frames, (frames,), {"frames": frames}, expected,
                 tuple(frames[:, i] for i in range(4))):
      unpacked = drnet_lib.DrNet.unpack_frames(data)
      self.assertEqual(list(unpacked), list(keys))
      for key in keys:
        self.assertAllEqual(unpacked[key], expected[key])
    with self.assertRaisesRegex(ValueError, "time >= 4"):
      drnet_lib.DrNet.unpack_frames(frames[:, :3])
    with self.assertRaisesRegex(ValueError, "content_target"):
      drnet_lib.DrNet.unpack_frames({"video": frames})

  def test_fit_lowers_reconstruction_loss(self):
    model = tiny_drnet(beta=0.1)
    model.compile(discriminator_optimizer=keras.optimizers.Adam(2e-3),
                  optimizer=keras.optimizers.Adam(5e-3))
    history = model.fit(clip(batch=4), epochs=4, batch_size=4, verbose=0, shuffle=False)
    self.assertEqual(set(history.history), {m.name for m in model.metrics})
    losses = history.history["reconstruction_loss"]
    self.assertTrue(np.all(np.isfinite(losses)), losses)
    self.assertLess(losses[-1], losses[0])
    self.assertLess(history.history["loss"][-1], history.history["loss"][0])
    logs = model.evaluate(clip(batch=4), batch_size=4, verbose=0, return_dict=True)
    self.assertTrue(np.all(np.isfinite(list(logs.values()))), logs)

  def test_config_and_save_load(self):
    options = dict(content_encoder="dcgan", pose_encoder="resnet", normalize_pose=False,
                   normalize_content=True, alpha=0.5, beta=0.1, sd_nf=4,
                   discriminator_labels="reference", fold_frames=True,
                   synchronized_batch_norm=False, batch_norm_moving_variance="biased", seed=3)
    model = tiny_drnet(**options)
    config = model.get_config()
    # Every constructor argument, under its own name, with its value.
    self.assertEqual({key: config[key] for key in {**TINY, **options}}, {**TINY, **options})
    self.assertEqual(config["image_size"], 64)
    self.run_config_round_trip(model)
    self.run_serialization_round_trip(model)
    frames = clip(batch=2)
    self.run_save_load(model, frames, call=lambda m: m((frames[:, 0], frames[:, 2]),
                                                       training=False))

  def test_bad_options(self):
    with self.assertRaisesRegex(ValueError,
                                "content_encoder 'vgg'.*dcgan, dcgan_unet, vgg_unet"):
      drnet_lib.DrNet(content_encoder="vgg")
    with self.assertRaisesRegex(ValueError, "pose_encoder 'vgg'.*dcgan, resnet"):
      drnet_lib.DrNet(pose_encoder="vgg")
    with self.assertRaisesRegex(ValueError, "discriminator_labels 'lua'.*thesis, reference"):
      drnet_lib.DrNet(discriminator_labels="lua")
    with self.assertRaisesRegex(ValueError, "image_size 96.*64, 128"):
      drnet_lib.DrNet(image_size=96)


if __name__ == "__main__":
  tf.test.main()
