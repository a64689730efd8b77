"""Parity with PyTorch: reference SVG architectures saved by `torch.save`, imported, compared.

Skipped without PyTorch. PyTorch runs in a subprocess (data/make_fixture.py OUT_DIR):
importing it after TensorFlow, as this test process has, can crash (torch._dynamo). The
subprocess builds the edenton/svg classes at small width (DCGAN-64, VGG-64 RGB with
--last_frame_skip, DCGAN-128 SVG-FP, VGG-128), saves each in the legacy and the zip format
and stores PyTorch's outputs on fixed inputs; here each file is imported into a work
directory, loaded as the binaries load it, and compared.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import pytest

from absl.testing import parameterized
import tensorflow as tf

from tests import test_case
from tests.interop import svg_reference_test
from tfgen.interop import svg_reference
from tfgen.train import workdir as workdir_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VARIANTS = ("dcgan64_lp", "vgg64_lp_rgb_last_frame_skip", "dcgan128_fp", "vgg128_lp")
EXPECTED = {  # (prior, architecture, image_size, channels, skip_mode, base config)
    "dcgan64_lp": ("learned", "dcgan", 64, 1, "reference", "svg_lp_smmnist"),
    "vgg64_lp_rgb_last_frame_skip": ("learned", "vgg", 64, 3, "last_frame", "svg_lp_bair"),
    "dcgan128_fp": ("fixed", "dcgan", 128, 1, "reference", "svg_fp_smmnist"),
    "vgg128_lp": ("learned", "vgg", 128, 1, "reference", "svg_lp_kth"),
}


@unittest.skipIf(importlib.util.find_spec("torch") is None, "needs PyTorch")
class TorchParityTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    env = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests/interop/data/make_fixture.py"), cls.root],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    if result.returncode:
      raise RuntimeError(f"make_fixture.py failed:\n{result.stderr[-3000:]}")

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  @parameterized.product(variant=VARIANTS, fmt=("legacy", "zip"))
  def test_import_matches_pytorch(self, variant, fmt):
    workdir = os.path.join(self.root, f"{variant}_{fmt}")
    result = svg_reference.import_checkpoint(
        os.path.join(self.root, f"{variant}_{fmt}.pth"), workdir)
    model, config, _ = workdir_lib.load_model(workdir)
    m = config.model
    self.assertEqual((m.prior, m.architecture, m.image_size, m.channels, m.skip_mode,
                      result["base_config"]), EXPECTED[variant])
    svg_reference_test.assert_matches_reference(
        self, model, os.path.join(self.root, f"{variant}_outputs.npz"))


if __name__ == "__main__":
  tf.test.main()


REFERENCE_DIR = os.environ.get("SVG_REFERENCE_DIR", "/tmp/ref/svg")


@pytest.mark.slow
@unittest.skipIf(importlib.util.find_spec("torch") is None, "needs PyTorch")
@unittest.skipIf(not os.path.isfile(os.path.join(REFERENCE_DIR, "models", "lstm.py")),
                 f"needs a checkout of edenton/svg at $SVG_REFERENCE_DIR ({REFERENCE_DIR})")
class AuthorsClassesTest(test_case.TestCase):
  """The authors' own classes at full width (DCGAN-64 1-channel, VGG-64 RGB): same parity.

  Checks that tests/interop/reference_models.py's narrow copies pickle and compute as the
  originals do, and the import at the reference's real sizes.
  """

  def test_full_width_import_matches_pytorch(self):
    root = tempfile.mkdtemp()
    try:
      result = subprocess.run(
          [sys.executable, os.path.join(ROOT, "tests/interop/data/make_fixture.py"),
           f"--reference_dir={REFERENCE_DIR}", root],
          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=600,
          check=False)
      self.assertEqual(result.returncode, 0, result.stderr[-3000:])
      for variant, architecture in (("authors_dcgan64_lp", "dcgan"),
                                    ("authors_vgg64_lp", "vgg")):
        with self.subTest(variant=variant):
          workdir = os.path.join(root, variant)
          svg_reference.import_checkpoint(os.path.join(root, f"{variant}_legacy.pth"), workdir)
          model, config, _ = workdir_lib.load_model(workdir)
          self.assertEqual((config.model.architecture, config.model.base_filters,
                            config.model.g_dim, config.model.rnn_size),
                           (architecture, 64, 128, 256))
          svg_reference_test.assert_matches_reference(
              self, model, os.path.join(root, f"{variant}_outputs.npz"),
              accumulation=16 * 1024)  # A 4x4 transposed conv over 2 x 512 channels.
    finally:
      shutil.rmtree(root, ignore_errors=True)
