"""Hand-assembled pickles naming arbitrary globals, for the reader's tests (no torch needed).

PyTorch 0.3 / 0.4 checkpoints name globals the installed PyTorch no longer has
(`torch.nn.backends.thnn._get_thnn_function_backend`, `torch._utils._rebuild_tensor`,
`Parameter` called directly) and a hostile file may name any global (`os.system`); these
helpers write such pickles opcode by opcode, so nothing has to be importable.

An expression is a Python literal (pickled as usual) or one of `Global`, `Call`,
`PersistentId`, `NewObject`, `Build`, `Dict`, `Tuple`, `List`.
"""

import dataclasses
import io
import pickle
import struct
from typing import Any

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c


@dataclasses.dataclass
class Global:
  module: str
  name: str


@dataclasses.dataclass
class Call:
  func: Any
  args: tuple = ()


@dataclasses.dataclass
class PersistentId:
  value: Any


@dataclasses.dataclass
class NewObject:
  cls: Any


@dataclasses.dataclass
class Build:
  obj: Any
  state: Any


@dataclasses.dataclass
class Dict:
  items: list  # [(key, value)]
  cls: Any = None  # e.g. Global("collections", "OrderedDict"): cls() then SETITEMS.


@dataclasses.dataclass
class Tuple:
  items: list


@dataclasses.dataclass
class List:
  items: list


def _literal(value):
  buffer = io.BytesIO()
  pickler = pickle.Pickler(buffer, protocol=2)
  pickler.fast = True  # No memo: fragments can be concatenated.
  pickler.dump(value)
  data = buffer.getvalue()
  assert data[:2] == b"\x80\x02" and data[-1:] == b".", data
  return data[2:-1]


def _emit(expr):
  if isinstance(expr, Global):
    return b"c" + expr.module.encode() + b"\n" + expr.name.encode() + b"\n"
  if isinstance(expr, Call):
    return _emit(expr.func) + b"(" + b"".join(_emit(a) for a in expr.args) + b"tR"
  if isinstance(expr, PersistentId):
    return _emit(expr.value) + b"Q"
  if isinstance(expr, NewObject):
    return _emit(expr.cls) + b")\x81"
  if isinstance(expr, Build):
    return _emit(expr.obj) + _emit(expr.state) + b"b"
  if isinstance(expr, Dict):
    head = _emit(Call(expr.cls)) if expr.cls is not None else b"}"
    body = b"".join(_emit(k) + _emit(v) for k, v in expr.items)
    return head + (b"(" + body + b"u" if expr.items else b"")
  if isinstance(expr, Tuple):
    return b"(" + b"".join(_emit(v) for v in expr.items) + b"t"
  if isinstance(expr, List):
    return b"](" + b"".join(_emit(v) for v in expr.items) + b"e"
  return _literal(expr)


def dumps(expr):
  """A protocol-2 pickle of `expr`."""
  return b"\x80\x02" + _emit(expr) + b"."


def legacy_checkpoint(expr, storages):
  """A legacy-format `torch.save` file: header pickles, `expr`, keys, storage data.

  Args:
    expr: the object expression (storages referenced through `storage_id`).
    storages: `{key: numpy array}` written after the key list, in sorted key order.
  """
  out = [pickle.dumps(MAGIC_NUMBER, protocol=2), pickle.dumps(1001, protocol=2),
         pickle.dumps({"protocol_version": 1001, "little_endian": True,
                       "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2),
         dumps(expr)]
  keys = sorted(storages)
  out.append(pickle.dumps(keys, protocol=2))
  for key in keys:
    array = storages[key]
    out.append(struct.pack("<q", array.size) + array.astype(array.dtype.newbyteorder("<")).tobytes())
  return b"".join(out)


def storage_id(key, numel, storage_type="FloatStorage", location="cpu", view=None,
               module="torch"):
  """The persistent id of a storage, as `torch.save` writes it."""
  items = ["storage", Global(module, storage_type), key, location, numel,
           Tuple(list(view)) if view is not None else None]
  return PersistentId(Tuple(items))


def tensor_v1(storage, size, stride, offset=0):
  """PyTorch 0.3's `torch._utils._rebuild_tensor(storage, offset, size, stride)`."""
  return Call(Global("torch._utils", "_rebuild_tensor"),
              (storage, offset, Tuple(list(size)), Tuple(list(stride))))


def tensor_v2(storage, size, stride, offset=0):
  """PyTorch >= 0.4's `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`."""
  return Call(Global("torch._utils", "_rebuild_tensor_v2"),
              (storage, offset, Tuple(list(size)), Tuple(list(stride)), False,
               Call(Global("collections", "OrderedDict"))))


def module(class_module, class_name, parameters=(), buffers=(), modules=(), **attributes):
  """A whole pickled module: NEWOBJ of the class, BUILD with its `__dict__`."""
  state = [("_parameters", Dict(list(parameters), Global("collections", "OrderedDict"))),
           ("_buffers", Dict(list(buffers), Global("collections", "OrderedDict"))),
           ("_modules", Dict(list(modules), Global("collections", "OrderedDict"))),
           ("training", True)]
  state += list(attributes.items())
  return Build(NewObject(Global(class_module, class_name)), Dict(state))
