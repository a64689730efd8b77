r"""Imports the authors' trained PyTorch SVG or DrNET model into a tfgen work directory (no PyTorch).

  python -m tfgen.bin.import_reference --checkpoint=svglp_smmnist2.pth --workdir=W
  python -m tfgen.bin.import_reference --checkpoint=kth128x128_model.pth --workdir=D
  python -m tfgen.bin.import_reference --checkpoint=lstm/model.pth --drnet_workdir=D \
      --workdir=L

reads a `torch.save` file (legacy or zip format) and detects what it holds:
- an edenton/svg model (`train_svg_lp.py` / `train_svg_fp.py`'s `model.pth`): an SVG work
  directory; the model comes from the saved options (`opt`: architecture, sizes,
  n_past / n_future, beta, last_frame_skip -> skip_mode);
- an edenton/drnet-py DrNET (`train_drnet.py`'s `model.pth`: netEC, netEP, netD, opt): a
  DrNET work directory (content / pose encoders and decoder from `opt`);
- a drnet-py pose LSTM (`train_lstm.py`'s `model.pth`: lstm, opt): a `drnet_lstm` work
  directory on the networks of `--drnet_workdir` (the import of the DrNET it was trained on).

It writes `W/config.json`, `W/model_summary.json` and `W/checkpoints/ckpt-0` for
`evaluate`, `generate`, `analyze`, `export` and `train` (which fine-tunes from the imported
weights when given the same config: the printed `--config.` flags). Nothing is written
when the file is not an importable checkpoint; an existing non-empty `W` is only replaced
with `--overwrite`.
"""

import shlex

from absl import app
from absl import flags
from absl import logging

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("checkpoint", None, "The edenton/svg or edenton/drnet-py .pth file.")
flags.DEFINE_string("workdir", None, "The tfgen work directory to create.")
flags.DEFINE_string("drnet_workdir", None,
                    "For a drnet-py pose LSTM (train_lstm.py) checkpoint: the DrNET work "
                    "directory of the networks it was trained on.")
flags.DEFINE_bool("overwrite", False, "Replace an existing, non-empty --workdir.")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  with tfgen_flags.user_errors():
    if not FLAGS.checkpoint or not FLAGS.workdir:
      raise ValueError("--checkpoint and --workdir are required.")
    # Imported after flag parsing: TensorFlow is slow to load.
    from tfgen.interop import importer  # pylint: disable=g-import-not-at-top
    result = importer.import_checkpoint(FLAGS.checkpoint, FLAGS.workdir,
                                        overwrite=FLAGS.overwrite,
                                        drnet_workdir=FLAGS.drnet_workdir)
  print(f"Imported {result['source']} (sha256 {result['sha256'][:12]}, "
        f"{result['num_tensors']} tensors) into {result['workdir']}.")
  print(result["summary"])
  for note in result["notes"]:
    print(f"Note: {note}")
  model_name, dataset = result["base_config"].rsplit("_", 1)
  overrides = " ".join(shlex.quote(f"--config.{o}") for o in result["config_overrides"])
  print(f"Based on configs/{result['base_config']}.py. To fine-tune: python -m "
        f"tfgen.bin.train --model={model_name} --dataset={dataset} "
        f"--workdir={result['workdir']} {overrides}")
  logging.info("Done: %s", result["workdir"])


if __name__ == "__main__":
  app.run(main, flags_parser=tfgen_flags.parse_flags_with_overrides)
