r"""Imports the authors' trained PyTorch SVG model into a tfgen work directory (no PyTorch).

  python -m tfgen.bin.import_reference --checkpoint=svglp_smmnist2.pth --workdir=W

reads an edenton/svg checkpoint (`train_svg_lp.py` / `train_svg_fp.py`'s `model.pth`,
legacy or zip `torch.save` format), derives the model from the options saved in it
(`opt`: architecture, sizes, n_past / n_future, beta, last_frame_skip -> skip_mode), and
writes `W/config.json`, `W/model_summary.json` and `W/checkpoints/ckpt-0` for `evaluate`,
`generate`, `analyze`, `export` and `train` (which fine-tunes from the imported weights
when given the same config: the printed `--config.` flags). Nothing is written when the
file is not an importable SVG checkpoint; an existing non-empty `W` is only replaced with
`--overwrite`.
"""

from absl import app
from absl import flags
from absl import logging

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("checkpoint", None, "The edenton/svg .pth file.")
flags.DEFINE_string("workdir", None, "The tfgen work directory to create.")
flags.DEFINE_bool("overwrite", False, "Replace an existing, non-empty --workdir.")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  with tfgen_flags.user_errors():
    if not FLAGS.checkpoint or not FLAGS.workdir:
      raise ValueError("--checkpoint and --workdir are required.")
    # Imported after flag parsing: TensorFlow is slow to load.
    from tfgen.interop import svg_reference  # pylint: disable=g-import-not-at-top
    result = svg_reference.import_checkpoint(FLAGS.checkpoint, FLAGS.workdir,
                                             overwrite=FLAGS.overwrite)
  model = result["config"].model
  print(f"Imported {result['source']} (sha256 {result['sha256'][:12]}, "
        f"{result['num_tensors']} tensors) into {result['workdir']}.")
  print(f"Model: SVG prior={model.prior} architecture={model.architecture} "
        f"image_size={model.image_size} channels={model.channels} g_dim={model.g_dim} "
        f"z_dim={model.z_dim} rnn_size={model.rnn_size} layers "
        f"{model.predictor_layers}/{model.posterior_layers}/{model.prior_layers} "
        f"n_past={model.num_context_frames} n_future={model.num_future_frames} "
        f"beta={model.beta} base_filters={model.base_filters} skip_mode={model.skip_mode}")
  for note in result["notes"]:
    print(f"Note: {note}")
  model_name, dataset = result["base_config"].rsplit("_", 1)
  overrides = " ".join(f"--config.{o}" for o in result["config_overrides"])
  print(f"Based on configs/{result['base_config']}.py. To fine-tune: python -m "
        f"tfgen.bin.train --model={model_name} --dataset={dataset} "
        f"--workdir={result['workdir']} {overrides}")
  logging.info("Done: %s", result["workdir"])


if __name__ == "__main__":
  app.run(main, flags_parser=tfgen_flags.parse_flags_with_overrides)
