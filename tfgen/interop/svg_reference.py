"""Imports the authors' trained SVG models (edenton/svg `.pth` files) into tfgen work dirs.

edenton/svg's `train_svg_lp.py` saves `{'encoder', 'decoder', 'frame_predictor',
'posterior', 'prior', 'opt'}` with `torch.save` of whole modules (`train_svg_fp.py`: no
'prior'); `opt` is the run's `argparse.Namespace`. `import_checkpoint` reads such a file
with `tfgen.interop.torch_pickle` (no PyTorch), derives the tfgen config from `opt`,
maps every tensor onto the tfgen SVG's variables and writes a work directory
(`config.json`, `model_summary.json`, `checkpoints/ckpt-0`, `import_reference.json`) that
`evaluate`, `generate`, `analyze`, `export` and `train` read like any other.

Weight layouts and the work directory: `tfgen.interop.reference_import`.
"""

from tfgen.interop import reference_import
from tfgen.interop import torch_pickle

SVG_KEYS = ("encoder", "decoder", "frame_predictor", "posterior")
# edenton/svg train_svg_lp.py's argparse defaults, for fields an older `opt` may lack.
OPT_DEFAULTS = dict(lr=0.002, beta1=0.9, batch_size=100, optimizer="adam", seed=1,
                    image_width=64, channels=1, dataset="smmnist", n_past=5, n_future=10,
                    rnn_size=256, prior_rnn_layers=1, posterior_rnn_layers=1,
                    predictor_rnn_layers=2, z_dim=10, g_dim=128, beta=0.0001, model="dcgan",
                    num_digits=2, last_frame_skip=False)
IMPORT_FILE = reference_import.IMPORT_FILE
ReferenceImportError = reference_import.ReferenceImportError


# ----------------------------------------------------------------------------- reading


def read_checkpoint(path, checkpoint=None):
  """Reads an SVG `.pth` file (or checks `checkpoint`, what `torch_pickle.load` read of it).

  Returns:
    The dict of `Module` records and `opt`.
  """
  if checkpoint is None:
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
  return reference_import.opt_dict(opt, OPT_DEFAULTS, "edenton/svg")


# ----------------------------------------------------------------------------- config


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
  values = _opt_dict(opt)
  notes = []
  model_name = "svg_lp" if learned_prior else "svg_fp"
  config, base_name = reference_import.base_config(model_name, str(values["dataset"]),
                                                   "smmnist", notes)
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
      beta1=float(values["beta1"]),
      optimizer=reference_import.optimizer_name(values["optimizer"]),
      seed=int(values["seed"])))
  notes.append(f"skip_mode={skip_mode!r} (opt.last_frame_skip={bool(values['last_frame_skip'])}"
               f": {'the previous frame' if skip_mode == 'last_frame' else 'the released code'}"
               "'s skip convention).")
  return config, notes, base_name


# ----------------------------------------------------------------------------- mapping


def _entries(model_config):
  """The `reference_import.Entry` of every SVG layer with tensors."""
  ri = reference_import
  arch, size = model_config.architecture, model_config.image_size
  if arch == "dcgan":
    out = (ri.dcgan_encoder_entries("encoder", "encoder", size)
           + ri.dcgan_decoder_entries("decoder", "decoder", size))
  else:
    out = (ri.vgg_encoder_entries("encoder", "encoder", size)
           + ri.vgg_decoder_entries("decoder", "decoder", size))
  out += ri.lstm_entries("frame_predictor", "frame_predictor", model_config.predictor_layers)
  out.append(ri.Entry("frame_predictor", "output.0", "linear", "frame_predictor/output"))
  gaussians = [("posterior", model_config.posterior_layers)]
  if model_config.prior == "learned":
    gaussians.append(("prior", model_config.prior_layers))
  for part, layers in gaussians:
    out += ri.lstm_entries(part, part, layers)
    out.append(ri.Entry(part, "mu_net", "linear", f"{part}/mean"))
    out.append(ri.Entry(part, "logvar_net", "linear", f"{part}/log_variance"))
  return out


def map_weights(checkpoint, model_config):
  """Maps the checkpoint's tensors to `{tfgen variable path: float32 array}`.

  Every PyTorch parameter and buffer must be used (`num_batches_tracked` aside) and each
  layer must be of the expected class, stride and padding.

  Raises:
    ReferenceImportError: a module of another class or geometry, a missing tensor, or
      tensors left over (all listed).
  """
  parts = ["encoder", "decoder", "frame_predictor", "posterior"]
  if model_config.prior == "learned":
    parts.append("prior")
  return reference_import.map_weights(
      {part: checkpoint[part] for part in parts}, _entries(model_config),
      "the SVG architecture its opt describes "
      f"({model_config.architecture}-{model_config.image_size})")


assign_weights = reference_import.assign_weights
write_workdir = reference_import.write_workdir


# ----------------------------------------------------------------------------- import


def prepare(path, checkpoint=None):
  """Reads, configures, maps and builds: `(model, config, info)`, nothing written.

  `checkpoint`: what `torch_pickle.load(path)` returned, when already read.

  Raises:
    FileNotFoundError, ValueError (`torch_pickle.CheckpointError`, `ReferenceImportError`):
      the file is not an importable edenton/svg SVG checkpoint.
  """
  checkpoint = read_checkpoint(path, checkpoint)
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
  model = reference_import.build_model(config.model)
  assign_weights(model, weights)
  info = reference_import.import_record(path, base, values, notes, len(weights))
  return model, config, info


def import_checkpoint(path, workdir, overwrite=False, checkpoint=None):
  """Imports the SVG checkpoint at `path` into a new tfgen work directory `workdir`.

  Everything is read and checked before anything is written; an existing non-empty
  `workdir` is only replaced with `overwrite=True`.

  Returns:
    dict: the import record (source, sha256, base config, opt, notes) plus `workdir`,
    `config` (the written `ConfigDict`) and `config_overrides` (the `--config.` flags that
    turn the base config into the imported one, for `tfgen.bin.train`).
  """
  reference_import.check_workdir(workdir, overwrite)
  model, config, info = prepare(path, checkpoint)
  written = write_workdir(model, config, workdir, info, overwrite=overwrite)
  return {**info, "workdir": written, "config": config, "summary": describe(config),
          "config_overrides": config_overrides(config, info["base_config"])}


def describe(config):
  """One line naming the imported SVG's architecture and options."""
  model = config.model
  return (f"Model: SVG prior={model.prior} architecture={model.architecture} "
          f"image_size={model.image_size} channels={model.channels} g_dim={model.g_dim} "
          f"z_dim={model.z_dim} rnn_size={model.rnn_size} layers "
          f"{model.predictor_layers}/{model.posterior_layers}/{model.get('prior_layers')} "
          f"n_past={model.num_context_frames} n_future={model.num_future_frames} "
          f"beta={model.beta} base_filters={model.base_filters} skip_mode={model.skip_mode}")


def config_overrides(config, base_name):
  """`["model.skip_mode=reference", ...]`: fields where `config` differs from its base."""
  return reference_import.config_overrides(config, base_name)
