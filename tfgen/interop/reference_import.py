"""What every import of the authors' PyTorch checkpoints shares (SVG, DrNET, DrNET's LSTM).

`svg_reference` (edenton/svg) and `drnet_reference` (edenton/drnet-py) each read their
checkpoint with `tfgen.interop.torch_pickle`, derive a tfgen config from its `opt` and
list the layers to map as `Entry`s; this module does the rest: converts and checks the
tensors (`map_weights`), sets the tfgen model's variables (`assign_weights`) and writes
the work directory (`write_workdir`) atomically, never over an existing one unless asked.

Weight layouts (PyTorch -> Keras):
  Conv2d weight (out, in, kh, kw)            -> kernel (kh, kw, in, out)
  ConvTranspose2d weight (in, out, kh, kw)   -> kernel (kh, kw, out, in); no spatial flip:
      both scatter input pixel i through tap k to output i * stride + k - padding.
  Linear weight (out, in)                    -> kernel (in, out)
  LSTMCell weight_ih (4h, in), weight_hh (4h, h), b_ih + b_hh
                                             -> kernel (in, 4h), recurrent_kernel (h, 4h),
      bias (4h); both order the gates i, f, g (cell), o.
  BatchNorm2d weight, bias, running_mean, running_var
                                             -> gamma, beta, moving_mean, moving_variance
      (num_batches_tracked is not used: tfgen's momentum is fixed, as PyTorch's).
"""

import dataclasses
import hashlib
import os
import shutil
import tempfile
from typing import Any, Dict

import numpy as np

IMPORT_FILE = "import_reference.json"

TORCH_CLASS = {"conv": "Conv2d", "conv_transpose": "ConvTranspose2d", "bn": "BatchNorm2d",
               "linear": "Linear", "lstm_cell": "LSTMCell"}
TENSORS = {
    "conv": ("weight", "bias"), "conv_transpose": ("weight", "bias"), "linear": ("weight", "bias"),
    "bn": ("weight", "bias", "running_mean", "running_var"),
    "lstm_cell": ("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
}
# Hyper-parameters every mapped layer must have when the pickle records them (tfgen's
# layers implement only these): {kind: {attribute: expected}}.
_FIXED_ATTRIBUTES = {
    "conv": {"dilation": (1, 1), "groups": 1, "padding_mode": "zeros"},
    "conv_transpose": {"dilation": (1, 1), "groups": 1, "output_padding": (0, 0),
                       "padding_mode": "zeros"},
    "bn": {"eps": 1e-5, "affine": True},
}


class ReferenceImportError(ValueError):
  """The checkpoint cannot be imported (wrong model, inconsistent tensors, bad workdir)."""


@dataclasses.dataclass(frozen=True)
class Entry:
  """One PyTorch layer and the tfgen layer its tensors go to.

  Attributes:
    part: the checkpoint's key of the saved network ("encoder", "netEC").
    torch_path: the layer's path inside it ("c1.main.0").
    kind: "conv", "conv_transpose", "bn", "linear" or "lstm_cell".
    layer: the tfgen variables' path prefix ("content_encoder/conv1").
    attrs: hyper-parameters the layer must have, e.g. `{"stride": (2, 2)}`.
  """
  part: str
  torch_path: str
  kind: str
  layer: str
  attrs: Dict[str, Any] = dataclasses.field(default_factory=dict)


# Geometries of the authors' layers (stride, padding).
DOWN = {"stride": (2, 2), "padding": (1, 1)}  # DCGAN 4x4 stride 2
VALID = {"stride": (1, 1), "padding": (0, 0)}  # 4x4 to / from 1x1, 3x3 valid
SAME3 = {"stride": (1, 1), "padding": (1, 1)}  # VGG 3x3
_DCGAN_BLOCKS = {64: 4, 128: 5}


def dcgan_encoder_entries(part, layer, image_size, sequential=False):
  """A DCGAN encoder (`dcgan_conv` blocks, conv 4x4 valid -> BN) -> `tfgen.layers.DCGANEncoder`.

  `sequential`: the blocks are `main.0`, `main.1`, ... of one `nn.Sequential` (drnet-py's
  `dcgan_64.pose_encoder` / `content_encoder`); else attributes `c1`, `c2`, ... (edenton/svg
  and drnet-py's U-Net encoders).
  """
  n = _DCGAN_BLOCKS[image_size]
  out = []
  for i in range(n):
    block = f"main.{i}" if sequential else f"c{i + 1}"
    out.append(Entry(part, f"{block}.main.0", "conv", f"{layer}/conv{i + 1}", DOWN))
    out.append(Entry(part, f"{block}.main.1", "bn", f"{layer}/bn{i + 1}"))
  conv, bn = (f"main.{n}", f"main.{n + 1}") if sequential else (f"c{n + 1}.0", f"c{n + 1}.1")
  out.append(Entry(part, conv, "conv", f"{layer}/out_conv", VALID))
  out.append(Entry(part, bn, "bn", f"{layer}/out_bn"))
  return out


def dcgan_decoder_entries(part, layer, image_size, sequential=False):
  """A DCGAN decoder (conv-T 4x4 valid, `dcgan_upconv` blocks, conv-T) -> `DCGANDecoder`.

  `sequential`: one `nn.Sequential` `main` (drnet-py's `dcgan_64.decoder`, no skips); else
  attributes `upc1`, `upc2`, ... (U-Net decoders).
  """
  n = _DCGAN_BLOCKS[image_size]
  if sequential:
    names = ["main.0", "main.1"] + [f"main.{3 + k}.main" for k in range(n - 1)] + [f"main.{n + 2}"]
  else:
    names = ["upc1.0", "upc1.1"] + [f"upc{k + 2}.main" for k in range(n - 1)] + [f"upc{n + 1}.0"]
  out = [Entry(part, names[0], "conv_transpose", f"{layer}/in_conv", VALID),
         Entry(part, names[1], "bn", f"{layer}/in_bn")]
  for k, block in enumerate(names[2:-1]):
    out.append(Entry(part, f"{block}.0", "conv_transpose", f"{layer}/upconv{k + 1}", DOWN))
    out.append(Entry(part, f"{block}.1", "bn", f"{layer}/bn{k + 1}"))
  out.append(Entry(part, names[-1], "conv_transpose", f"{layer}/out_conv", DOWN))
  return out


def vgg_encoder_entries(part, layer, image_size):
  """A VGG encoder (`c1`.. of `vgg_layer`s, `c<n+1>` conv 4x4 valid -> BN) -> `VGGEncoder`."""
  from tfgen.layers import vgg_encoder  # pylint: disable=g-import-not-at-top
  specs = vgg_encoder.block_specs(image_size, 1)
  n = len(specs)
  out = []
  for i, (_, count) in enumerate(specs):
    for j in range(count):
      out.append(Entry(part, f"c{i + 1}.{j}.main.0", "conv", f"{layer}/conv{i + 1}_{j + 1}",
                       SAME3))
      out.append(Entry(part, f"c{i + 1}.{j}.main.1", "bn", f"{layer}/bn{i + 1}_{j + 1}"))
  out.append(Entry(part, f"c{n + 1}.0", "conv", f"{layer}/out_conv", VALID))
  out.append(Entry(part, f"c{n + 1}.1", "bn", f"{layer}/out_bn"))
  return out


def vgg_decoder_entries(part, layer, image_size):
  """The mirrored VGG decoder (`upc1` conv-T, `upc2`.. of `vgg_layer`s) -> `VGGDecoder`."""
  from tfgen.layers import vgg_encoder  # pylint: disable=g-import-not-at-top
  specs = vgg_encoder.block_specs(image_size, 1)
  n = len(specs)
  out = [Entry(part, "upc1.0", "conv_transpose", f"{layer}/in_conv", VALID),
         Entry(part, "upc1.1", "bn", f"{layer}/in_bn")]
  for i, (_, count) in enumerate(specs[::-1]):
    last = i == n - 1
    for j in range(count - 1 if last else count):
      out.append(Entry(part, f"upc{i + 2}.{j}.main.0", "conv", f"{layer}/conv{i + 1}_{j + 1}",
                       SAME3))
      out.append(Entry(part, f"upc{i + 2}.{j}.main.1", "bn", f"{layer}/bn{i + 1}_{j + 1}"))
    if last:
      out.append(Entry(part, f"upc{i + 2}.{count - 1}", "conv_transpose", f"{layer}/out_conv",
                       SAME3))
  return out


def lstm_entries(part, layer, num_layers):
  """The authors' `lstm` / `gaussian_lstm` core: `embed` and `lstm.<k>` -> `EmbeddedLSTM`."""
  out = [Entry(part, "embed", "linear", f"{layer}/embed")]
  out += [Entry(part, f"lstm.{k}", "lstm_cell", f"{layer}/lstm{k + 1}") for k in range(num_layers)]
  return out


def convert(kind, t):
  """Tensors of one PyTorch layer -> `{keras variable name: array}`."""
  if kind in ("conv", "conv_transpose"):
    # (out, in, kh, kw) -> (kh, kw, in, out); transposed: (in, out, kh, kw) -> (kh, kw, out, in).
    return {"kernel": t["weight"].transpose(2, 3, 1, 0), "bias": t["bias"]}
  if kind == "linear":
    return {"kernel": t["weight"].T, "bias": t["bias"]}
  if kind == "bn":
    return {"gamma": t["weight"], "beta": t["bias"], "moving_mean": t["running_mean"],
            "moving_variance": t["running_var"]}
  if kind == "lstm_cell":
    return {"kernel": t["weight_ih"].T, "recurrent_kernel": t["weight_hh"].T,
            "bias": t["bias_ih"] + t["bias_hh"]}
  raise AssertionError(kind)


def as_tuple(value):
  if isinstance(value, (list, tuple)):
    return tuple(int(v) for v in value)
  return (int(value), int(value))


def _differs(value, expected):
  if isinstance(expected, tuple):
    try:
      return as_tuple(value) != expected
    except (TypeError, ValueError):
      return True
  if isinstance(expected, float):
    return not isinstance(value, (int, float)) or abs(value - expected) > 1e-9
  return value != expected


def map_weights(modules, entries, description):
  """Maps the networks' tensors to `{tfgen variable path: float32 array}`.

  Every PyTorch parameter and buffer of `modules` must be used (`num_batches_tracked`
  aside), and each layer must be of the expected class and geometry.

  Args:
    modules: `{part: torch_pickle.Module}`, the saved networks.
    entries: the `Entry`s of every layer with tensors.
    description: what the networks should be, for the error message.

  Raises:
    ReferenceImportError: a module of another class or geometry, a missing tensor, or
      tensors left over (all listed).
  """
  weights = {}
  used = set()
  problems = []
  named = {part: module.named_modules() for part, module in modules.items()}
  for entry in entries:
    where = f"{entry.part}.{entry.torch_path}"
    module = named[entry.part].get(entry.torch_path)
    expected_class = TORCH_CLASS[entry.kind]
    if module is None:
      problems.append(f"missing module {where} ({expected_class})")
      continue
    if module.class_name != expected_class:
      problems.append(f"{where} is a {module.type_name}, expected {expected_class}")
      continue
    for name, expected in {**_FIXED_ATTRIBUTES.get(entry.kind, {}), **entry.attrs}.items():
      if name in module.attributes and _differs(module.attributes[name], expected):
        problems.append(f"{where} has {name}={module.attributes[name]}, expected {expected}")
    tensors = {}
    for name in TENSORS[entry.kind]:
      value = module.parameters.get(name, module.buffers.get(name))
      if value is None:
        problems.append(f"missing tensor {where}.{name}")
      else:
        tensors[name] = np.asarray(value, np.float32)
        used.add(f"{where}.{name}")
    if len(tensors) == len(TENSORS[entry.kind]):
      for name, value in convert(entry.kind, tensors).items():
        weights[f"{entry.layer}/{name}"] = np.ascontiguousarray(value, np.float32)
  extra = sorted(f"{part}.{name}" for part, module in modules.items()
                 for name in module.named_tensors()
                 if f"{part}.{name}" not in used and not name.endswith("num_batches_tracked"))
  if extra:
    problems.append(f"tensors the tfgen model has no place for: {', '.join(extra)}")
  if problems:
    raise ReferenceImportError(f"The checkpoint does not match {description}: "
                               + "; ".join(problems))
  return weights


def _model_path(variable):
  path = variable.path
  return path.split("/", 1)[1] if "/" in path else path


def assign_weights(model, weights, parts=None):
  """Sets the built `model`'s variables of `parts` from `weights`; every one must be covered.

  Args:
    model: a built tfgen model.
    weights: `{variable path below the model: array}` (`map_weights`).
    parts: names of the sub-networks to set (default `model.submodules_by_name()`).
  """
  parts = tuple(f"{name}/" for name in (parts or model.submodules_by_name()))
  variables = {_model_path(v): v for v in model.variables
               if _model_path(v).startswith(parts)}
  missing = sorted(set(variables) - set(weights))
  extra = sorted(set(weights) - set(variables))
  wrong = sorted(f"{k}: checkpoint {weights[k].shape}, model {tuple(variables[k].shape)}"
                 for k in set(weights) & set(variables)
                 if tuple(weights[k].shape) != tuple(variables[k].shape))
  problems = []
  if missing:
    problems.append(f"model variables without a tensor: {', '.join(missing)}")
  if extra:
    problems.append(f"tensors without a model variable: {', '.join(extra)}")
  if wrong:
    problems.append(f"shape mismatches: {'; '.join(wrong)}")
  if problems:
    raise ReferenceImportError("The checkpoint's tensors do not fit the model its opt "
                               "describes: " + "; ".join(problems))
  for key, variable in variables.items():
    variable.assign(weights[key])


# ----------------------------------------------------------------------------- opt


def opt_dict(opt, defaults, source):
  """The checkpoint's `opt` (an `argparse.Namespace`) as a dict over `defaults`."""
  if not hasattr(opt, "__dict__") and not isinstance(opt, dict):
    raise ReferenceImportError(f"The checkpoint's 'opt' is a {type(opt).__name__}, not the "
                               f"argparse.Namespace {source} saves.")
  values = dict(opt) if isinstance(opt, dict) else dict(vars(opt))
  return {**defaults, **values}


def plain(value):
  """JSON-friendly version of an opt value (optimiser classes become their names)."""
  if isinstance(value, (bool, int, float, str)) or value is None:
    return value
  if isinstance(value, (list, tuple)):
    return [plain(v) for v in value]
  return repr(value)


def optimizer_name(value):
  text = repr(value).lower() if not isinstance(value, str) else value.lower()
  for name in ("rmsprop", "sgd", "adam"):
    if name in text:
      return name
  raise ReferenceImportError(f"Unknown optimizer {value!r} in the checkpoint's opt.")


def base_config(model_name, dataset, fallback, notes):
  """`(configs/<model_name>_<dataset>.py's config, its name)`; `fallback`'s when absent."""
  from tfgen.utils import config_loader  # pylint: disable=g-import-not-at-top
  if dataset not in config_loader.available().get(model_name, []):
    notes.append(f"opt.dataset={dataset!r} has no tfgen {model_name} config; based on "
                 f"{fallback}'s.")
    dataset = fallback
  return config_loader.load(model_name, dataset), f"{model_name}_{dataset}"


def config_overrides(config, base_name, skip=()):
  """`["model.skip_mode=reference", ...]`: fields where `config` differs from its base.

  Fields under a prefix of `skip` (filled in by the family's `prepare_config`) are left out.
  """
  from tfgen.utils import config_loader  # pylint: disable=g-import-not-at-top
  model_name, dataset = base_name.rsplit("_", 1)
  base = config_loader.load(model_name, dataset)

  def flatten(d, prefix=""):
    out = {}
    for key, value in d.items():
      if isinstance(value, dict):
        out.update(flatten(value, f"{prefix}{key}."))
      else:
        out[f"{prefix}{key}"] = value
    return out

  new, old = flatten(config.to_dict()), flatten(base.to_dict())
  # Python literals: `config_loader.apply_overrides` reads them with `ast.literal_eval`.
  return [f"{k}={v if isinstance(v, str) else repr(v)}"
          for k, v in sorted(new.items())
          if old.get(k) != v and not any(k == s or k.startswith(s + ".") for s in skip)]


# ----------------------------------------------------------------------------- model


def build_model(model_config):
  """The tfgen model of `model_config`, built, in float32 whatever the global policy."""
  import keras  # pylint: disable=g-import-not-at-top
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  previous_policy = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy("float32")
  try:
    model = factory.build_model(model_config)
    model.build()
  finally:
    keras.mixed_precision.set_global_policy(previous_policy)
  return model


# ----------------------------------------------------------------------------- workdir


def sha256(path):
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def check_workdir(workdir, overwrite):
  if not workdir:
    raise ReferenceImportError("--workdir is required.")
  if os.path.exists(workdir):
    if not os.path.isdir(workdir):
      raise ReferenceImportError(f"--workdir {workdir!r} exists and is not a directory.")
    if os.listdir(workdir) and not overwrite:
      raise ReferenceImportError(f"--workdir {workdir!r} already exists and is not empty; "
                                 "pass --overwrite to replace it, or choose a new one.")


def write_workdir(model, config, workdir, info, overwrite=False):
  """Writes `config.json`, `model_summary.json`, `checkpoints/ckpt-0` and the import record.

  The checkpoint has the trainer's layout (model, every optimiser of
  `model.optimizers_by_name()` freshly built, `examples_seen` = 0, `step` = 0), so
  `tfgen.bin.train` on this workdir fine-tunes from the imported weights. Written in a
  temporary directory beside `workdir` and renamed into place.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  from tfgen.train import checkpointing  # pylint: disable=g-import-not-at-top
  from tfgen.train import trainer  # pylint: disable=g-import-not-at-top
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  from tfgen.utils import config_loader  # pylint: disable=g-import-not-at-top
  from tfgen.utils import files  # pylint: disable=g-import-not-at-top
  check_workdir(workdir, overwrite)
  workdir = os.path.abspath(workdir)
  factory.get_family(config.model.name).compile(model, config.train)
  examples_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="examples_seen")
  step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
  if hasattr(trainer.Trainer, "checkpoint"):
    checkpoint = trainer.Trainer.checkpoint(model, examples_seen, step)
  else:
    checkpoint = checkpointing.training_checkpoint(
        model, model.optimizers_by_name(), examples_seen=examples_seen, step=step)
  parent = os.path.dirname(workdir) or "."
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(prefix=f".{os.path.basename(workdir)}.import-", dir=parent)
  try:
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(staging, workdir_lib.CHECKPOINT_DIR),
        max_to_keep=config.train.max_checkpoints_to_keep)
    manager.save(checkpoint_number=0)
    files.atomic_write(os.path.join(staging, workdir_lib.CONFIG_FILE),
                       config_loader.to_json(config))
    summary = trainer.parameter_summary(model)
    summary["model_name"] = config.get("model_name", config.model.name)
    files.atomic_write_json(os.path.join(staging, trainer.SUMMARY_FILE), summary)
    files.atomic_write_json(os.path.join(staging, IMPORT_FILE), info)
    if os.path.exists(workdir):
      shutil.rmtree(workdir)
    os.rename(staging, workdir)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return workdir


def import_record(path, base_name, values, notes, num_tensors):
  """The dict written to `IMPORT_FILE` (and returned by the importers)."""
  return {"source": os.path.abspath(path), "sha256": sha256(path), "base_config": base_name,
          "opt": {k: plain(v) for k, v in sorted(values.items())}, "notes": list(notes),
          "num_tensors": num_tensors}

