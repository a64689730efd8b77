"""Tests of the SVG model: objective, parameter counts, generation, skips, save/load."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tests import test_case
from tfgen.models.svg import svg as svg_lib

tfd = tfp.distributions
# Different sizes on every axis, so a swapped axis fails loudly.
BATCH, CONTEXT, FUTURE, Z = 2, 3, 4, 5
TINY = dict(base_filters=4, g_dim=6, z_dim=Z, rnn_size=7, num_context_frames=CONTEXT,
            num_future_frames=FUTURE)


def tiny_svg(prior="learned", **kwargs):
  model = svg_lib.SVG(prior=prior, **{**TINY, **kwargs})
  model.build()
  return model


def video(batch=BATCH, time=CONTEXT + FUTURE, seed=0):
  return np.random.default_rng(seed).random((batch, time, 64, 64, 1)).astype("float32")


class SVGTest(test_case.TestCase):

  @test_case.parameterized.named_parameters(
      ("learned", "learned", {"encoder", "decoder", "frame_predictor", "posterior", "prior"}),
      ("fixed", "fixed", {"encoder", "decoder", "frame_predictor", "posterior"}),
      ("none", "none", {"encoder", "decoder", "frame_predictor"}),
  )
  def test_parts(self, prior, parts):
    self.assertEqual(set(tiny_svg(prior).submodules_by_name()), parts)

  def test_parameter_counts_match_reference_smmnist(self):
    # SPEC.md §1.1 table, SM-MNIST column; LSTM modules smaller by 4 * 256 per Keras cell.
    model = svg_lib.SVG(prior="learned")
    model.build()
    counts = {name: test_case.count_parameters(part)
              for name, part in model.submodules_by_name().items()}
    self.assertEqual(counts, {
        "encoder": 3_805_376,
        "decoder": 6_558_529,
        "frame_predictor": 1_121_152 - 2 * 1024,
        "posterior": 564_500 - 1024,
        "prior": 564_500 - 1024,
    })

  @test_case.parameterized.named_parameters(
      ("kth", dict(architecture="vgg", z_dim=32, channels=1),
       dict(encoder=8_688_448, decoder=11_821_505, frame_predictor=1_126_784 - 2048,
            posterior=575_808 - 1024, prior=575_808 - 1024)),
      ("bair", dict(architecture="vgg", z_dim=64, channels=3),
       dict(encoder=8_689_600, decoder=11_822_659, frame_predictor=1_134_976 - 2048,
            posterior=592_256 - 1024, prior=592_256 - 1024)),
  )
  def test_parameter_counts_match_reference_vgg(self, kwargs, expected):
    model = svg_lib.SVG(prior="learned", **kwargs)
    model.build()
    counts = {name: test_case.count_parameters(part)
              for name, part in model.submodules_by_name().items()}
    self.assertEqual(counts, expected)

  def test_initialisation_as_reference(self):
    model = svg_lib.SVG(prior="learned")
    model.build()
    conv_kernel = model.encoder.blocks[1][0].kernel
    self.assertAllClose(np.std(conv_kernel), 0.02, atol=2e-3)
    self.assertAllClose(np.mean(conv_kernel), 0.0, atol=2e-3)
    self.assertAllEqual(model.encoder.blocks[1][0].bias, np.zeros(128))
    gamma = model.encoder.blocks[3][1].gamma
    self.assertAllClose(np.mean(gamma), 1.0, atol=5e-3)
    self.assertAllClose(np.std(gamma), 0.02, atol=5e-3)
    self.assertAllClose(np.std(model.frame_predictor.embed.kernel), 0.02, atol=2e-3)

  def test_loss_is_mse_plus_beta_kl_against_closed_form(self):
    # Recompute the objective by hand, outside the model's loss code, from its parts.
    model = tiny_svg("learned", beta=0.5)
    x = video()
    noise = np.random.default_rng(1).normal(size=(BATCH, CONTEXT + FUTURE - 1, Z))
    noise = noise.astype("float32")
    losses = model.compute_losses(x, noise, training=False, return_frames=True)

    h = np.stack([model.encoder(x[:, t], training=False)[0] for t in range(x.shape[1])], 1)
    posterior, _ = model.posterior(h[:, 1:])
    prior, _ = model.learned_prior(h[:, :-1])
    m1, s1 = posterior.mean().numpy(), posterior.stddev().numpy()
    m2, s2 = prior.mean().numpy(), prior.stddev().numpy()
    kl = np.sum(np.log(s2 / s1) + (s1**2 + (m1 - m2)**2) / (2 * s2**2) - 0.5, axis=-1)
    mse = np.mean((losses["frames"].numpy() - x[:, 1:])**2, axis=(2, 3, 4))
    self.assertAllClose(losses["kl"], kl.mean(1), rtol=1e-4)
    self.assertAllClose(losses["mse"], mse.mean(1), rtol=1e-5)
    self.assertAllClose(losses["loss"], mse.sum(1) + 0.5 * kl.sum(1), rtol=1e-4)
    # The sample is the reparameterised posterior sample with this noise.
    z = m1 + s1 * noise
    g, _ = model.frame_predictor(np.concatenate([h[:, :-1], z], -1))
    self.assertAllClose(g.shape, (BATCH, CONTEXT + FUTURE - 1, 6))

  def test_fixed_prior_kl_is_against_standard_normal(self):
    model = tiny_svg("fixed")
    x = video()
    noise = np.zeros((BATCH, CONTEXT + FUTURE - 1, Z), "float32")
    losses = model.compute_losses(x, noise, training=False)
    h, _ = model.encode(x, training=False)
    posterior, _ = model.posterior(h[:, 1:])
    expected = tfd.kl_divergence(posterior, tfd.MultivariateNormalDiag(tf.zeros(Z), tf.ones(Z)))
    self.assertAllClose(losses["kl"], tf.reduce_mean(expected, 1), rtol=1e-5)

  def test_deterministic_model_has_no_kl(self):
    model = tiny_svg("none")
    losses = model.compute_losses(video(), training=False)
    self.assertAllEqual(losses["kl"], np.zeros(BATCH))
    self.assertAllClose(losses["loss"], losses["mse"] * (CONTEXT + FUTURE - 1), rtol=1e-6)

  def test_each_frame_encoded_once(self):
    model = tiny_svg("learned")
    calls = []
    original = model.encoder.call

    def counting_call(frames, training=None):
      calls.append(frames.shape[0])
      return original(frames, training=training)

    model.encoder.call = counting_call
    model.compute_losses(video(), np.zeros((BATCH, CONTEXT + FUTURE - 1, Z), "float32"))
    self.assertEqual(calls, [BATCH * (CONTEXT + FUTURE)])

  @test_case.parameterized.named_parameters(
      # Frames 1..6 are predicted; context frames 0..2 (0-based).
      ("thesis", "last_context", [0, 1, 2, 2, 2, 2]),
      ("reference", "reference", [0, 1, 1, 1, 1, 1]),
      ("last_frame", "last_frame", [0, 1, 2, 3, 4, 5]),
  )
  def test_skip_sources(self, mode, expected):
    model = svg_lib.SVG(skip_mode=mode, **TINY)
    self.assertEqual(model.skip_source_indices(CONTEXT + FUTURE), expected)

  def test_skip_mode_changes_predictions(self):
    x = video()
    noise = np.zeros((BATCH, CONTEXT + FUTURE - 1, Z), "float32")
    thesis = tiny_svg(skip_mode="last_context")
    reference = svg_lib.SVG(skip_mode="reference", **TINY)
    reference.build()
    reference.set_weights(thesis.get_weights())
    a = thesis.compute_losses(x, noise, training=False, return_frames=True)["frames"]
    b = reference.compute_losses(x, noise, training=False, return_frames=True)["frames"]
    # Identical while predicting context frames, different afterwards.
    self.assertAllClose(a[:, :CONTEXT - 1], b[:, :CONTEXT - 1])
    self.assertNotAllClose(a[:, CONTEXT:], b[:, CONTEXT:])

  def test_bad_options(self):
    with self.assertRaisesRegex(ValueError, "prior 'gaussian'.*none, fixed, learned"):
      svg_lib.SVG(prior="gaussian")
    with self.assertRaisesRegex(ValueError, "skip_mode 'first'"):
      svg_lib.SVG(skip_mode="first")
    with self.assertRaisesRegex(ValueError, "architecture 'resnet'"):
      svg_lib.SVG(architecture="resnet")

  def test_fit_step_lowers_loss(self):
    model = tiny_svg("learned")
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    self.run_fit_lowers_loss(model, video(batch=4), epochs=3, batch_size=4)

  @pytest.mark.slow
  @test_case.parameterized.parameters("fixed", "none")
  def test_fit_step_lowers_loss_other_priors(self, prior):
    model = tiny_svg(prior)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    self.run_fit_lowers_loss(model, video(batch=4), epochs=3, batch_size=4)

  @test_case.parameterized.parameters("learned", "fixed", "none")
  def test_generate_shapes_and_seeds(self, prior):
    model = tiny_svg(prior)
    context = video()[:, :CONTEXT]
    samples = 6
    out = model.generate(context, FUTURE + 1, samples, seed=(3, 4), return_prior_scale=True)
    self.assertEqual(out["samples"].shape, (BATCH, samples, FUTURE + 1, 64, 64, 1))
    self.assertEqual(out["prior_scale"].shape, (BATCH, samples, FUTURE + 1, Z))
    again = model.generate(context, FUTURE + 1, samples, seed=(3, 4))
    self.assertAllEqual(out["samples"], again["samples"])
    other = model.generate(context, FUTURE + 1, samples, seed=(5, 6))
    if prior == "none":
      # No randomness: all samples of a clip are the same future.
      self.assertAllClose(out["samples"], other["samples"])
      self.assertAllClose(out["samples"][:, 0], out["samples"][:, 1])
    else:
      # An untrained tiny model barely reacts to z: any difference counts.
      self.assertFalse(np.array_equal(out["samples"], other["samples"]))
      self.assertFalse(np.array_equal(out["samples"][:, 0], out["samples"][:, 1]))
    if prior == "fixed":
      self.assertAllEqual(out["prior_scale"], np.ones_like(out["prior_scale"]))

  def test_generation_folds_samples_into_batch(self):
    # One decoder call per generated step serves every sample of every clip.
    model = tiny_svg("learned")
    calls = []
    original = model.decoder.call

    def counting_call(inputs, training=None):
      calls.append((inputs[0].shape[0], training))
      return original(inputs, training=training)

    model.decoder.call = counting_call
    model.generate(video()[:, :CONTEXT], FUTURE, 5, seed=(0, 0))
    # Traced once inside the while loop: batch * samples rows, inference-mode batch norm.
    self.assertTrue(calls)
    self.assertTrue(all(c == (None, False) or c == (BATCH * 5, False) for c in calls), calls)

  def test_generation_uses_inference_batch_norm(self):
    model = tiny_svg("learned")
    before = [v.numpy().copy() for v in model.non_trainable_variables]
    model.generate(video()[:, :CONTEXT], FUTURE, 3, seed=(0, 0))
    # Moving statistics unchanged and output independent of the batch composition.
    for a, b in zip(before, model.non_trainable_variables):
      self.assertAllEqual(a, b)
    both = model.generate(video()[:, :CONTEXT], 2, 1, seed=(1, 1))["samples"]
    one = model.generate(video()[:1, :CONTEXT], 2, 1, seed=(1, 1))["samples"]
    # The first clip's first frame depends only on that clip (noise row 0 is the same).
    self.assertAllClose(both[0, 0, 0], one[0, 0, 0], atol=1e-5)

  def test_config_and_save_load(self):
    model = tiny_svg("learned", skip_mode="reference", beta=0.25)
    self.run_config_round_trip(model)
    x = video()
    self.run_save_load(model, x, call=lambda m: m.generate(x[:, :CONTEXT], 2, 2, seed=(1, 2))[
        "samples"])


if __name__ == "__main__":
  tf.test.main()
