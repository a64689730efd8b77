"""Parity with PyTorch: drnet-py architectures saved by `torch.save`, imported, compared.

Skipped without PyTorch. PyTorch runs in a subprocess (data/make_drnet_fixture.py OUT_DIR):
importing it after TensorFlow, as this test process has, can crash (torch._dynamo). The
subprocess builds drnet-py's classes at small width (DCGAN U-Net content + DCGAN pose with
--normalize, RGB, with netC and a 2-layer LSTM; DCGAN content without skips at 128x128
grey, as train_drnet.py saves it; VGG U-Net content + ResNet pose at 128x128 with netC and
a 1-layer LSTM), saves each in the legacy and the zip format and stores PyTorch's outputs on
fixed inputs in eval mode (batch norm with random running statistics); here each file is
imported into a work directory (the LSTM on the imported DrNET), loaded as the binaries
load it, and compared: E_c, E_p, D with skips, C, the teacher-forced LSTM poses and the
predicted frames.
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
from tests.interop import drnet_reference_test
from tfgen.interop import importer
from tfgen.train import workdir as workdir_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests/interop/data/make_drnet_fixture.py")
# variant -> (content_encoder, pose_encoder, image_size, channels, normalize_pose,
#             base config, has an LSTM)
VARIANTS = {
    "mnist_unet_dcgan": ("dcgan_unet", "dcgan", 64, 3, True, "drnet_mnist", True),
    "mnist_dcgan_128": ("dcgan", "dcgan", 128, 1, False, "drnet_mnist", False),
    "kth_vgg_resnet_128": ("vgg_unet", "resnet", 128, 3, False, "drnet_kth", True),
}


def _make(out_dir, *args, timeout=300):
  result = subprocess.run([sys.executable, SCRIPT, *args, out_dir], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=timeout,
                          check=False)
  if result.returncode:
    raise RuntimeError(f"make_drnet_fixture.py failed:\n{result.stderr[-3000:]}")


@unittest.skipIf(importlib.util.find_spec("torch") is None, "needs PyTorch")
class DrNetTorchParityTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    _make(cls.root)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  @parameterized.product(variant=tuple(VARIANTS), fmt=("legacy", "zip"))
  def test_import_matches_pytorch(self, variant, fmt):
    workdir = os.path.join(self.root, f"{variant}_{fmt}")
    outputs = os.path.join(self.root, f"{variant}_outputs.npz")
    result = importer.import_checkpoint(os.path.join(self.root, f"{variant}_{fmt}.pth"),
                                        workdir)
    model, config, _ = workdir_lib.load_model(workdir)
    m = config.model
    content, pose, size, channels, normalize, base, has_lstm = VARIANTS[variant]
    self.assertEqual((m.content_encoder, m.pose_encoder, m.image_size, m.channels,
                      m.normalize_pose, result["base_config"]),
                     (content, pose, size, channels, normalize, base))
    drnet_reference_test.assert_drnet_matches_reference(self, model, outputs)
    if has_lstm:
      lstm_workdir = os.path.join(self.root, f"{variant}_lstm_{fmt}")
      importer.import_checkpoint(os.path.join(self.root, f"{variant}_lstm_{fmt}.pth"),
                                 lstm_workdir, drnet_workdir=workdir)
      lstm, _, _ = workdir_lib.load_model(lstm_workdir)
      drnet_reference_test.assert_lstm_matches_reference(self, lstm, outputs)


REFERENCE_DIR = os.environ.get("DRNET_REFERENCE_DIR", "/tmp/ref/drnet-py")


@pytest.mark.slow
@unittest.skipIf(importlib.util.find_spec("torch") is None, "needs PyTorch")
@unittest.skipIf(not os.path.isfile(os.path.join(REFERENCE_DIR, "models", "lstm.py")),
                 f"needs a checkout of edenton/drnet-py at $DRNET_REFERENCE_DIR "
                 f"({REFERENCE_DIR})")
class AuthorsClassesTest(test_case.TestCase):
  """drnet-py's own classes at full width (its defaults: DCGAN U-Net 128 / DCGAN 10, RGB).

  Checks that tests/interop/drnet_reference_models.py's narrow copies pickle and compute
  as the originals do, and the import at the reference's real sizes.
  """

  def test_full_width_import_matches_pytorch(self):
    root = tempfile.mkdtemp()
    try:
      _make(root, f"--reference_dir={REFERENCE_DIR}", timeout=600)
      workdir = os.path.join(root, "drnet")
      importer.import_checkpoint(os.path.join(root, "authors_mnist_default_legacy.pth"),
                                 workdir)
      model, config, _ = workdir_lib.load_model(workdir)
      self.assertEqual((config.model.content_encoder, config.model.base_filters,
                        config.model.content_dim, config.model.pose_dim, config.model.sd_nf),
                       ("dcgan_unet", 64, 128, 10, 100))
      outputs = os.path.join(root, "authors_mnist_default_outputs.npz")
      # A 4x4 transposed conv over 2 x 512 channels.
      drnet_reference_test.assert_drnet_matches_reference(self, model, outputs,
                                                          accumulation=16 * 1024)
      lstm_workdir = os.path.join(root, "lstm")
      importer.import_checkpoint(os.path.join(root, "authors_mnist_default_lstm_legacy.pth"),
                                 lstm_workdir, drnet_workdir=workdir)
      lstm, lstm_config, _ = workdir_lib.load_model(lstm_workdir)
      self.assertEqual((lstm_config.model.hidden_size, lstm_config.model.num_layers), (256, 2))
      drnet_reference_test.assert_lstm_matches_reference(self, lstm, outputs,
                                                         accumulation=16 * 1024)
    finally:
      shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
  tf.test.main()
