"""Reads PyTorch checkpoints (`torch.save` files) with `pickle` and numpy, without PyTorch.

Two container formats:

- **legacy** (PyTorch 0.1.10 - 1.5, and later ones with `_use_new_zipfile_serialization=
  False`): five pickles back to back -- the magic number, the protocol version, a
  `sys_info` dict, the object itself (tensors refer to storages by persistent id), and the
  sorted list of storage keys -- followed, for each key in that order, by the storage's
  element count (int64, little-endian) and its raw bytes.
- **zip** (PyTorch >= 1.6): `<archive>/data.pkl` (the object, storages by persistent id)
  and `<archive>/data/<key>` (raw bytes of each storage).

Nothing in the file is executed. The unpickler (`_RestrictedUnpickler`) resolves only the
globals in `_ALLOWED`/`MODULE_CLASSES` and maps each to an inert stand-in: `torch.nn`
modules and the authors' module classes become `Module` records (their `__dict__`, i.e.
`_parameters`, `_buffers`, `_modules` and plain attributes), tensors become numpy arrays,
`argparse.Namespace` stays a namespace (the authors' classes are also accepted under another
package path, e.g. `svg.models.lstm.lstm`, and named `models.lstm.lstm`). Any other global (e.g. `os.system`) raises
`ValueError` naming it, before anything it names is touched.

Usage:
  checkpoint = torch_pickle.load("model.pth")  # dict of Module records, numpy arrays, ...
  checkpoint["encoder"].named_tensors()        # {"c1.main.0.weight": array, ...}
"""

import argparse
import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001

# torch.<Name>Storage -> numpy dtype (torch.cuda.<Name>Storage too).
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}

# Classes of `torch.nn` whose instances may appear in a checkpoint of whole modules.
TORCH_NN_CLASSES = {
    "torch.nn.modules.conv": ("Conv2d", "ConvTranspose2d", "Conv1d", "Conv3d"),
    "torch.nn.modules.batchnorm": ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
    "torch.nn.modules.linear": ("Linear", "Identity"),
    "torch.nn.modules.rnn": ("LSTMCell", "GRUCell", "RNNCell", "LSTM", "GRU"),
    "torch.nn.modules.container": ("Sequential", "ModuleList", "ModuleDict"),
    "torch.nn.modules.activation": ("LeakyReLU", "Tanh", "Sigmoid", "ReLU", "ELU", "Softmax"),
    "torch.nn.modules.pooling": ("MaxPool2d", "AvgPool2d"),
    "torch.nn.modules.upsampling": ("UpsamplingNearest2d", "UpsamplingBilinear2d", "Upsample"),
    "torch.nn.modules.dropout": ("Dropout", "Dropout2d"),
    "torch.nn.modules.normalization": ("LayerNorm", "GroupNorm"),
    "torch.nn.modules.padding": ("ZeroPad2d", "ReflectionPad2d"),
}

# The module classes of the authors' code: edenton/svg's, and edenton/drnet-py's (whose
# `models.dcgan_64` adds `pose_encoder` and `content_encoder`, and whose `models.lstm.lstm`
# has the name of SVG's).
REFERENCE_CLASSES = {
    "models.dcgan_64": ("encoder", "decoder", "dcgan_conv", "dcgan_upconv", "pose_encoder",
                        "content_encoder"),
    "models.dcgan_128": ("encoder", "decoder", "dcgan_conv", "dcgan_upconv", "pose_encoder",
                         "content_encoder"),
    "models.vgg_64": ("encoder", "decoder", "vgg_layer"),
    "models.vgg_128": ("encoder", "decoder", "vgg_layer"),
    "models.lstm": ("lstm", "gaussian_lstm"),
    "models.dcgan_unet_64": ("content_encoder", "decoder", "dcgan_conv", "dcgan_upconv"),
    "models.dcgan_unet_128": ("content_encoder", "decoder", "dcgan_conv", "dcgan_upconv"),
    "models.vgg_unet_64": ("content_encoder", "decoder", "vgg_layer"),
    "models.vgg_unet_128": ("content_encoder", "decoder", "vgg_layer"),
    "models.resnet_64": ("pose_encoder", "resnet18", "BasicBlock", "Bottleneck"),
    "models.resnet_128": ("pose_encoder", "resnet18", "BasicBlock", "Bottleneck"),
    "models.classifiers": ("scene_discriminator",),
}


class CheckpointError(ValueError):
  """The file is not a (readable, complete) PyTorch checkpoint, or names forbidden globals."""


class Module:
  """A PyTorch module as plain data: its class name and pickled `__dict__`.

  Attributes:
    type_name: "module.Class" of the pickled class, e.g. "torch.nn.modules.conv.Conv2d".
    parameters: `OrderedDict` name -> numpy array (or None).
    buffers: `OrderedDict` name -> numpy array (or None).
    modules: `OrderedDict` name -> `Module` (or None).
    attributes: the other entries of the module's `__dict__` (hyper-parameters, hooks,
      non-parameter tensors such as the reference LSTMs' `hidden`).
  """

  type_name = "?"

  def __setstate__(self, state):
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
      state = state[0]  # (dict, slots)
    if not isinstance(state, dict):
      raise CheckpointError(f"Unexpected pickled state of {self.type_name}: "
                            f"{type(state).__name__}.")
    state = dict(state)
    self.parameters = collections.OrderedDict(state.pop("_parameters", {}) or {})
    self.buffers = collections.OrderedDict(state.pop("_buffers", {}) or {})
    self.modules = collections.OrderedDict(state.pop("_modules", {}) or {})
    self.attributes = state

  @property
  def class_name(self):
    return self.type_name.rsplit(".", 1)[-1]

  def named_tensors(self, prefix=""):
    """`{"a.b.weight": array}` of every parameter and buffer, as PyTorch's `state_dict`."""
    out = collections.OrderedDict()
    for table in (self.parameters, self.buffers):
      for name, value in table.items():
        if value is not None:
          out[prefix + name] = value
    for name, child in self.modules.items():
      if child is not None:
        out.update(child.named_tensors(f"{prefix}{name}."))
    return out

  def named_modules(self, prefix=""):
    """`{"a.b": Module}` of this module ("") and every descendant."""
    out = collections.OrderedDict([(prefix.rstrip("."), self)])
    for name, child in self.modules.items():
      if child is not None:
        out.update(child.named_modules(f"{prefix}{name}."))
    return out

  def __repr__(self):
    return f"<Module {self.type_name} ({', '.join(self.modules) or 'leaf'})>"


def _module_class(qualified):
  return type(qualified.rsplit(".", 1)[-1], (Module,), {"type_name": qualified})


class _Storage:
  """A storage named by a persistent id; its bytes arrive later (legacy) or at once (zip)."""

  def __init__(self, key, dtype, numel, location):
    self.key, self.dtype, self.numel, self.location = key, np.dtype(dtype), numel, location
    self.array = None  # 1-D numpy array of `numel` elements once read.
    self.view = None  # (root storage, element offset) of a legacy storage view.


class _LazyTensor:
  """`_rebuild_tensor(storage, offset, size, stride)` before the storage's bytes are read."""

  def __init__(self, storage, offset, size, stride):
    self.storage, self.offset = storage, int(offset)
    self.size, self.stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)

  def materialise(self):
    storage = self.storage
    base_offset = 0
    if storage.view is not None:
      storage, base_offset = storage.view
    data = storage.array
    if data is None:
      raise CheckpointError(f"Storage {storage.key!r} has no data: truncated checkpoint?")
    if len(self.size) != len(self.stride) or any(s < 0 for s in self.size + self.stride):
      raise CheckpointError(f"Bad tensor geometry size={self.size} stride={self.stride}.")
    offset = base_offset + self.offset
    if 0 in self.size:
      return np.zeros(self.size, data.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
    if offset < 0 or last >= data.size:
      raise CheckpointError(f"A tensor of size {self.size} reads past the end of storage "
                            f"{storage.key!r} ({data.size} elements): corrupt checkpoint.")
    item = data.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        data[offset:], shape=self.size, strides=tuple(s * item for s in self.stride),
        writeable=False)
    return np.array(view)  # A contiguous copy.


class _TensorHolder:
  """What `Parameter(...)` / `Variable(...)` / `_rebuild_parameter` return: the data."""

  def __init__(self, data):
    self.data = data

  def __setstate__(self, state):  # (requires_grad, volatile, hooks) etc.: not needed.
    del state


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
  if not isinstance(storage, _Storage):
    raise CheckpointError("A tensor refers to something that is not a storage.")
  return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *unused):
  return _TensorHolder(data)


class _TensorFactory:
  """Stand-in for `torch.nn.parameter.Parameter` / `torch.autograd.variable.Variable`."""

  def __new__(cls, data=None, *unused, **unused_kwargs):
    return _TensorHolder(data)


class _Marker:
  """A global only named in the checkpoint (an optimiser class, a backend), kept as its name."""

  def __init__(self, name):
    self.name = name

  def __call__(self, *unused, **unused_kwargs):
    return self

  def __repr__(self):
    return self.name


def _codecs_encode(text, encoding="latin1"):
  # Python 3 protocol-2 pickles of `bytes`.
  if encoding not in ("latin1", "latin-1"):
    raise CheckpointError(f"Refusing _codecs.encode with encoding {encoding!r}.")
  return text.encode("latin1")


def _reconstructor(cls, base, state):
  if base is not object:
    raise CheckpointError(f"Refusing copyreg._reconstructor with base {base!r}.")
  obj = cls.__new__(cls)
  if state is not None:
    obj.__setstate__(state)
  return obj


def _newobj(cls, *args):
  return cls.__new__(cls, *args)


def _rebuild_from_type_v2(func, new_type, args, state):
  del new_type, state
  return func(*args)


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.nn.parameter", "Parameter"): _TensorFactory,
    ("torch.autograd.variable", "Variable"): _TensorFactory,
    ("torch", "Size"): tuple,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("argparse", "Namespace"): argparse.Namespace,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "object"): object,
    ("__builtin__", "set"): set,
    ("__builtin__", "object"): object,
    ("_codecs", "encode"): _codecs_encode,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("copyreg", "__newobj__"): _newobj,
    ("copy_reg", "__newobj__"): _newobj,
    ("torch.nn.backends.thnn", "_get_thnn_function_backend"):
        _Marker("torch.nn.backends.thnn._get_thnn_function_backend"),
}
for _module, _names in {"torch.optim.adam": ("Adam",), "torch.optim.rmsprop": ("RMSprop",),
                        "torch.optim.sgd": ("SGD",), "torch.optim.adamw": ("AdamW",)}.items():
  for _name in _names:
    _ALLOWED[(_module, _name)] = _Marker(f"{_module}.{_name}")

# Storage types: the dtype; `torch.cuda.X` as well (read to the CPU).
_STORAGE_TYPES = {}
for _name, _dtype in _STORAGE_DTYPES.items():
  _STORAGE_TYPES[("torch", _name)] = _dtype
  _STORAGE_TYPES[("torch.cuda", _name)] = _dtype

MODULE_CLASSES = {}
for _table in (TORCH_NN_CLASSES, REFERENCE_CLASSES):
  for _module, _names in _table.items():
    for _name in _names:
      MODULE_CLASSES[(_module, _name)] = _module_class(f"{_module}.{_name}")


class _StorageType:
  def __init__(self, name, dtype):
    self.name, self.dtype = name, np.dtype(dtype)


class _RestrictedUnpickler(pickle.Unpickler):
  """Unpickler whose globals are the stand-ins above; anything else is refused."""

  def __init__(self, file, storages=None, load_storage=None):
    super().__init__(file, encoding="latin1")
    self._storages = storages if storages is not None else {}
    self._load_storage = load_storage  # zip: key -> bytes; legacy: None (bytes come later).

  def find_class(self, module, name):
    if (module, name) in _ALLOWED:
      return _ALLOWED[(module, name)]
    if (module, name) in MODULE_CLASSES:
      return MODULE_CLASSES[(module, name)]
    # The authors' classes imported under another package path (e.g. `svg.models.lstm`):
    # the same records, named as the reference names them.
    reference_module = f"models.{module.rsplit('.', 1)[-1]}"
    if reference_module in REFERENCE_CLASSES and (reference_module, name) in MODULE_CLASSES:
      return MODULE_CLASSES[(reference_module, name)]
    if (module, name) in _STORAGE_TYPES:
      return _StorageType(f"{module}.{name}", _STORAGE_TYPES[(module, name)])
    raise CheckpointError(f"The checkpoint names the global {module}.{name}, which this "
                          "reader does not allow (nothing in the file is executed; only "
                          "PyTorch tensors, the known torch.nn and reference model classes, "
                          "OrderedDict and argparse.Namespace are read).")

  def persistent_load(self, pid):
    if not isinstance(pid, tuple) or not pid:
      raise CheckpointError(f"Unexpected persistent id {pid!r}.")
    typename = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
    if typename == "module":
      # Legacy saves of whole modules: ("module", class, source file, source). The class was
      # resolved through find_class; the source is not used.
      return pid[1]
    if typename != "storage":
      raise CheckpointError(f"Unknown persistent id type {typename!r}.")
    storage_type, key, location, numel = pid[1:5]
    view_metadata = pid[5] if len(pid) > 5 else None
    if not isinstance(storage_type, _StorageType):
      raise CheckpointError(f"Unsupported storage type {storage_type!r}.")
    key = str(key)
    storage = self._storages.get(key)
    if storage is None:
      storage = _Storage(key, storage_type.dtype, int(numel), location)
      if self._load_storage is not None:
        raw = self._load_storage(key)
        expected = int(numel) * storage.dtype.itemsize
        if len(raw) < expected:
          raise CheckpointError(f"Storage {key!r} holds {len(raw)} bytes, expected "
                                f"{expected}: truncated checkpoint.")
        storage.array = np.frombuffer(raw[:expected], storage.dtype.newbyteorder("<"))
      self._storages[key] = storage
    if view_metadata is not None:
      view_key, offset, view_numel = view_metadata
      view = _Storage(str(view_key), storage_type.dtype, int(view_numel), location)
      view.view = (storage, int(offset))
      return view
    return storage


def _resolve(obj, memo=None):
  """Replaces lazy tensors / holders by numpy arrays throughout the loaded object."""
  memo = {} if memo is None else memo
  if id(obj) in memo:
    return memo[id(obj)]
  if isinstance(obj, _LazyTensor):
    out = obj.materialise()
  elif isinstance(obj, _TensorHolder):
    out = _resolve(obj.data, memo)
  elif isinstance(obj, Module):
    memo[id(obj)] = obj
    for table in (obj.parameters, obj.buffers, obj.modules, obj.attributes):
      for k in list(table):
        table[k] = _resolve(table[k], memo)
    return obj
  elif isinstance(obj, argparse.Namespace):
    memo[id(obj)] = obj
    for k, v in vars(obj).items():
      setattr(obj, k, _resolve(v, memo))
    return obj
  elif isinstance(obj, dict):
    out = type(obj)((k, _resolve(v, memo)) for k, v in obj.items())
  elif isinstance(obj, list):
    out = [_resolve(v, memo) for v in obj]
  elif isinstance(obj, tuple):
    out = tuple(_resolve(v, memo) for v in obj)
  else:
    out = obj
  memo[id(obj)] = out
  return out


def _unpickle(f, **kwargs):
  try:
    return _RestrictedUnpickler(f, **kwargs).load()
  except CheckpointError:
    raise
  except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, KeyError,
          ValueError, struct.error, UnicodeDecodeError, MemoryError, RecursionError) as e:
    raise CheckpointError(f"unreadable pickle ({type(e).__name__}: {e})") from e


def _load_legacy(f, name):
  try:
    magic = _unpickle(f)
  except CheckpointError as e:
    raise CheckpointError(f"{name} is not a PyTorch checkpoint: {e}.") from e
  if magic != MAGIC_NUMBER:
    raise CheckpointError(f"{name} is not a PyTorch checkpoint (no torch.save magic number).")
  try:
    protocol = _unpickle(f)
    if protocol != PROTOCOL_VERSION:
      raise CheckpointError(f"unsupported legacy protocol version {protocol!r}")
    sys_info = _unpickle(f)
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
      raise CheckpointError("big-endian checkpoints are not supported")
    storages = {}
    obj = _unpickle(f, storages=storages)
    keys = _unpickle(f)
  except CheckpointError as e:
    if "does not allow" in str(e):
      raise
    raise CheckpointError(f"{name}: truncated or corrupt PyTorch checkpoint: {e}.") from e
  if not isinstance(keys, list):
    raise CheckpointError(f"{name}: corrupt checkpoint (no storage key list).")
  for key in keys:
    key = str(key)
    storage = storages.get(key)
    if storage is None:
      raise CheckpointError(f"{name}: storage {key!r} listed but never referenced.")
    header = f.read(8)
    if len(header) < 8:
      raise CheckpointError(f"{name} is truncated: storage {key!r} is missing.")
    (numel,) = struct.unpack("<q", header)
    if numel != storage.numel:
      raise CheckpointError(f"{name}: storage {key!r} has {numel} elements in the data, "
                            f"{storage.numel} in the pickle: corrupt checkpoint.")
    nbytes = numel * storage.dtype.itemsize
    raw = f.read(nbytes)
    if len(raw) < nbytes:
      raise CheckpointError(f"{name} is truncated: storage {key!r} has {len(raw)} of its "
                            f"{nbytes} bytes.")
    storage.array = np.frombuffer(raw, storage.dtype.newbyteorder("<"))
  return obj


def _load_zip(path_or_file, name):
  try:
    archive = zipfile.ZipFile(path_or_file)
    names = archive.namelist()
  except (zipfile.BadZipFile, OSError, EOFError) as e:
    raise CheckpointError(f"{name}: unreadable zip checkpoint ({e}).") from e
  pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
  if len(pickles) != 1:
    raise CheckpointError(f"{name} is a zip file but not a PyTorch checkpoint (no "
                          "<archive>/data.pkl).")
  prefix = pickles[0][:-len("data.pkl")]
  byteorder_name = prefix + "byteorder"
  if byteorder_name in names and archive.read(byteorder_name).strip() not in (b"little", b""):
    raise CheckpointError(f"{name}: big-endian checkpoints are not supported.")

  def load_storage(key):
    try:
      return archive.read(f"{prefix}data/{key}")
    except KeyError as e:
      raise CheckpointError(f"{name}: storage {key!r} is missing from the archive.") from e
    except (zipfile.BadZipFile, OSError, EOFError, zlib_error()) as e:
      raise CheckpointError(f"{name}: storage {key!r} is corrupt ({e}).") from e

  try:
    data = archive.read(pickles[0])
  except (zipfile.BadZipFile, OSError, EOFError, zlib_error()) as e:
    raise CheckpointError(f"{name}: corrupt zip checkpoint ({e}).") from e
  try:
    return _unpickle(io.BytesIO(data), load_storage=load_storage)
  except CheckpointError as e:
    if "does not allow" in str(e) or name in str(e):
      raise
    raise CheckpointError(f"{name}: corrupt PyTorch checkpoint: {e}.") from e


def zlib_error():
  import zlib  # pylint: disable=g-import-not-at-top
  return zlib.error


def load(path):
  """Reads a `torch.save` file into plain Python: `Module` records, numpy arrays, dicts.

  Args:
    path: str, a legacy-format or zip-format PyTorch checkpoint.

  Returns:
    The saved object with every tensor as a (contiguous, CPU) numpy array, every module as
    a `Module`, and `argparse.Namespace`s kept.

  Raises:
    FileNotFoundError: no such file.
    CheckpointError (a ValueError): not a PyTorch checkpoint, truncated or corrupt, or a
      global outside the allowed set (named in the message).
  """
  name = os.fspath(path)
  if not os.path.isfile(name):
    raise FileNotFoundError(f"No checkpoint file {name!r}.")
  if zipfile.is_zipfile(name):
    obj = _load_zip(name, name)
  else:
    with open(name, "rb") as f:
      head = f.read(262)
      f.seek(0)
      if head.startswith(b"version https://git-lfs.github.com/spec/"):
        raise CheckpointError(
            f"{name} is a Git LFS pointer, not the checkpoint itself: fetch the file "
            "(`git lfs install && git lfs pull` in the clone it comes from).")
      if len(head) > 261 and head[257:262] == b"ustar":
        raise CheckpointError(f"{name} is a PyTorch < 0.1.10 tar checkpoint, not supported.")
      obj = _load_legacy(f, name)
  return _resolve(obj)


__all__ = ["load", "Module", "CheckpointError", "MAGIC_NUMBER"]
del _module, _names, _name, _dtype, _table
