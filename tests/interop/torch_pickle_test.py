"""Tests of `tfgen.interop.torch_pickle`: reading `torch.save` files without PyTorch."""

import os
import pickle
import tempfile
import zipfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tests.interop import pickle_craft as pc
from tfgen.interop import torch_pickle

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
FIXTURE = os.path.join(DATA, "svg_lp_dcgan_tiny.pth")


def _write(directory, name, data):
  path = os.path.join(directory, name)
  with open(path, "wb") as f:
    f.write(data)
  return path


def _legacy_module_checkpoint(weight, bias):
  """A PyTorch 0.3/0.4-style checkpoint of one Conv2d inside a Sequential."""
  storage = pc.storage_id("140", weight.size + bias.size, location="cuda:0",
                          module="torch.cuda")
  conv = pc.module(
      "torch.nn.modules.conv", "Conv2d",
      parameters=[
          # 0.4: Parameter(tensor, requires_grad); 0.3: _rebuild_tensor (v1); then BUILD with
          # the Variable state tuple (requires_grad, volatile, hooks).
          ("weight", pc.Build(pc.Call(pc.Global("torch.nn.parameter", "Parameter"),
                                      (pc.tensor_v1(storage, weight.shape, (6, 3, 1, 1)),
                                       True)),
                              pc.Tuple([True, False, None]))),
          ("bias", pc.Call(pc.Global("torch._utils", "_rebuild_parameter"),
                           (pc.tensor_v2(storage, bias.shape, (1,), offset=weight.size),
                            True, pc.Call(pc.Global("collections", "OrderedDict")))))],
      _backend=pc.Call(pc.Global("torch.nn.backends.thnn", "_get_thnn_function_backend")),
      in_channels=2, out_channels=1, kernel_size=pc.Tuple([3, 1]), stride=pc.Tuple([1, 1]))
  sequential = pc.module("torch.nn.modules.container", "Sequential", modules=[("0", conv)])
  obj = pc.Dict([("net", sequential),
                 ("opt", pc.Build(pc.NewObject(pc.Global("argparse", "Namespace")),
                                  pc.Dict([("optimizer", pc.Global("torch.optim.adam", "Adam")),
                                           ("g_dim", 8)])))])
  data = np.concatenate([weight.ravel(), bias.ravel()]).astype(np.float32)
  return pc.legacy_checkpoint(obj, {"140": data})


class FixtureTest(absltest.TestCase):

  def test_reads_the_committed_fixture(self):
    checkpoint = torch_pickle.load(FIXTURE)
    self.assertEqual(sorted(checkpoint),
                     ["decoder", "encoder", "frame_predictor", "opt", "posterior", "prior"])
    self.assertEqual(checkpoint["opt"].g_dim, 8)
    self.assertEqual(repr(checkpoint["opt"].optimizer), "torch.optim.adam.Adam")
    encoder = checkpoint["encoder"]
    self.assertEqual(encoder.type_name, "models.dcgan_64.encoder")
    self.assertEqual(encoder.modules["c1"].type_name, "models.dcgan_64.dcgan_conv")
    conv = encoder.named_modules()["c1.main.0"]
    self.assertEqual(conv.type_name, "torch.nn.modules.conv.Conv2d")
    self.assertEqual(tuple(conv.attributes["stride"]), (2, 2))
    tensors = encoder.named_tensors()
    self.assertEqual(tensors["c1.main.0.weight"].shape, (2, 1, 4, 4))
    self.assertEqual(tensors["c1.main.0.weight"].dtype, np.float32)
    self.assertEqual(tensors["c1.main.1.num_batches_tracked"].dtype, np.int64)
    # The LSTMs' recurrent state is a plain attribute, not a parameter.
    predictor = checkpoint["frame_predictor"]
    self.assertNotIn("hidden", predictor.parameters)
    self.assertEqual(predictor.attributes["hidden"][0][0].shape, (2, 8))
    self.assertEqual(predictor.named_tensors()["lstm.1.weight_ih"].shape, (32, 8))


class LegacyConstructsTest(absltest.TestCase):
  """PyTorch 0.3 / 0.4 pickles: Parameter calls, thnn backend, v1 tensors, CUDA storages."""

  def test_old_pytorch_module_checkpoint(self):
    weight = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    bias = np.array([-1.5], np.float32)
    path = _write(tempfile.mkdtemp(), "old.pth", _legacy_module_checkpoint(weight, bias))
    checkpoint = torch_pickle.load(path)
    tensors = checkpoint["net"].named_tensors()
    np.testing.assert_array_equal(tensors["0.weight"], weight)
    np.testing.assert_array_equal(tensors["0.bias"], bias)
    self.assertEqual(checkpoint["opt"].g_dim, 8)
    self.assertEqual(repr(checkpoint["net"].modules["0"].attributes["_backend"]),
                     "torch.nn.backends.thnn._get_thnn_function_backend")

  def test_reference_classes_under_another_package(self):
    obj = pc.Dict([("a", pc.module("svg.models.lstm", "gaussian_lstm")),
                   ("b", pc.module("dcgan_64", "encoder"))])
    path = _write(tempfile.mkdtemp(), "moved.pth", pc.legacy_checkpoint(obj, {}))
    checkpoint = torch_pickle.load(path)
    self.assertEqual(checkpoint["a"].type_name, "models.lstm.gaussian_lstm")
    self.assertEqual(checkpoint["b"].type_name, "models.dcgan_64.encoder")

  def test_strided_tensor_and_storage_view(self):
    data = np.arange(12, dtype=np.float64)
    root = pc.storage_id("1", 12, storage_type="DoubleStorage")
    view = pc.storage_id("1", 12, storage_type="DoubleStorage", view=("2", 2, 8))
    obj = pc.Dict([("transposed", pc.tensor_v2(root, (3, 2), (1, 3))),
                   ("viewed", pc.tensor_v2(view, (2, 2), (2, 1), offset=1))])
    path = _write(tempfile.mkdtemp(), "views.pth", pc.legacy_checkpoint(obj, {"1": data}))
    checkpoint = torch_pickle.load(path)
    np.testing.assert_array_equal(checkpoint["transposed"], data[:6].reshape(2, 3).T)
    np.testing.assert_array_equal(checkpoint["viewed"], [[3, 4], [5, 6]])

  def test_zip_format(self):
    # >= 1.6 layout, written by hand: archive/data.pkl + archive/data/<key>.
    weight = np.arange(4, dtype=np.float32)
    storage = pc.PersistentId(pc.Tuple(["storage", pc.Global("torch", "FloatStorage"), "0",
                                        "cpu", 4]))
    obj = pc.Dict([("w", pc.Call(pc.Global("torch._utils", "_rebuild_parameter"),
                                 (pc.tensor_v2(storage, (2, 2), (2, 1)), True,
                                  pc.Call(pc.Global("collections", "OrderedDict")))))])
    path = os.path.join(tempfile.mkdtemp(), "zip.pth")
    with zipfile.ZipFile(path, "w") as archive:
      archive.writestr("zip/data.pkl", pc.dumps(obj))
      archive.writestr("zip/byteorder", "little")
      archive.writestr("zip/data/0", weight.tobytes())
    np.testing.assert_array_equal(torch_pickle.load(path)["w"], weight.reshape(2, 2))


class BadInputTest(parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = tempfile.mkdtemp()

  def assertRefused(self, data, pattern, name="bad.pth"):
    path = _write(self.dir, name, data)
    with self.assertRaisesRegex(ValueError, pattern):
      torch_pickle.load(path)

  def test_missing_file(self):
    with self.assertRaisesRegex(FileNotFoundError, "No checkpoint file"):
      torch_pickle.load(os.path.join(self.dir, "nope.pth"))

  @parameterized.named_parameters(
      ("empty", b""),
      ("text", b"model weights\n" * 10),
      ("random", np.random.default_rng(0).bytes(4096)),
      ("plain_pickle", pickle.dumps({"a": 1}, protocol=2)),
      ("numpy_file", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}"),
  )
  def test_not_a_checkpoint(self, data):
    self.assertRefused(data, "not a PyTorch checkpoint")

  def test_git_lfs_pointer(self):
    # What a clone without Git LFS holds in place of a large file.
    self.assertRefused(b"version https://git-lfs.github.com/spec/v1\n"
                       b"oid sha256:" + b"0" * 64 + b"\nsize 345678901\n",
                       "is a Git LFS pointer, not the checkpoint itself")

  def test_zip_that_is_not_a_checkpoint(self):
    path = os.path.join(self.dir, "other.zip")
    with zipfile.ZipFile(path, "w") as archive:
      archive.writestr("readme.txt", "hello")
    with self.assertRaisesRegex(ValueError, "not a PyTorch checkpoint"):
      torch_pickle.load(path)

  def test_truncated_everywhere(self):
    with open(FIXTURE, "rb") as f:
      data = f.read()
    # Cut inside the header pickles, the object pickle, the key list and the storage data.
    for size in (5, 40, 200, len(data) // 3, len(data) // 2, len(data) - 1000, len(data) - 1):
      with self.subTest(size=size):
        self.assertRefused(data[:size], "truncated|not a PyTorch checkpoint|corrupt",
                           name=f"cut{size}.pth")

  def test_refuses_os_system_without_running_it(self):
    marker = os.path.join(self.dir, "pwned")
    for func in (pc.Global("os", "system"), pc.Global("posix", "system"),
                 pc.Global("builtins", "exec"), pc.Global("subprocess", "call")):
      with self.subTest(func=f"{func.module}.{func.name}"):
        evil = pc.Dict([("encoder", pc.Call(func, (f"touch {marker}",)))])
        # As the object pickle of a legacy checkpoint, and as a bare pickle.
        self.assertRefused(pc.legacy_checkpoint(evil, {}), f"{func.module}.{func.name}")
        self.assertRefused(pc.dumps(evil), "not a PyTorch checkpoint")
        self.assertFalse(os.path.exists(marker))

  def test_refuses_unknown_classes(self):
    for module, name in (("models.dcgan_64", "evil"), ("torch.nn.modules.module", "Module"),
                         ("evil.models.lstm", "system"), ("os.lstm", "lstm_"),
                         ("numpy", "load"), ("torch", "load")):
      with self.subTest(name=f"{module}.{name}"):
        obj = pc.Dict([("encoder", pc.NewObject(pc.Global(module, name)))])
        self.assertRefused(pc.legacy_checkpoint(obj, {}), f"global {module}.{name}")

  def test_tensor_past_its_storage(self):
    storage = pc.storage_id("1", 4)
    obj = pc.Dict([("w", pc.tensor_v2(storage, (3, 2), (2, 1)))])
    self.assertRefused(pc.legacy_checkpoint(obj, {"1": np.zeros(4, np.float32)}),
                       "past the end of storage")

  def test_storage_size_mismatch(self):
    obj = pc.Dict([("w", pc.tensor_v2(pc.storage_id("1", 8), (2,), (1,)))])
    self.assertRefused(pc.legacy_checkpoint(obj, {"1": np.zeros(4, np.float32)}),
                       "corrupt|truncated")


if __name__ == "__main__":
  absltest.main()
