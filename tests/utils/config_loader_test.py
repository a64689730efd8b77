"""Tests of config discovery, overrides and the JSON round trip."""

from tests import test_case
from tfgen.utils import config_loader


class ConfigLoaderTest(test_case.TestCase):

  def test_available_lists_svg_on_smmnist(self):
    table = config_loader.available()
    for model in ("svg_det", "svg_fp", "svg_lp"):
      self.assertIn("smmnist", table[model])

  def test_variants_derive_from_base(self):
    lp = config_loader.load("svg_lp", "smmnist")
    fp = config_loader.load("svg_fp", "smmnist")
    det = config_loader.load("svg_det", "smmnist")
    self.assertEqual((lp.model.prior, fp.model.prior, det.model.prior),
                     ("learned", "fixed", "none"))
    fp.model.prior = lp.model.prior
    fp.model_name = lp.model_name
    self.assertEqual(fp.to_dict(), lp.to_dict())

  def test_reference_hyper_parameters(self):
    config = config_loader.load("svg_lp", "smmnist")
    self.assertEqual(
        (config.model.z_dim, config.model.g_dim, config.model.rnn_size, config.model.beta,
         config.model.num_context_frames, config.model.num_future_frames,
         config.train.learning_rate, config.train.beta1, config.train.batch_size),
        (10, 128, 256, 1e-4, 5, 10, 0.002, 0.9, 100))

  def test_overrides(self):
    config = config_loader.load("svg_lp", "smmnist")
    config_loader.apply_overrides(config, [
        "model.z_dim=16", "model.prior=fixed", "train.learning_rate=1", "data.data_dir=/x",
        "train.precision=mixed_bfloat16"])
    self.assertEqual(config.model.z_dim, 16)
    self.assertEqual(config.model.prior, "fixed")
    self.assertEqual(config.train.learning_rate, 1.0)
    self.assertIsInstance(config.train.learning_rate, float)
    self.assertEqual(config.data.data_dir, "/x")

  @test_case.parameterized.parameters(
      ("model.nope=1", "no field 'model.nope'"),
      ("nope.z_dim=1", "no field 'nope'"),
      ("model.z_dim=1.5", "'model.z_dim' is a int"),
      ("model=3", "'model' is a group"),
      ("model.z_dim", "expected <field>=<value>"),
  )
  def test_bad_overrides(self, override, message):
    config = config_loader.load("svg_lp", "smmnist")
    with self.assertRaisesRegex(ValueError, message):
      config_loader.apply_overrides(config, [override])

  def test_unknown_names(self):
    with self.assertRaisesRegex(ValueError, "Unknown model 'x'; valid models: .*svg_lp"):
      config_loader.load("x", "smmnist")
    with self.assertRaisesRegex(ValueError, "Unknown dataset 'x'; valid datasets: .*smmnist"):
      config_loader.load("svg_lp", "x")
    with self.assertRaisesRegex(ValueError, "Unknown variant 'fast'"):
      config_loader.load("svg_lp", "smmnist", "fast")

  def test_json_round_trip(self):
    config = config_loader.load("svg_lp", "smmnist", "quick")
    again = config_loader.from_json(config_loader.to_json(config))
    self.assertEqual(again.to_dict(), config.to_dict())
