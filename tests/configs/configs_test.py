"""Smoke tests of every `configs/<model>_<dataset>.py`, default and quick variants."""

import inspect

from tests import test_case
from tfgen.data import registry
from tfgen.models import factory
from tfgen.train import trainer
from tfgen.utils import config_loader

VARIANTS = (None, "quick")
PRIORS = {"svg_lp": "learned", "svg_fp": "fixed", "svg_det": "none"}
# The parts each config's model has (`submodules_by_name`).
SUBMODULES = {
    "svg_lp": {"encoder", "decoder", "frame_predictor", "posterior", "prior"},
    "svg_fp": {"encoder", "decoder", "frame_predictor", "posterior"},
    "svg_det": {"encoder", "decoder", "frame_predictor"},
    "drnet": {"content_encoder", "pose_encoder", "decoder", "scene_discriminator"},
    "classifier": {"features", "head"},
    "drnet_lstm": {"pose_lstm"},  # The frozen DrNET networks are no trainable part.
    "ae_lstm": {"encoder", "decoder", "latent_lstm"},
}
# DRNET_FACTS.md §3 "mnist_thesis": trainable parameters of drnet-py's netEC, netEP, netD,
# netC with the thesis's MNIST sizes.
DRNET_MNIST_PARAMETERS = dict(content_encoder=3_807_424, pose_encoder=2_799_439,
                              decoder=3_848_003, scene_discriminator=11_301)
# DRNET_FACTS.md §3 "kth64_thesis_c1" and "kth128_thesis_c1": the thesis's KTH sizes on one
# channel (VGG U-Net content encoder, ResNet pose encoder, |h_c| 128, |h_p| 5).
DRNET_KTH_PARAMETERS = {
    64: dict(content_encoder=8_688_448, pose_encoder=11_196_559, decoder=11_862_465,
             scene_discriminator=11_301),
    128: dict(content_encoder=15_770_944, pose_encoder=44_789_391, decoder=21_304_257,
              scene_discriminator=11_301),
}

# SPEC.md §1.1: trainable parameters of the reference (PyTorch) modules, SVG-LP/FP with
# their z_dim (KTH with the thesis's 32).
REFERENCE_PARAMETERS = {
    "smmnist": dict(encoder=3_805_376, decoder=6_558_529, frame_predictor=1_121_152,
                    posterior=564_500, prior=564_500),
    "kth": dict(encoder=8_688_448, decoder=11_821_505, frame_predictor=1_126_784,
                posterior=575_808, prior=575_808),
    "bair": dict(encoder=8_689_600, decoder=11_822_659, frame_predictor=1_134_976,
                 posterior=592_256, prior=592_256),
}
LSTM_CELLS = dict(frame_predictor=2, posterior=1, prior=1)

# SPEC.md §1.2 (z_dim: KTH follows §6.3.1).
HYPER_PARAMETERS = {
    # architecture, channels, n_past, n_future, z_dim, beta, lr
    "smmnist": ("dcgan", 1, 5, 10, 10, 1e-4, 0.002),
    "kth": ("vgg", 1, 10, 10, 32, 1e-6, 0.0008),
    "bair": ("vgg", 3, 2, 10, 64, 1e-4, 0.002),
}

# The builders' contract arguments (tfgen.data.registry); the rest are data-set options.
_CONTRACT = {"split", "batch_size", "num_frames", "seed", "data_dir", "start_index",
             "drop_remainder"}


def _all_configs(models=None):
  return [(model, dataset) for model, datasets in config_loader.available().items()
          for dataset in datasets if models is None or model in models]


def _cases(models=None):
  return [dict(testcase_name=f"{model}_{dataset}_{variant or 'default'}", model=model,
               dataset=dataset, variant=variant)
          for model, dataset in _all_configs(models) for variant in VARIANTS]


def _defaults(models=None):
  return [dict(testcase_name=f"{model}_{dataset}", model=model, dataset=dataset)
          for model, dataset in _all_configs(models)]


class ConfigsTest(test_case.TestCase):

  def test_every_model_has_kth_and_bair(self):
    table = config_loader.available()
    for model in PRIORS:
      self.assertContainsSubset({"smmnist", "kth", "bair"}, table[model])

  @test_case.parameterized.named_parameters(*_cases())
  def test_loads_builds_and_round_trips(self, model, dataset, variant):
    config = config_loader.load(model, dataset, variant)
    self.assertEqual(config.model_name, model)
    self.assertEqual(config.data.name, dataset)
    # The clips suit the model (SVG: num_frames = context + future frames).
    factory.get_family(config.model.name).check_data(config)
    # data.options holds only options the registered builder accepts.
    parameters = inspect.signature(registry.get_builder(dataset)).parameters
    options = set(parameters) - _CONTRACT
    self.assertContainsSubset(set(config.data.get("options", {})), options)
    # JSON round trip.
    text = config_loader.to_json(config)
    self.assertEqual(config_loader.from_json(text).to_dict(), config.to_dict())
    self.assertEqual(config_loader.to_json(config_loader.from_json(text)), text)
    # The model builds with every part the prior calls for.
    built = factory.build_model(config.model)
    built.build()
    self.assertTrue(built.built)
    # LAPGAN configs ("lapgan", "lapgan_classcond", "gan"): a G and a D per pyramid level.
    expected_parts = SUBMODULES.get(model) or {
        f"level_{k}/{part}" for k in range(len(config.model.sizes))
        for part in ("generator", "discriminator")}
    self.assertEqual(set(built.submodules_by_name()), expected_parts)
    if model in PRIORS:
      self.assertEqual(built.prior, PRIORS[model])

  @test_case.parameterized.named_parameters(*_defaults(PRIORS))
  def test_parameter_counts_match_the_reference(self, model, dataset):
    config = config_loader.load(model, dataset)
    built = factory.build_model(config.model)
    built.build()
    counts = trainer.parameter_summary(built)["trainable_parameters"]
    rnn_size = config.model.rnn_size
    expected = {}
    for name in counts:
      # Keras LSTM cells carry one bias vector, the reference's two.
      expected[name] = (REFERENCE_PARAMETERS[dataset][name]
                        - 4 * rnn_size * LSTM_CELLS.get(name, 0))
    if model == "svg_det":
      # No z_t: the predictor's input embedding reads g_dim inputs, not g_dim + z_dim.
      expected["frame_predictor"] -= config.model.z_dim * rnn_size
    self.assertEqual(counts, expected)

  @test_case.parameterized.named_parameters(*_defaults(PRIORS))
  def test_reference_hyper_parameters(self, model, dataset):
    config = config_loader.load(model, dataset)
    m = config.model
    self.assertEqual(
        (m.architecture, m.channels, m.num_context_frames, m.num_future_frames, m.z_dim,
         m.beta, config.train.learning_rate),
        HYPER_PARAMETERS[dataset])
    self.assertEqual((m.image_size, m.g_dim, m.rnn_size, m.base_filters), (64, 128, 256, 64))
    self.assertEqual((config.train.batch_size, config.train.beta1, config.train.beta2),
                     (100, 0.9, 0.999))

  @test_case.parameterized.named_parameters(*_cases(PRIORS))
  def test_variants_derive_from_svg_lp(self, model, dataset, variant):
    config = config_loader.load(model, dataset, variant)
    lp = config_loader.load("svg_lp", dataset, variant)
    config.model.prior = lp.model.prior
    config.model_name = lp.model_name
    self.assertEqual(config.to_dict(), lp.to_dict())

  @test_case.parameterized.parameters("smmnist", "kth", "bair")
  def test_quick_variant_is_smaller(self, dataset):
    default = config_loader.load("svg_lp", dataset)
    quick = config_loader.load("svg_lp", dataset, "quick")
    self.assertLess(quick.model.base_filters, default.model.base_filters)
    self.assertLessEqual(quick.model.g_dim, 64)
    self.assertLessEqual(quick.model.rnn_size, 64)
    self.assertLessEqual(quick.train.steps, 300)
    self.assertLessEqual(quick.train.batch_size, 16)
    # Only size and length change: the task (frames, channels, data) stays the same.
    for field in ("architecture", "channels", "image_size", "num_context_frames",
                  "num_future_frames", "z_dim", "beta"):
      self.assertEqual(quick.model[field], default.model[field], field)
    self.assertEqual(quick.data.to_dict(), default.data.to_dict())

  def test_drnet_mnist_is_the_thesis_model(self):
    config = config_loader.load("drnet", "mnist")
    built = factory.build_model(config.model)
    built.build()
    self.assertEqual(trainer.parameter_summary(built)["trainable_parameters"],
                     DRNET_MNIST_PARAMETERS)
    m, train = config.model, config.train
    # Thesis §5.3.1: DCGAN encoders, |h_p| 5, |h_c| 128, unit-norm pose and content,
    # alpha 1, beta 0.1, C 2 x 100; drnet-py: Adam lr 0.002 (0.5, 0.999) eps 1e-8,
    # batch 100, 200 x 600 iterations.
    self.assertEqual((m.content_encoder, m.pose_encoder, m.content_dim, m.pose_dim,
                      m.normalize_content, m.normalize_pose, m.alpha, m.beta, m.sd_nf,
                      m.channels, m.image_size),
                     ("dcgan", "dcgan", 128, 5, True, True, 1.0, 0.1, 100, 3, 64))
    self.assertEqual((train.optimizer, train.learning_rate, train.beta1, train.beta2,
                      train.epsilon, train.batch_size, train.steps),
                     ("adam", 0.002, 0.5, 0.999, 1e-8, 100, 120_000))
    self.assertEqual((config.data.options.num_digits, config.data.frame_sampling),
                     (2, "thesis"))

  @test_case.parameterized.parameters(64, 128)
  def test_drnet_kth_is_the_thesis_model(self, image_size):
    config = config_loader.load("drnet", "kth")
    config_loader.apply_overrides(config, [f"model.image_size={image_size}"])
    self.assertEqual(config.data.options.image_size, image_size)
    built = factory.build_model(config.model)
    built.build()
    self.assertEqual(trainer.parameter_summary(built)["trainable_parameters"],
                     DRNET_KTH_PARAMETERS[image_size])
    m, train = config.model, config.train
    # Thesis §5.3.1: VGG16 content encoder with U-Net skips, ResNet-18 pose encoder,
    # |h_c| 128, |h_p| 5, alpha 1, beta 1e-4, C 2 x 100; grey KTH; drnet-py's optimiser,
    # batch and schedule.
    self.assertEqual((m.content_encoder, m.pose_encoder, m.content_dim, m.pose_dim,
                      m.normalize_content, m.normalize_pose, m.alpha, m.beta, m.sd_nf,
                      m.channels, m.base_filters),
                     ("vgg_unet", "resnet", 128, 5, False, False, 1.0, 1e-4, 100, 1, 64))
    self.assertEqual((train.optimizer, train.learning_rate, train.beta1, train.beta2,
                      train.epsilon, train.batch_size, train.steps),
                     ("adam", 0.002, 0.5, 0.999, 1e-8, 100, 120_000))
    self.assertEqual((config.data.frame_sampling, config.data.max_offset,
                      config.data.num_frames), ("thesis", 10, 20))

  def test_drnet_norb_is_the_nearest_thesis_model(self):
    config = config_loader.load("drnet", "norb")
    m, train = config.model, config.train
    # Thesis §5.3.1: ResNet-18 encoders (tfgen: ResNet pose, DCGAN content, the nearest),
    # DCGAN decoder, |h_c| 128, |h_p| 10, alpha 1, beta 0.1, C 2 x 100; grey 64x64.
    self.assertEqual((m.content_encoder, m.pose_encoder, m.content_dim, m.pose_dim,
                      m.normalize_content, m.normalize_pose, m.alpha, m.beta, m.sd_nf,
                      m.channels, m.image_size, m.base_filters),
                     ("dcgan", "resnet", 128, 10, False, False, 1.0, 0.1, 100, 1, 64, 64))
    self.assertEqual((train.optimizer, train.learning_rate, train.beta1, train.beta2,
                      train.epsilon, train.batch_size, train.steps),
                     ("adam", 0.002, 0.5, 0.999, 1e-8, 100, 120_000))
    # Whole 18-azimuth sweeps; frame size and channels as the model's.
    self.assertEqual((config.data.num_frames, config.data.frame_sampling,
                      config.data.max_offset), (18, "thesis", 17))
    self.assertEqual((config.data.options.image_size, config.data.options.camera),
                     (m.image_size, "first"))

  @test_case.parameterized.parameters("mnist", "kth", "norb")
  def test_drnet_quick_variant_is_smaller(self, dataset):
    default = config_loader.load("drnet", dataset)
    quick = config_loader.load("drnet", dataset, "quick")
    self.assertLess(quick.model.base_filters, default.model.base_filters)
    self.assertLessEqual(quick.train.steps, 1000)
    self.assertLessEqual(quick.train.batch_size, 16)
    # Only width, batch and length change: the task stays the thesis's.
    quick.model.base_filters = default.model.base_filters
    self.assertEqual(quick.model.to_dict(), default.model.to_dict())
    self.assertEqual(quick.data.to_dict(), default.data.to_dict())
    with self.assertRaisesRegex(ValueError, "Unknown variant 'nope'; valid: None, 'quick'"):
      config_loader.load("drnet", dataset, "nope")

  def test_drnet_mnist_repro_variants_differ_in_beta_only(self):
    default = config_loader.load("drnet", "mnist")
    repro = config_loader.load("drnet", "mnist", "repro")
    beta0 = config_loader.load("drnet", "mnist", "repro_beta0")
    self.assertEqual((repro.model.beta, beta0.model.beta), (default.model.beta, 0.0))
    self.assertLess(repro.model.base_filters, default.model.base_filters)
    self.assertLess(repro.train.steps, default.train.steps)
    beta0.model.beta = repro.model.beta
    self.assertEqual(beta0.to_dict(), repro.to_dict())
    # Width, batch and length change: the task stays the thesis's.
    repro.model.base_filters = default.model.base_filters
    self.assertEqual(repro.model.to_dict(), default.model.to_dict())
    self.assertEqual(repro.data.to_dict(), default.data.to_dict())

  @test_case.parameterized.parameters("svg_lp", "drnet")
  def test_kth_image_size_moves_model_and_data_together(self, model):
    config = config_loader.load(model, "kth")
    config_loader.apply_overrides(config, ["model.image_size=128"])
    self.assertEqual(config.data.options.image_size, 128)
    config = config_loader.load(model, "kth")
    config_loader.apply_overrides(config, ["data.options.image_size=128"])
    self.assertEqual(config.model.image_size, 128)

  def test_unknown_variant_raises(self):
    for dataset in ("kth", "bair"):
      with self.assertRaisesRegex(ValueError, "Unknown variant 'fast'"):
        config_loader.load("svg_lp", dataset, "fast")
      # The SM-MNIST-only fast reproduction is not silently ignored elsewhere.
      with self.assertRaisesRegex(ValueError, "Unknown variant 'repro'"):
        config_loader.load("svg_lp", dataset, "repro")

  @test_case.parameterized.parameters("svg_lp", "svg_fp", "svg_det")
  def test_repro_variant(self, model):
    default = config_loader.load(model, "smmnist")
    repro = config_loader.load(model, "smmnist", "repro")
    # Single digit (the trajectory analysis needs it), narrow networks; the task's frames,
    # latent size, beta and learning rate are the thesis's.
    self.assertEqual(repro.data.options.num_digits, 1)
    self.assertLess(repro.model.base_filters, default.model.base_filters)
    for field in ("architecture", "channels", "image_size", "num_context_frames",
                  "num_future_frames", "z_dim", "beta", "prior", "skip_mode"):
      self.assertEqual(repro.model[field], default.model[field], field)
    self.assertEqual(repro.train.learning_rate, default.train.learning_rate)
    factory.build_model(repro.model).build()


if __name__ == "__main__":
  test_case.tf.test.main()
