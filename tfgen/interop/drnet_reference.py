"""Imports the authors' trained DrNET models (edenton/drnet-py `.pth` files) into tfgen work dirs.

Two files, two stages, as drnet-py trains them:

- `train_drnet.py` saves `{'netD', 'netEP', 'netEC', 'opt'}` (`<log_dir>/model.pth`) with
  `torch.save` of whole modules: the decoder, pose encoder and content encoder, and the
  run's `argparse.Namespace`. The scene discriminator `netC` is NOT saved; a file that
  has one (saved by a modified script) has it imported too. `import_checkpoint` turns
  such a file into a tfgen DrNET (`drnet`) work directory.
- `train_lstm.py` saves `{'lstm', 'opt'}` (`<model_path>/lstm/<name>/model.pth`): the pose
  LSTM alone (it loads the DrNET networks from `opt.model_path`, and does not save them).
  `import_lstm_checkpoint` turns it into a tfgen `drnet_lstm` work directory whose frozen
  networks are those of a DrNET work directory (`drnet_workdir`, e.g. the import of the
  matching `model.pth`), as `tfgen.bin.train --model=drnet_lstm
  --config.drnet_workdir=...` would start it.

Both read the file with `tfgen.interop.torch_pickle` (no PyTorch), derive the tfgen config
from the saved `opt` (and the saved modules' own attributes), map every tensor onto the
tfgen model's variables with class and geometry checks (`tfgen.interop.reference_import`)
and write a work directory that `evaluate`, `generate`, `analyze`, `export` and `train` read
like any other.

drnet-py's architectures and their tfgen layers (`--image_width` 64 or 128):
  content_model dcgan       models.dcgan_<w>.content_encoder / decoder (`main` Sequentials)
                            -> DCGANEncoder / DCGANDecoder(use_skips=False)
  content_model dcgan_unet  models.dcgan_unet_<w>.content_encoder / decoder -> DCGAN + skips
  content_model vgg_unet    models.vgg_unet_<w>.content_encoder / decoder -> VGG + skips
  pose_model dcgan          models.dcgan_<w>.pose_encoder -> DCGANEncoder
  pose_model resnet         models.resnet_<w>.pose_encoder (`main` = resnet18) -> ResNetEncoder
  netC                      models.classifiers.scene_discriminator -> SceneDiscriminator
                            (tfgen returns the logit; drnet-py ends with a sigmoid)
  lstm                      models.lstm.lstm -> PoseLSTM's LSTMPredictor
"""

import os

import ml_collections

from tfgen.interop import reference_import
from tfgen.interop import torch_pickle

DRNET_KEYS = ("netEC", "netEP", "netD")
LSTM_KEYS = ("lstm",)
# drnet-py train_drnet.py's argparse defaults, for fields an older `opt` may lack.
OPT_DEFAULTS = dict(lr=0.002, beta1=0.5, batch_size=100, optimizer="adam", seed=1,
                    content_dim=128, pose_dim=10, image_width=64, channels=3,
                    dataset="moving_mnist", max_step=20, sd_weight=0.0001, sd_nf=100,
                    content_model="dcgan_unet", pose_model="dcgan", normalize=False)
# drnet-py train_lstm.py's (the DrNET fields are copied from the DrNET run's opt).
LSTM_OPT_DEFAULTS = dict(lr=0.0002, beta1=0.9, batch_size=100, optimizer="adam", seed=1,
                         image_width=64, channels=3, dataset="moving_mnist", n_past=10,
                         n_future=10, rnn_size=256, rnn_layers=2, normalize=False)
# drnet-py `--dataset` -> tfgen data set (and config); SUNCG has none.
DATASETS = {"moving_mnist": "mnist", "kth": "kth"}
# How drnet-py picks a step's four frames (DRNET_FACTS §5): frames 0..3 of each clip on
# Moving MNIST and SUNCG, four independent uniform draws on KTH.
FRAME_SAMPLING = {"moving_mnist": "consecutive", "suncg": "consecutive", "kth": "independent"}
CONTENT_MODELS = ("dcgan", "dcgan_unet", "vgg_unet")
POSE_MODELS = ("dcgan", "resnet")
IMPORT_FILE = reference_import.IMPORT_FILE
ReferenceImportError = reference_import.ReferenceImportError


# ----------------------------------------------------------------------------- reading


def _check_modules(path, checkpoint, keys, what):
  if not isinstance(checkpoint, dict):
    raise ReferenceImportError(
        f"{path} is a PyTorch checkpoint but not a {what} one: it holds a "
        f"{type(checkpoint).__name__}, not the dict drnet-py saves.")
  missing = [k for k in keys + ("opt",) if k not in checkpoint]
  if missing:
    raise ReferenceImportError(
        f"{path} is a PyTorch checkpoint but not a {what}: it lacks {', '.join(missing)} "
        f"(its keys: {', '.join(map(str, checkpoint)) or 'none'}).")
  for key in keys:
    if not isinstance(checkpoint[key], torch_pickle.Module):
      raise ReferenceImportError(f"{path}: {key!r} is not a saved module "
                                 f"({type(checkpoint[key]).__name__}).")
  return checkpoint


def read_checkpoint(path, checkpoint=None):
  """Reads (or checks what `torch_pickle.load` read of) a `train_drnet.py` `model.pth`."""
  if checkpoint is None:
    checkpoint = torch_pickle.load(path)
  keys = DRNET_KEYS + (("netC",) if isinstance(checkpoint, dict) and "netC" in checkpoint
                       else ())
  return _check_modules(path, checkpoint, keys, "drnet-py DrNET model (train_drnet.py)")


def read_lstm_checkpoint(path, checkpoint=None):
  """Reads (or checks what `torch_pickle.load` read of) a `train_lstm.py` `model.pth`."""
  if checkpoint is None:
    checkpoint = torch_pickle.load(path)
  return _check_modules(path, checkpoint, LSTM_KEYS, "drnet-py pose LSTM (train_lstm.py)")


def _opt_dict(opt, defaults=None):
  return reference_import.opt_dict(opt, defaults or OPT_DEFAULTS, "drnet-py")


def _choice(values, key, valid):
  value = str(values[key])
  if value not in valid:
    raise ReferenceImportError(f"Unknown opt.{key} {value!r}; valid: {', '.join(valid)}.")
  return value


def expected_types(values):
  """`{key: "models.<module>.<class>"}` drnet-py builds for the options `values`."""
  width = int(values["image_width"])
  content = _choice(values, "content_model", CONTENT_MODELS)
  pose = _choice(values, "pose_model", POSE_MODELS)
  if width not in (64, 128):
    raise ReferenceImportError(f"Unknown opt.image_width {width}; valid: 64, 128.")
  return {"netEC": f"models.{content}_{width}.content_encoder",
          "netD": f"models.{content}_{width}.decoder",
          "netEP": f"models.{pose}_{width}.pose_encoder",
          "netC": "models.classifiers.scene_discriminator"}


def _first_conv(net_ec, content_model):
  path = {"dcgan": "main.0.main.0", "dcgan_unet": "c1.main.0",
          "vgg_unet": "c1.0.main.0"}[content_model]
  conv = net_ec.named_modules().get(path)
  weight = None if conv is None else conv.parameters.get("weight")
  if weight is None or getattr(weight, "ndim", 0) != 4:
    raise ReferenceImportError(
        f"netEC ({net_ec.type_name}) is not a drnet-py {content_model} content encoder: no "
        f"first convolution {path}.")
  return weight


def _normalize_pose(checkpoint, values, notes):
  """drnet-py's `--normalize` as the saved pose encoder (and LSTM) recorded it."""
  saved = checkpoint["netEP"].attributes.get("normalize")
  if saved is None:
    return bool(values["normalize"])
  if bool(saved) != bool(values["normalize"]):
    notes.append(f"netEP.normalize={bool(saved)} but opt.normalize={bool(values['normalize'])}"
                 ": the network's own flag is used.")
  return bool(saved)


# ----------------------------------------------------------------------------- config


def config_from_opt(opt, base_filters, normalize_pose=None, has_scene_discriminator=False):
  """The tfgen DrNET config of a drnet-py run with the options `opt`.

  Starts from `configs/drnet_<dataset>.py` (Moving MNIST's when the data set has no
  config, e.g. SUNCG) and applies `opt`.

  Returns:
    `(config, notes, base config name)`.
  """
  values = _opt_dict(opt)
  notes = []
  dataset = str(values["dataset"])
  config, base_name = reference_import.base_config(
      "drnet", DATASETS.get(dataset, dataset), "mnist", notes)
  width = int(values["image_width"])
  content = _choice(values, "content_model", CONTENT_MODELS)
  pose = _choice(values, "pose_model", POSE_MODELS)
  if normalize_pose is None:
    normalize_pose = bool(values["normalize"])
  config.model.update(dict(
      image_size=width, channels=int(values["channels"]),
      content_dim=int(values["content_dim"]), pose_dim=int(values["pose_dim"]),
      content_encoder=content, pose_encoder=pose, sd_nf=int(values["sd_nf"]),
      normalize_pose=bool(normalize_pose), normalize_content=False, alpha=1.0,
      beta=float(values["sd_weight"]), discriminator_labels="reference", fold_frames=False,
      base_filters=int(base_filters), batch_norm_moving_variance="unbiased"))
  data = config.data
  data.num_frames = int(values["max_step"])
  data.frame_sampling = FRAME_SAMPLING.get(dataset, "consecutive")
  options = data.get("options", {})
  if "image_size" in options:
    options.image_size = width
  elif width != 64:
    notes.append(f"tfgen's {data.name} frames are 64x64; this model takes {width}x{width}.")
  if "velocities" in options:
    options.velocities = "reference"  # drnet-py's randint(-4, 4): -4..3.
  if "num_digits" in options:
    options.num_digits = 2  # drnet-py's utils.load_dataset always uses 2 digits.
  config.train.update(dict(
      batch_size=int(values["batch_size"]), learning_rate=float(values["lr"]),
      beta1=float(values["beta1"]), epsilon=1e-8,
      optimizer=reference_import.optimizer_name(values["optimizer"]),
      seed=int(values["seed"])))
  notes.append("discriminator_labels='reference': drnet-py's scene discriminator says 1 for "
               "a pair from different clips.")
  notes.append(f"frame_sampling={data.frame_sampling!r}: how drnet-py picks a step's four "
               f"frames on {dataset}.")
  if not has_scene_discriminator:
    notes.append("No netC in the checkpoint (train_drnet.py does not save the scene "
                 "discriminator): C starts from tfgen's initialisation; only training uses it.")
  if data.name == "kth" and config.model.channels != 1:
    notes.append(f"channels={config.model.channels}: drnet-py reads KTH's grey frames as "
                 f"{config.model.channels} equal channels, tfgen's KTH data have 1; this model "
                 "cannot read them as they are.")
  return config, notes, base_name


def describe(config):
  """One line naming the imported DrNET's architecture."""
  m = config.model
  return (f"Model: DrNET content_encoder={m.content_encoder} pose_encoder={m.pose_encoder} "
          f"image_size={m.image_size} channels={m.channels} content_dim={m.content_dim} "
          f"pose_dim={m.pose_dim} sd_nf={m.sd_nf} normalize_pose={m.normalize_pose} "
          f"beta={m.beta} base_filters={m.base_filters}")


# ----------------------------------------------------------------------------- mapping


def _resnet_entries(part, layer, image_size):
  """drnet-py's `resnet_<w>.pose_encoder` (its `main`: resnet18) -> `ResNetEncoder`."""
  Entry = reference_import.Entry  # pylint: disable=invalid-name
  stride2 = {"stride": (2, 2), "padding": (1, 1)}
  out = [Entry(part, "main.conv1", "conv", f"{layer}/in_conv",
               {"stride": (2, 2), "padding": (3, 3)}),
         Entry(part, "main.bn1", "bn", f"{layer}/in_bn")]
  for s in range({64: 4, 128: 5}[image_size]):
    for j in range(2):
      torch_block = f"main.layer{s + 1}.{j}"
      block = f"{layer}/stage{s + 1}_block{j + 1}"
      first = reference_import.SAME3 if (s == 0 or j > 0) else stride2
      out += [Entry(part, f"{torch_block}.conv1", "conv", f"{block}/conv1", first),
              Entry(part, f"{torch_block}.bn1", "bn", f"{block}/bn1"),
              Entry(part, f"{torch_block}.conv2", "conv", f"{block}/conv2",
                    reference_import.SAME3),
              Entry(part, f"{torch_block}.bn2", "bn", f"{block}/bn2")]
      if s > 0 and j == 0:
        out += [Entry(part, f"{torch_block}.downsample.0", "conv", f"{block}/shortcut_conv",
                      {"stride": (2, 2), "padding": (0, 0)}),
                Entry(part, f"{torch_block}.downsample.1", "bn", f"{block}/shortcut_bn")]
  out += [Entry(part, "main.conv_out", "conv", f"{layer}/out_conv", reference_import.VALID),
          Entry(part, "main.bn_out", "bn", f"{layer}/out_bn")]
  return out


def _entries(model_config, has_scene_discriminator):
  """The `reference_import.Entry` of every DrNET layer with tensors."""
  ri = reference_import
  size = model_config.image_size
  content = model_config.content_encoder
  if content == "vgg_unet":
    out = (ri.vgg_encoder_entries("netEC", "content_encoder", size)
           + ri.vgg_decoder_entries("netD", "decoder", size))
  else:
    sequential = content == "dcgan"
    out = (ri.dcgan_encoder_entries("netEC", "content_encoder", size, sequential)
           + ri.dcgan_decoder_entries("netD", "decoder", size, sequential))
  if model_config.pose_encoder == "dcgan":
    out += ri.dcgan_encoder_entries("netEP", "pose_encoder", size, sequential=True)
  else:
    out += _resnet_entries("netEP", "pose_encoder", size)
  if has_scene_discriminator:
    out += [ri.Entry("netC", f"main.{2 * i}", "linear", f"scene_discriminator/{name}")
            for i, name in enumerate(("dense1", "dense2", "out"))]
  return out


def map_weights(checkpoint, model_config):
  """Maps the checkpoint's tensors to `{tfgen variable path: float32 array}`.

  Raises:
    ReferenceImportError: a module of another class or geometry, a missing tensor, or
      tensors left over (all listed).
  """
  has_c = "netC" in checkpoint
  parts = DRNET_KEYS + (("netC",) if has_c else ())
  return reference_import.map_weights(
      {part: checkpoint[part] for part in parts}, _entries(model_config, has_c),
      "the DrNET architecture its opt describes (content "
      f"{model_config.content_encoder}, pose {model_config.pose_encoder}, "
      f"{model_config.image_size}x{model_config.image_size})")


def _lstm_entries(num_layers):
  ri = reference_import
  return (ri.lstm_entries("lstm", "pose_lstm", num_layers)
          + [ri.Entry("lstm", "output.0", "linear", "pose_lstm/output")])


# ----------------------------------------------------------------------------- import


def prepare(path, checkpoint=None):
  """Reads, configures, maps and builds a DrNET: `(model, config, info)`, nothing written.

  `checkpoint`: what `torch_pickle.load(path)` returned, when already read.

  Raises:
    FileNotFoundError, ValueError (`torch_pickle.CheckpointError`, `ReferenceImportError`):
      the file is not an importable drnet-py DrNET checkpoint.
  """
  checkpoint = read_checkpoint(path, checkpoint)
  values = _opt_dict(checkpoint["opt"])
  expected = expected_types(values)
  for key in DRNET_KEYS + (("netC",) if "netC" in checkpoint else ()):
    if checkpoint[key].type_name != expected[key]:
      raise ReferenceImportError(
          f"The checkpoint's {key} is a {checkpoint[key].type_name}, but its opt "
          f"(content_model={values['content_model']!r}, pose_model={values['pose_model']!r}, "
          f"image_width={values['image_width']}) describes {expected[key]}.")
  notes = []
  base_filters = _first_conv(checkpoint["netEC"], values["content_model"]).shape[0]
  normalize_pose = _normalize_pose(checkpoint, values, notes)
  config, config_notes, base = config_from_opt(
      checkpoint["opt"], base_filters, normalize_pose, "netC" in checkpoint)
  notes = config_notes + notes
  weights = map_weights(checkpoint, config.model)
  # TensorFlow only now: a file that cannot be imported fails fast.
  model = reference_import.build_model(config.model)
  parts = ["content_encoder", "pose_encoder", "decoder"]
  if "netC" in checkpoint:
    parts.append("scene_discriminator")
  reference_import.assign_weights(model, weights, parts)
  info = reference_import.import_record(path, base, values, notes, len(weights))
  return model, config, info


def import_checkpoint(path, workdir, overwrite=False, checkpoint=None):
  """Imports drnet-py's `train_drnet.py` checkpoint at `path` into a new DrNET `workdir`.

  Everything is read and checked before anything is written; an existing non-empty
  `workdir` is only replaced with `overwrite=True`.

  Returns:
    dict: the import record (source, sha256, base config, opt, notes) plus `workdir`,
    `config`, `config_overrides` (the `--config.` flags that turn the base config into the
    imported one, for `tfgen.bin.train`) and `summary` (a line naming the model).
  """
  reference_import.check_workdir(workdir, overwrite)
  model, config, info = prepare(path, checkpoint)
  written = reference_import.write_workdir(model, config, workdir, info, overwrite=overwrite)
  return {**info, "workdir": written, "config": config, "summary": describe(config),
          "config_overrides": reference_import.config_overrides(config, info["base_config"])}


# ----------------------------------------------------------------------------- LSTM


def _drnet_run_config(drnet_workdir, path):
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  if not drnet_workdir:
    raise ReferenceImportError(
        f"{path} is a drnet-py pose LSTM (train_lstm.py), which holds the LSTM only: its "
        "DrNET networks are in the DrNET run's model.pth. Import that first "
        "(--checkpoint=<model_path>/model.pth --workdir=D) and pass --drnet_workdir=D.")
  try:
    config = workdir_lib.load_config(drnet_workdir)
  except workdir_lib.WorkdirError as e:
    raise ReferenceImportError(f"--drnet_workdir {drnet_workdir!r} is not a DrNET work "
                               f"directory: {e}") from None
  if config.model.name != "drnet":
    raise ReferenceImportError(f"--drnet_workdir {drnet_workdir!r} holds a "
                               f"{config.model.name!r} model, not a DrNET.")
  return config


def lstm_config_from_opt(opt, lstm, drnet_config, drnet_workdir):
  """The tfgen `drnet_lstm` config of a `train_lstm.py` run on the DrNET `drnet_config`.

  Returns:
    `(config, notes, base config name)`.

  Raises:
    ReferenceImportError: the LSTM's sizes disagree with the DrNET run's.
  """
  values = _opt_dict(opt, LSTM_OPT_DEFAULTS)
  notes = []
  drnet = drnet_config.model
  attributes = lstm.attributes
  pose_dim, content_dim = int(drnet.pose_dim), int(drnet.content_dim)
  checks = [("opt.pose_dim", values.get("pose_dim"), pose_dim),
            ("opt.content_dim", values.get("content_dim"), content_dim),
            ("opt.image_width", values.get("image_width"), int(drnet.image_size)),
            ("lstm.input_size", attributes.get("input_size"), pose_dim + content_dim),
            ("lstm.output_size", attributes.get("output_size"), pose_dim)]
  wrong = [f"{name}={value} (the DrNET run's: {expected})" for name, value, expected in checks
           if value is not None and int(value) != expected]
  if wrong:
    raise ReferenceImportError(
        f"The LSTM was not trained on the DrNET of --drnet_workdir {drnet_workdir!r}: "
        + ", ".join(wrong) + ".")
  dataset = str(values["dataset"])
  config, base_name = reference_import.base_config(
      "drnet_lstm", DATASETS.get(dataset, dataset), "mnist", notes)
  normalize = attributes.get("normalize")
  normalize = bool(values["normalize"]) if normalize is None else bool(normalize)
  config.drnet_workdir = os.path.abspath(drnet_workdir)
  config.model.update(dict(
      num_context_frames=int(values["n_past"]), num_future_frames=int(values["n_future"]),
      hidden_size=int(attributes.get("hidden_size", values["rnn_size"])),
      num_layers=int(attributes.get("n_layers", values["rnn_layers"])),
      encoder_batch_norm="training", lstm_init="pytorch"))
  config.model.normalize_output = normalize
  config.data.num_frames = int(values["n_past"]) + int(values["n_future"])
  # The DrNET run's data options (frame size, Moving MNIST's velocities, ...).
  config.data.options = ml_collections.ConfigDict(
      drnet_config.data.get("options", ml_collections.ConfigDict()).to_dict())
  config.train.update(dict(
      batch_size=int(values["batch_size"]), learning_rate=float(values["lr"]),
      beta1=float(values["beta1"]), epsilon=1e-8,
      optimizer=reference_import.optimizer_name(values["optimizer"]),
      seed=int(values["seed"])))
  notes.append("encoder_batch_norm='training': train_lstm.py keeps the frozen networks in "
               "train mode (prediction uses their running statistics either way).")
  if values.get("model_path"):
    notes.append(f"opt.model_path={values['model_path']!r}: the DrNET run the LSTM was "
                 f"trained on; its networks here are those of {config.drnet_workdir}.")
  return config, notes, base_name


def describe_lstm(config):
  m = config.model
  return (f"Model: DrNET pose LSTM hidden_size={m.hidden_size} num_layers={m.num_layers} "
          f"normalize_output={m.normalize_output} n_past={m.num_context_frames} "
          f"n_future={m.num_future_frames} on the DrNET of {config.drnet_workdir}")


def prepare_lstm(path, drnet_workdir, checkpoint=None):
  """Reads, configures, maps and builds a pose LSTM: `(model, config, info)`, nothing written.

  The frozen DrNET networks come from `drnet_workdir`'s latest checkpoint.

  Raises:
    FileNotFoundError, ValueError: the file is not an importable `train_lstm.py`
      checkpoint, or `drnet_workdir` is not the DrNET it was trained on.
  """
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  checkpoint = read_lstm_checkpoint(path, checkpoint)
  lstm = checkpoint["lstm"]
  if lstm.type_name != "models.lstm.lstm":
    raise ReferenceImportError(f"The checkpoint's lstm is a {lstm.type_name}, expected "
                               "models.lstm.lstm.")
  values = _opt_dict(checkpoint["opt"], LSTM_OPT_DEFAULTS)
  drnet_config = _drnet_run_config(drnet_workdir, path)
  config, notes, base = lstm_config_from_opt(checkpoint["opt"], lstm, drnet_config,
                                             drnet_workdir)
  # Checks the DrNET run (data set, frame size, checkpoint) and copies its model fields.
  factory.get_family("drnet_lstm").prepare_config(config)
  weights = reference_import.map_weights(
      {"lstm": lstm}, _lstm_entries(config.model.num_layers),
      f"drnet-py's pose LSTM ({config.model.num_layers} layers)")
  model = reference_import.build_model(config.model)
  reference_import.assign_weights(model, weights, ["pose_lstm"])
  drnet, _, drnet_checkpoint = workdir_lib.load_model(drnet_workdir)
  model.drnet.set_weights(drnet.get_weights())
  info = reference_import.import_record(path, base, values, notes, len(weights))
  info["drnet_workdir"] = config.drnet_workdir
  info["drnet_checkpoint"] = os.path.abspath(drnet_checkpoint)
  return model, config, info


def import_lstm_checkpoint(path, workdir, drnet_workdir, overwrite=False, checkpoint=None):
  """Imports drnet-py's `train_lstm.py` checkpoint at `path` into a `drnet_lstm` `workdir`.

  Args:
    path: the LSTM's `model.pth`.
    workdir: the work directory to create.
    drnet_workdir: the DrNET work directory (imported or trained) whose networks the LSTM
      predicts the poses of; copied into the LSTM's checkpoint, as the trainer does.
    overwrite: replace an existing non-empty `workdir`.
    checkpoint: what `torch_pickle.load(path)` returned, when already read.

  Returns:
    As `import_checkpoint` (`config_overrides` leaves out `model.drnet`, which the trainer
    fills in from `drnet_workdir`).
  """
  reference_import.check_workdir(workdir, overwrite)
  model, config, info = prepare_lstm(path, drnet_workdir, checkpoint)
  written = reference_import.write_workdir(model, config, workdir, info, overwrite=overwrite)
  return {**info, "workdir": written, "config": config, "summary": describe_lstm(config),
          "config_overrides": reference_import.config_overrides(
              config, info["base_config"], skip=("model.drnet",))}
