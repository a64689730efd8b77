"""Tests of the model-family registry: every family reachable, errors that name the choices."""

from tests import test_case
from tfgen.models import factory


class FactoryTest(test_case.TestCase):

  def test_every_family_imports_and_is_complete(self):
    for name in factory.MODEL_FAMILIES:
      family = factory.get_family(name)
      self.assertIsInstance(family, factory.ModelFamily, name)
      for hook in ("signatures", "samples"):
        if getattr(family, hook) is not None:
          module = factory.family_module(name, hook)
          self.assertTrue(hasattr(module, "signatures" if hook == "signatures"
                                  else "write_samples"), f"{name}.{hook}")

  def test_unknown_family_lists_the_valid_ones(self):
    with self.assertRaisesRegex(ValueError, r"Unknown model family 'gan'; valid: svg, drnet"):
      factory.get_family("gan")

  def test_missing_hook_names_the_families_that_have_it(self):
    original = factory._FAMILY_MODULES  # pylint: disable=protected-access
    try:
      factory._FAMILY_MODULES = dict(original, bare="tests.models.factory_test")  # pylint: disable=protected-access
      with self.assertRaisesRegex(ValueError, r"'bare' has no samples; families with "
                                  r"samples: svg"):
        factory.family_module("bare", "samples")
    finally:
      factory._FAMILY_MODULES = original  # pylint: disable=protected-access

  def test_build_model_passes_the_fields(self):
    with self.assertRaisesRegex(ValueError, "Unknown model family 'nope'"):
      factory.build_model({"name": "nope"})


FAMILY = factory.ModelFamily(build=dict, compile=None, check_data=None)


if __name__ == "__main__":
  test_case.main()
