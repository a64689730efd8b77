"""Which authors' model a PyTorch checkpoint holds, and its import (`tfgen.bin.import_reference`).

- edenton/svg `train_svg_lp.py` / `train_svg_fp.py`: `{encoder, decoder, frame_predictor,
  posterior[, prior], opt}` -> `svg_reference` (an SVG work directory);
- edenton/drnet-py `train_drnet.py`: `{netEC, netEP, netD[, netC], opt}` ->
  `drnet_reference.import_checkpoint` (a DrNET work directory);
- edenton/drnet-py `train_lstm.py`: `{lstm, opt}` -> `drnet_reference.import_lstm_checkpoint`
  (a `drnet_lstm` work directory on the networks of a DrNET work directory).

The file is read once (`tfgen.interop.torch_pickle`, no PyTorch); anything else is refused
before anything is written.
"""

from tfgen.interop import drnet_reference
from tfgen.interop import reference_import
from tfgen.interop import svg_reference
from tfgen.interop import torch_pickle

MODELS = ("svg", "drnet", "drnet_lstm")
_KNOWN = ("edenton/svg's (encoder, decoder, frame_predictor, posterior[, prior], opt), "
          "drnet-py train_drnet.py's (netEC, netEP, netD, opt) or train_lstm.py's (lstm, opt)")


def detect(checkpoint, path):
  """"svg", "drnet" or "drnet_lstm": the model the loaded `checkpoint` holds.

  A dict with any of a model's networks is taken for that model (its importer then lists
  what is missing).

  Raises:
    ReferenceImportError: not a dict, or keys of none of the models.
  """
  if not isinstance(checkpoint, dict):
    raise reference_import.ReferenceImportError(
        f"{path} is a PyTorch checkpoint but holds a {type(checkpoint).__name__}, not the "
        f"dict of modules the authors' scripts save ({_KNOWN}).")
  keys = set(checkpoint)
  if keys & set(svg_reference.SVG_KEYS + ("prior",)):
    return "svg"
  if keys & set(drnet_reference.DRNET_KEYS + ("netC",)):
    return "drnet"
  if keys & set(drnet_reference.LSTM_KEYS):
    return "drnet_lstm"
  raise reference_import.ReferenceImportError(
      f"{path} is a PyTorch checkpoint of no model tfgen can import: its keys are "
      f"{', '.join(sorted(map(str, keys))) or 'none'}; expected {_KNOWN}.")


def import_checkpoint(path, workdir, overwrite=False, drnet_workdir=None):
  """Imports the authors' checkpoint at `path` into a new tfgen work directory `workdir`.

  Args:
    path: an edenton/svg or edenton/drnet-py `.pth` file (legacy or zip format).
    workdir: the work directory to create.
    overwrite: replace an existing non-empty `workdir`.
    drnet_workdir: for a `train_lstm.py` checkpoint only (required there): the DrNET work
      directory whose networks the LSTM was trained on.

  Returns:
    The importer's record (see `drnet_reference.import_checkpoint`) plus `model`, the
    detected model ("svg", "drnet" or "drnet_lstm").
  """
  reference_import.check_workdir(workdir, overwrite)
  checkpoint = torch_pickle.load(path)
  model = detect(checkpoint, path)
  if drnet_workdir and model != "drnet_lstm":
    raise reference_import.ReferenceImportError(
        f"--drnet_workdir is for a drnet-py pose LSTM checkpoint; {path} holds a {model} "
        "model.")
  if model == "svg":
    result = svg_reference.import_checkpoint(path, workdir, overwrite, checkpoint=checkpoint)
  elif model == "drnet":
    result = drnet_reference.import_checkpoint(path, workdir, overwrite, checkpoint=checkpoint)
  else:
    result = drnet_reference.import_lstm_checkpoint(path, workdir, drnet_workdir, overwrite,
                                                    checkpoint=checkpoint)
  return {**result, "model": model}
