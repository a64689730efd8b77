"""Imports the authors' trained SVG models (edenton/svg `.pth` files) into tfgen work dirs.

edenton/svg's `train_svg_lp.py` saves `{'encoder', 'decoder', 'frame_predictor',
'posterior', 'prior', 'opt'}` with `torch.save` of whole modules (`train_svg_fp.py`: no
'prior'); `opt` is the run's `argparse.Namespace`. `import_checkpoint` reads such a file
with `tfgen.interop.torch_pickle` (no PyTorch), derives the tfgen config from `opt`,
maps every tensor onto the tfgen SVG's variables and writes a work directory
(`config.json`, `model_summary.json`, `checkpoints/ckpt-0`, `import_reference.json`) that
`evaluate`, `generate`, `analyze`, `export` and `train` read like any other.

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

import hashlib
import json
import os
import shutil
import tempfile

import numpy as np

from tfgen.interop import torch_pickle

SVG_KEYS = ("encoder", "decoder", "frame_predictor", "posterior")
# edenton/svg train_svg_lp.py's argparse defaults, for fields an older `opt` may lack.
OPT_DEFAULTS = dict(lr=0.002, beta1=0.9, batch_size=100, optimizer="adam", seed=1,
                    image_width=64, channels=1, dataset="smmnist", n_past=5, n_future=10,
                    rnn_size=256, prior_rnn_layers=1, posterior_rnn_layers=1,
                    predictor_rnn_layers=2, z_dim=10, g_dim=128, beta=0.0001, model="dcgan",
                    num_digits=2, last_frame_skip=False)
IMPORT_FILE = "import_reference.json"


class ReferenceImportError(ValueError):
  """The checkpoint cannot be imported (wrong model, inconsistent tensors, bad workdir)."""


# ----------------------------------------------------------------------------- reading


def read_checkpoint(path):
  """Reads an SVG `.pth` file: `(dict of Module records and opt, format name)`."""
  checkpoint = torch_pickle.load(path)
  if not isinstance(checkpoint, dict):
    raise ReferenceImportError(
        f"{path} is a PyTorch checkpoint but not an SVG one: it holds a "
        f"{type(checkpoint).__name__}, not the dict edenton/svg saves.")
  missing = [k for k in SVG_KEYS + ("opt",) if k not in checkpoint]
  if missing:
    raise ReferenceImportError(
        f"{path} is a PyTorch checkpoint but not an edenton/svg SVG model: it lacks "
        f"{', '.join(missing)} (its keys: {', '.join(map(str, checkpoint)) or 'none'}).")
  for key in SVG_KEYS + (("prior",) if "prior" in checkpoint else ()):
    if not isinstance(checkpoint[key], torch_pickle.Module):
      raise ReferenceImportError(f"{path}: {key!r} is not a saved module "
                                 f"({type(checkpoint[key]).__name__}).")
  return checkpoint


def _opt_dict(opt):
  if not hasattr(opt, "__dict__") and not isinstance(opt, dict):
    raise ReferenceImportError(f"The checkpoint's 'opt' is a {type(opt).__name__}, not the "
                               "argparse.Namespace edenton/svg saves.")
  values = dict(opt) if isinstance(opt, dict) else dict(vars(opt))
  return {**OPT_DEFAULTS, **values}


def _plain(value):
  """JSON-friendly version of an opt value (optimiser classes become their names)."""
  if isinstance(value, (bool, int, float, str)) or value is None:
    return value
  if isinstance(value, (list, tuple)):
    return [_plain(v) for v in value]
  return repr(value)


# ----------------------------------------------------------------------------- config


def _optimizer_name(value):
  text = repr(value).lower() if not isinstance(value, str) else value.lower()
  for name in ("rmsprop", "sgd", "adam"):
    if name in text:
      return name
  raise ReferenceImportError(f"Unknown optimizer {value!r} in the checkpoint's opt.")


def _base_filters(encoder, architecture):
  first = encoder.modules.get("c1")
  try:
    conv = first.modules["main"].modules["0"] if architecture == "dcgan" else \
        first.modules["0"].modules["main"].modules["0"]
    return int(conv.parameters["weight"].shape[0])
  except (AttributeError, KeyError, TypeError) as e:
    raise ReferenceImportError(
        f"The encoder ({encoder.type_name}) is not an edenton/svg {architecture} encoder: "
        f"no first convolution c1 ({e}).") from e


def config_from_opt(opt, learned_prior, base_filters):
  """The tfgen config of an SVG run with the reference options `opt`.

  Starts from `configs/svg_lp_<dataset>.py` (`svg_fp_` without a learned prior; SM-MNIST's
  when the data set has no config) and applies `opt`.

  Returns:
    `(config, notes)`: the `ConfigDict` and a list of human-readable remarks.
  """
  from tfgen.utils import config_loader  # pylint: disable=g-import-not-at-top
  values = _opt_dict(opt)
  notes = []
  model_name = "svg_lp" if learned_prior else "svg_fp"
  dataset = str(values["dataset"])
  available = config_loader.available().get(model_name, [])
  if dataset not in available:
    notes.append(f"opt.dataset={dataset!r} has no tfgen config; based on smmnist's.")
    dataset = "smmnist"
  config = config_loader.load(model_name, dataset)
  architecture = str(values["model"])
  if architecture not in ("dcgan", "vgg"):
    raise ReferenceImportError(f"Unknown opt.model {architecture!r}; valid: dcgan, vgg.")
  skip_mode = "last_frame" if values["last_frame_skip"] else "reference"
  model = dict(
      prior="learned" if learned_prior else "fixed", architecture=architecture,
      image_size=int(values["image_width"]), channels=int(values["channels"]),
      g_dim=int(values["g_dim"]), z_dim=int(values["z_dim"]),
      rnn_size=int(values["rnn_size"]),
      predictor_layers=int(values["predictor_rnn_layers"]),
      posterior_layers=int(values["posterior_rnn_layers"]),
      num_context_frames=int(values["n_past"]), num_future_frames=int(values["n_future"]),
      beta=float(values["beta"]), skip_mode=skip_mode, base_filters=int(base_filters),
      batch_norm_moving_variance="unbiased")
  if learned_prior:
    model["prior_layers"] = int(values["prior_rnn_layers"])
  config.model.update(model)
  config.data.num_frames = model["num_context_frames"] + model["num_future_frames"]
  if "num_digits" in config.data.get("options", {}) and "num_digits" in values:
    config.data.options.num_digits = int(values["num_digits"])
  config.train.update(dict(
      batch_size=int(values["batch_size"]), learning_rate=float(values["lr"]),
      beta1=float(values["beta1"]), optimizer=_optimizer_name(values["optimizer"]),
      seed=int(values["seed"])))
  notes.append(f"skip_mode={skip_mode!r} (opt.last_frame_skip={bool(values['last_frame_skip'])}"
               f": {'the previous frame' if skip_mode == 'last_frame' else 'the released code'}"
               "'s skip convention).")
  return config, notes, f"{model_name}_{dataset}"


# ----------------------------------------------------------------------------- mapping


def _entries(model_config):
  """`[(checkpoint module, torch path, kind, tfgen layer path, expected attributes)]`."""
  from tfgen.layers import vgg_encoder  # pylint: disable=g-import-not-at-top
  arch, size = model_config.architecture, model_config.image_size
  out = []
  down = {"stride": (2, 2), "padding": (1, 1)}
  valid = {"stride": (1, 1), "padding": (0, 0)}
  same3 = {"stride": (1, 1), "padding": (1, 1)}

  def add(part, torch_path, kind, layer, attrs=None):
    out.append((part, torch_path, kind, f"{part}/{layer}", attrs or {}))

  if arch == "dcgan":
    n = {64: 4, 128: 5}[size]
    for i in range(1, n + 1):
      add("encoder", f"c{i}.main.0", "conv", f"conv{i}", down)
      add("encoder", f"c{i}.main.1", "bn", f"bn{i}")
    add("encoder", f"c{n + 1}.0", "conv", "out_conv", valid)
    add("encoder", f"c{n + 1}.1", "bn", "out_bn")
    add("decoder", "upc1.0", "conv_transpose", "in_conv", valid)
    add("decoder", "upc1.1", "bn", "in_bn")
    for i in range(1, n):
      add("decoder", f"upc{i + 1}.main.0", "conv_transpose", f"upconv{i}", down)
      add("decoder", f"upc{i + 1}.main.1", "bn", f"bn{i}")
    add("decoder", f"upc{n + 1}.0", "conv_transpose", "out_conv", down)
  else:
    specs = vgg_encoder.block_specs(size, 1)
    n = len(specs)
    for i, (_, count) in enumerate(specs):
      for j in range(count):
        add("encoder", f"c{i + 1}.{j}.main.0", "conv", f"conv{i + 1}_{j + 1}", same3)
        add("encoder", f"c{i + 1}.{j}.main.1", "bn", f"bn{i + 1}_{j + 1}")
    add("encoder", f"c{n + 1}.0", "conv", "out_conv", valid)
    add("encoder", f"c{n + 1}.1", "bn", "out_bn")
    add("decoder", "upc1.0", "conv_transpose", "in_conv", valid)
    add("decoder", "upc1.1", "bn", "in_bn")
    for i, (_, count) in enumerate(specs[::-1]):
      last = i == n - 1
      for j in range(count - 1 if last else count):
        add("decoder", f"upc{i + 2}.{j}.main.0", "conv", f"conv{i + 1}_{j + 1}", same3)
        add("decoder", f"upc{i + 2}.{j}.main.1", "bn", f"bn{i + 1}_{j + 1}")
      if last:
        add("decoder", f"upc{i + 2}.{count - 1}", "conv_transpose", "out_conv", same3)

  def lstm_entries(part, num_layers):
    add(part, "embed", "linear", "embed")
    for k in range(num_layers):
      add(part, f"lstm.{k}", "lstm_cell", f"lstm{k + 1}")

  lstm_entries("frame_predictor", model_config.predictor_layers)
  add("frame_predictor", "output.0", "linear", "output")
  gaussians = [("posterior", model_config.posterior_layers)]
  if model_config.prior == "learned":
    gaussians.append(("prior", model_config.prior_layers))
  for part, layers in gaussians:
    lstm_entries(part, layers)
    add(part, "mu_net", "linear", "mean")
    add(part, "logvar_net", "linear", "log_variance")
  return out


_TORCH_CLASS = {"conv": "Conv2d", "conv_transpose": "ConvTranspose2d", "bn": "BatchNorm2d",
                "linear": "Linear", "lstm_cell": "LSTMCell"}
_TENSORS = {
    "conv": ("weight", "bias"), "conv_transpose": ("weight", "bias"), "linear": ("weight", "bias"),
    "bn": ("weight", "bias", "running_mean", "running_var"),
    "lstm_cell": ("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
}


def _convert(kind, t):
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


def _as_tuple(value):
  if isinstance(value, (list, tuple)):
    return tuple(int(v) for v in value)
  return (int(value), int(value))


def map_weights(checkpoint, model_config):
  """Maps the checkpoint's tensors to `{tfgen variable path: float32 array}`.

  Every PyTorch parameter and buffer must be used (`num_batches_tracked` aside) and each
  layer must be of the expected class, stride and padding.

  Raises:
    ReferenceImportError: a module of another class or geometry, a missing tensor, or
      tensors left over (all listed).
  """
  weights = {}
  used = set()
  problems = []
  parts = ["encoder", "decoder", "frame_predictor", "posterior"]
  if model_config.prior == "learned":
    parts.append("prior")
  modules = {part: checkpoint[part].named_modules() for part in parts}
  for part, torch_path, kind, layer, attrs in _entries(model_config):
    module = modules[part].get(torch_path)
    if module is None:
      problems.append(f"missing module {part}.{torch_path} ({_TORCH_CLASS[kind]})")
      continue
    if module.class_name != _TORCH_CLASS[kind]:
      problems.append(f"{part}.{torch_path} is a {module.type_name}, expected "
                      f"{_TORCH_CLASS[kind]}")
      continue
    for name, expected in attrs.items():
      if name in module.attributes and _as_tuple(module.attributes[name]) != expected:
        problems.append(f"{part}.{torch_path} has {name}={module.attributes[name]}, "
                        f"expected {expected}")
    tensors = {}
    for name in _TENSORS[kind]:
      value = module.parameters.get(name, module.buffers.get(name))
      if value is None:
        problems.append(f"missing tensor {part}.{torch_path}.{name}")
      else:
        tensors[name] = np.asarray(value, np.float32)
        used.add(f"{part}.{torch_path}.{name}")
    if len(tensors) == len(_TENSORS[kind]):
      for name, value in _convert(kind, tensors).items():
        weights[f"{layer}/{name}"] = np.ascontiguousarray(value, np.float32)
  extra = sorted(f"{part}.{name}" for part in parts
                 for name in checkpoint[part].named_tensors()
                 if f"{part}.{name}" not in used and not name.endswith("num_batches_tracked"))
  if extra:
    problems.append(f"tensors the tfgen model has no place for: {', '.join(extra)}")
  if problems:
    raise ReferenceImportError(
        "The checkpoint does not match the SVG architecture its opt describes "
        f"({model_config.architecture}-{model_config.image_size}): " + "; ".join(problems))
  return weights


def _model_path(variable):
  path = variable.path
  return path.split("/", 1)[1] if "/" in path else path


def assign_weights(model, weights):
  """Sets the built `model`'s variables from `weights`; every one must be covered."""
  parts = tuple(f"{name}/" for name in model.submodules_by_name())
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


# ----------------------------------------------------------------------------- workdir


def _sha256(path):
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def _check_workdir(workdir, overwrite):
  if not workdir:
    raise ReferenceImportError("--workdir is required.")
  if os.path.exists(workdir):
    if not os.path.isdir(workdir):
      raise ReferenceImportError(f"--workdir {workdir!r} exists and is not a directory.")
    if os.listdir(workdir) and not overwrite:
      raise ReferenceImportError(f"--workdir {workdir!r} already exists and is not empty; "
                                 "pass --overwrite to replace it, or choose a new one.")


def prepare(path):
  """Reads, configures, maps and builds: `(model, config, info)`, nothing written.

  Raises:
    FileNotFoundError, ValueError (`torch_pickle.CheckpointError`, `ReferenceImportError`):
      the file is not an importable edenton/svg SVG checkpoint.
  """
  checkpoint = read_checkpoint(path)
  opt = checkpoint["opt"]
  values = _opt_dict(opt)
  learned = "prior" in checkpoint
  architecture = str(values["model"])
  width = int(values["image_width"])
  expected_family = f"models.{architecture}_{width}"
  for key in ("encoder", "decoder"):
    type_name = checkpoint[key].type_name
    if type_name != f"{expected_family}.{key}":
      raise ReferenceImportError(
          f"The checkpoint's {key} is a {type_name}, but its opt (model={architecture!r}, "
          f"image_width={width}) describes {expected_family}.{key}.")
  for key in ("frame_predictor", "posterior") + (("prior",) if learned else ()):
    expected = "models.lstm.lstm" if key == "frame_predictor" else "models.lstm.gaussian_lstm"
    if checkpoint[key].type_name != expected:
      raise ReferenceImportError(f"The checkpoint's {key} is a {checkpoint[key].type_name}, "
                                 f"expected {expected}.")
  base_filters = _base_filters(checkpoint["encoder"], architecture)
  config, notes, base = config_from_opt(opt, learned, base_filters)
  weights = map_weights(checkpoint, config.model)
  # TensorFlow only now: a file that cannot be imported fails fast.
  import keras  # pylint: disable=g-import-not-at-top
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  previous_policy = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy("float32")
  try:
    model = factory.build_model(config.model)
    model.build()
  finally:
    keras.mixed_precision.set_global_policy(previous_policy)
  assign_weights(model, weights)
  info = {"source": os.path.abspath(path), "sha256": _sha256(path), "base_config": base,
          "opt": {k: _plain(v) for k, v in sorted(values.items())}, "notes": notes,
          "num_tensors": len(weights)}
  return model, config, info


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
  _check_workdir(workdir, overwrite)
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


def import_checkpoint(path, workdir, overwrite=False):
  """Imports the SVG checkpoint at `path` into a new tfgen work directory `workdir`.

  Everything is read and checked before anything is written; an existing non-empty
  `workdir` is only replaced with `overwrite=True`.

  Returns:
    dict: the import record (source, sha256, base config, opt, notes) plus `workdir`,
    `config` (the written `ConfigDict`) and `config_overrides` (the `--config.` flags that
    turn the base config into the imported one, for `tfgen.bin.train`).
  """
  _check_workdir(workdir, overwrite)
  model, config, info = prepare(path)
  written = write_workdir(model, config, workdir, info, overwrite=overwrite)
  return {**info, "workdir": written, "config": config,
          "config_overrides": config_overrides(config, info["base_config"])}


def config_overrides(config, base_name):
  """`["model.skip_mode=reference", ...]`: fields where `config` differs from its base."""
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
  return [f"{k}={json.dumps(v) if not isinstance(v, str) else v}"
          for k, v in sorted(new.items()) if old.get(k) != v]
