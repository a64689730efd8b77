"""DrNET's pose LSTM ("drnet_lstm") in the model-family registry (`tfgen.models.factory`).

The LSTM is trained on the frozen networks of a trained DrNET run, named by
`config.drnet_workdir`. Before any work, `prepare_config` reads that run's config, checks
that it is a DrNET run with a checkpoint, trained on the same data set and frame size, and
copies its model fields into `config.model.drnet`; a fresh run then starts from that run's
latest checkpoint (`initialize`). The frozen networks are part of the LSTM's model, so
they are saved in the LSTM's checkpoints and every restore checks them (the trainer's
`assert_consumed`): a resumed run, `generate`, `evaluate` and `export` read only the LSTM's
work directory, and retraining or deleting the DrNET run later cannot change a trained
LSTM's predictions. (A resumed run whose DrNET run now has another configuration is
refused: `config.model.drnet` differs from the saved one.)
"""

import os

import ml_collections

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.drnet.pose_lstm import PoseLSTM  # pylint: disable=g-import-not-at-top
  fields["drnet"] = dict(fields.get("drnet") or {})
  return PoseLSTM(**fields)




def _image_size(data_config, fallback):
  return dict(data_config.get("options", {})).get("image_size", fallback)


def load_drnet_config(config):
  """The config of the DrNET run `config.drnet_workdir`, checked against `config`.

  Raises:
    ValueError: no `drnet_workdir`, not a DrNET work directory, no checkpoint, or a run on
      another data set or frame size.
  """
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  workdir = config.get("drnet_workdir", None)
  if not workdir:
    raise ValueError("config.drnet_workdir is required: the work directory of a trained DrNET "
                     "run (`python -m tfgen.bin.train --model=drnet ... --workdir=W`, then "
                     "`--config.drnet_workdir=W`).")
  try:
    drnet_config = workdir_lib.load_config(workdir)
  except workdir_lib.WorkdirError as e:
    raise ValueError(f"config.drnet_workdir {workdir!r} is not a trained DrNET run: {e}") from None
  if drnet_config.model.name != "drnet":
    raise ValueError(f"config.drnet_workdir {workdir!r} holds a {drnet_config.model.name!r} "
                     "run, not a DrNET run (model name 'drnet').")
  checkpoints = os.path.join(workdir, workdir_lib.CHECKPOINT_DIR)
  if tf.train.latest_checkpoint(checkpoints) is None:
    raise ValueError(f"config.drnet_workdir {workdir!r} has no checkpoint in {checkpoints!r}: "
                     "train the DrNET run first.")
  if drnet_config.data.name != config.data.name:
    raise ValueError(f"config.drnet_workdir {workdir!r} was trained on data set "
                     f"{drnet_config.data.name!r}, this LSTM on {config.data.name!r}: train "
                     "the LSTM on the DrNET run's data set.")
  drnet_size = drnet_config.model.image_size
  data_size = _image_size(config.data, drnet_size)
  if data_size != drnet_size or _image_size(drnet_config.data, drnet_size) != drnet_size:
    raise ValueError(f"config.drnet_workdir {workdir!r} encodes {drnet_size}x{drnet_size} "
                     f"frames, this LSTM's data are {data_size}x{data_size}: set "
                     f"--config.data.options.image_size={drnet_size} or use a DrNET run of "
                     "this size.")
  return drnet_config


def _prepare_config(config):
  """Copies the DrNET run's model fields into `config.model.drnet` (after checking them)."""
  drnet_config = load_drnet_config(config)
  fields = drnet_config.model.to_dict()
  fields.pop("name")
  saved = config.model.get("drnet", None)
  if saved:
    # Set by hand or by an earlier call: it must describe the same networks.
    saved = saved.to_dict() if hasattr(saved, "to_dict") else dict(saved)
    differences = sorted(k for k in set(saved) | set(fields) if saved.get(k) != fields.get(k))
    if differences:
      detail = "; ".join(f"{k}: {saved.get(k)!r} here, {fields.get(k)!r} in the DrNET run"
                         for k in differences)
      raise ValueError(f"config.model.drnet disagrees with config.drnet_workdir "
                       f"{config.drnet_workdir!r} ({detail}).")
  config.model.drnet = ml_collections.ConfigDict(fields)
  return config


def _initialize(model, config):
  """A fresh run's frozen networks: the DrNET run's latest checkpoint, restored and copied."""
  from absl import logging  # pylint: disable=g-import-not-at-top
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  drnet, _, path = workdir_lib.load_model(config.drnet_workdir)
  model.drnet.set_weights(drnet.get_weights())
  logging.info("Frozen DrNET networks restored from %s.", path)
  return path




FAMILY = factory.ModelFamily(
    build=_build, compile=factory.compile_with_one_optimizer, check_data=factory.check_clip_length,
    prepare_config=_prepare_config, initialize=_initialize,
    signatures="tfgen.models.drnet.pose_lstm_signatures",
    samples="tfgen.models.drnet.prediction_pictures")
