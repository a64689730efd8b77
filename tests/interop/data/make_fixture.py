"""Makes the committed fixture of tests/interop: a tiny edenton/svg SVG-LP checkpoint.

Needs PyTorch (not tfgen). Run from the repository root:

  python tests/interop/data/make_fixture.py          # the committed fixture
  python tests/interop/data/make_fixture.py OUT_DIR  # VARIANTS, legacy and zip format
  python tests/interop/data/make_fixture.py --reference_dir=/tmp/ref/svg OUT_DIR
      # REFERENCE_VARIANTS: the authors' own classes at full width

Writes, next to this script:
  svg_lp_dcgan_tiny.pth  `torch.save` (legacy format, as PyTorch 0.3-1.5 wrote it) of the
    dict edenton/svg `train_svg_lp.py` saves, with the reference's classes
    (`models.dcgan_64.encoder`, `models.lstm.lstm`, ...; tests/interop/reference_models.py,
    narrowed to nf=2, g_dim=8, rnn_size=8, z_dim=3) and random weights and batch-norm
    statistics.
  svg_lp_dcgan_tiny_outputs.npz  fixed inputs (`pixels` uint8, frames = pixels / 255; `noise`) and PyTorch's outputs on
    them in eval mode (see `reference_models.reference_outputs`).
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

from tests.interop import reference_models  # pylint: disable=g-import-not-at-top,wrong-import-position

CHECKPOINT = "svg_lp_dcgan_tiny.pth"
OUTPUTS = "svg_lp_dcgan_tiny_outputs.npz"
OPT = dict(model="dcgan", image_width=64, channels=1, g_dim=8, z_dim=3, rnn_size=8,
           predictor_rnn_layers=2, posterior_rnn_layers=1, prior_rnn_layers=1, n_past=2,
           n_future=2, batch_size=2, beta=0.0001, dataset="smmnist", last_frame_skip=False)
NF = 2


# Variants for tests/interop/torch_parity_test.py: (opt overrides, nf, learned prior).
VARIANTS = {
    "dcgan64_lp": (dict(OPT), 2, True),
    "vgg64_lp_rgb_last_frame_skip": (dict(OPT, model="vgg", channels=3, z_dim=4,
                                          last_frame_skip=True, n_past=3, n_future=1,
                                          dataset="bair"), 2, True),
    "dcgan128_fp": (dict(OPT, image_width=128, predictor_rnn_layers=1,
                         posterior_rnn_layers=2), 2, False),
    "vgg128_lp": (dict(OPT, model="vgg", image_width=128, prior_rnn_layers=2,
                       dataset="kth"), 2, True),
}


# Full-width variants built from the authors' own classes (a checkout of edenton/svg).
REFERENCE_VARIANTS = {
    "authors_dcgan64_lp": dict(model="dcgan", n_past=3, n_future=2, batch_size=2),
    "authors_vgg64_lp": dict(model="vgg", channels=3, z_dim=64, n_past=2, n_future=2,
                             dataset="bair", batch_size=2),
}


def authors_modules(reference_dir):
  """edenton/svg's `models.*` modules from a checkout (CUDA calls made no-ops)."""
  import importlib  # pylint: disable=g-import-not-at-top
  torch.Tensor.cuda = lambda self, *args, **kwargs: self  # init_hidden() calls .cuda().
  sys.path.insert(0, reference_dir)
  return {name: importlib.import_module(f"models.{name}")
          for name in ("dcgan_64", "dcgan_128", "vgg_64", "vgg_128", "lstm")}


def write(directory, name, opt_overrides, nf, learned_prior, formats=("legacy",), seed=17,
          modules=None):
  """Writes `<name>_<format>.pth` per format and `<name>_outputs.npz` in `directory`."""
  opt = reference_models.make_opt(**opt_overrides)
  saved = reference_models.build(opt, nf=nf, learned_prior=learned_prior, seed=seed,
                                 modules=modules)
  # As train_svg_lp.py: opt.optimizer is the optimiser class by the time it is saved.
  opt.optimizer = torch.optim.Adam
  rng = np.random.default_rng(17)
  # Frames on the 8-bit grid, stored as uint8 (frames = pixels / 255).
  pixels = rng.integers(0, 256, size=(2, opt.n_past + opt.n_future, opt.image_width,
                                      opt.image_width, opt.channels), dtype=np.uint8)
  frames = pixels.astype(np.float32) / 255.0
  noise = rng.standard_normal((2, opt.n_past + opt.n_future - 1, opt.z_dim)).astype(np.float32)
  outputs = reference_models.reference_outputs(saved, frames, noise)
  del outputs["skip0"]  # Covered by the decoder and reconstruction; keeps the file small.
  for module in saved.values():  # Saved in training mode, as the reference does.
    if isinstance(module, torch.nn.Module):
      module.train()
      if hasattr(module, "init_hidden"):
        module.batch_size = opt.batch_size
        module.hidden = module.init_hidden()
  paths = {}
  for fmt in formats:
    paths[fmt] = os.path.join(directory, f"{name}_{fmt}.pth")
    torch.save(saved, paths[fmt], _use_new_zipfile_serialization=fmt == "zip")
  np.savez_compressed(os.path.join(directory, f"{name}_outputs.npz"), pixels=pixels,
                      noise=noise, **outputs)
  return paths


def main(argv):
  if len(argv) > 2 and argv[1].startswith("--reference_dir="):
    # make_fixture.py --reference_dir=SVG_CHECKOUT OUT_DIR: the authors' classes, full width.
    modules = authors_modules(argv[1].split("=", 1)[1])
    for name, overrides in REFERENCE_VARIANTS.items():
      write(argv[2], name, overrides, None, True, formats=("legacy",), modules=modules)
    print(f"Wrote {', '.join(REFERENCE_VARIANTS)} in {argv[2]}.")
    return
  if len(argv) > 1:
    # make_fixture.py OUT_DIR: every variant in both formats (the parity test's input).
    for name, (overrides, nf, learned) in VARIANTS.items():
      write(argv[1], name, overrides, nf, learned, formats=("legacy", "zip"))
    print(f"Wrote {', '.join(VARIANTS)} in {argv[1]}.")
    return
  paths = write(HERE, "svg_lp_dcgan_tiny", OPT, NF, True)
  os.replace(paths["legacy"], os.path.join(HERE, CHECKPOINT))
  print(f"Wrote {CHECKPOINT} and {OUTPUTS} in {HERE}.")


if __name__ == "__main__":
  main(sys.argv)
