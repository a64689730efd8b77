"""Makes the committed DrNET fixture of tests/interop: tiny edenton/drnet-py checkpoints.

Needs PyTorch (not tfgen). Run from the repository root:

  python tests/interop/data/make_drnet_fixture.py          # the committed fixture
  python tests/interop/data/make_drnet_fixture.py OUT_DIR  # VARIANTS, legacy and zip format
  python tests/interop/data/make_drnet_fixture.py --reference_dir=/tmp/ref/drnet-py OUT_DIR
      # REFERENCE_VARIANTS: the authors' own classes at full width

Writes, next to this script:
  drnet_tiny.pth  `torch.save` (legacy format, as PyTorch 0.3-1.5 wrote it) of the dict
    drnet-py `train_drnet.py` saves (netD, netEP, netEC, opt), plus netC, with drnet-py's
    classes (`models.vgg_unet_64.content_encoder`, `models.resnet_64.pose_encoder`, ...;
    tests/interop/drnet_reference_models.py narrowed to nf=2, content_dim 6, pose_dim 4,
    sd_nf 5; RGB Moving MNIST, so tfgen's MNIST data can fine-tune it) and random weights
    and batch-norm statistics.
  drnet_lstm_tiny.pth  the same of the dict `train_lstm.py` saves (lstm, opt) on that DrNET
    (rnn_size 8, 2 layers, n_past 2, n_future 1).
  drnet_tiny_outputs.npz  fixed inputs (`pixels` uint8, frames = pixels / 255) and
    PyTorch's outputs on them in eval mode (`drnet_reference_models.reference_outputs`).
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

from tests.interop import drnet_reference_models as rm  # pylint: disable=g-import-not-at-top,wrong-import-position

NAME = "drnet_tiny"
OPT = dict(dataset="moving_mnist", image_width=64, channels=3, content_model="vgg_unet",
           pose_model="resnet", content_dim=6, pose_dim=4, sd_nf=5, batch_size=4,
           max_step=20)
LSTM_OPT = dict(rnn_size=8, rnn_layers=2, n_past=2, n_future=1, batch_size=4)
NF = 2

# Variants for tests/interop/drnet_torch_parity_test.py:
# (DrNET opt overrides, LSTM opt overrides or None, nf, with netC).
VARIANTS = {
    # drnet-py's defaults: DCGAN U-Net content, DCGAN pose (L2-normalised), RGB.
    "mnist_unet_dcgan": (dict(content_dim=8, pose_dim=4, normalize=True, sd_nf=6),
                         dict(rnn_size=8, rnn_layers=2, n_past=3, n_future=2,
                              normalize=True), 2, True),
    # The thesis's MNIST networks (no skips) at 128x128, grey, train_drnet.py's exact save.
    "mnist_dcgan_128": (dict(content_model="dcgan", image_width=128, channels=1,
                             content_dim=7, pose_dim=3), None, 2, False),
    # The thesis's KTH networks at 128x128 (ResNet with its fifth stage), RGB as drnet-py.
    "kth_vgg_resnet_128": (dict(dataset="kth", content_model="vgg_unet", pose_model="resnet",
                                image_width=128, content_dim=6, pose_dim=5, sd_nf=4),
                           dict(rnn_size=6, rnn_layers=1, n_past=2, n_future=2), 2, True),
}

# Full-width variants built from the authors' own classes (a checkout of drnet-py).
REFERENCE_VARIANTS = {
    "authors_mnist_default": (dict(batch_size=2), dict(n_past=2, n_future=2, batch_size=2)),
}


def authors_modules(reference_dir):
  """drnet-py's `models.*` modules from a checkout (CUDA calls made no-ops)."""
  import importlib  # pylint: disable=g-import-not-at-top
  torch.Tensor.cuda = lambda self, *args, **kwargs: self  # lstm.init_hidden() calls .cuda().
  sys.path.insert(0, reference_dir)
  names = ("dcgan_64", "dcgan_unet_64", "classifiers", "lstm")
  return {name: importlib.import_module(f"models.{name}") for name in names}


def write(directory, name, opt_overrides, lstm_overrides, nf, with_netc, formats=("legacy",),
          seed=17, modules=None):
  """Writes `<name>[_lstm]_<format>.pth` per format and `<name>_outputs.npz` in `directory`."""
  opt = rm.make_opt(**opt_overrides)
  if modules is None:
    saved = rm.build(opt, nf=nf, with_scene_discriminator=with_netc, seed=seed)
  else:  # The authors' classes at full width.
    torch.manual_seed(seed)
    saved = {"netD": modules["dcgan_unet_64"].decoder(opt.content_dim, opt.pose_dim,
                                                      opt.channels),
             "netEP": modules["dcgan_64"].pose_encoder(opt.pose_dim, opt.channels,
                                                       normalize=opt.normalize),
             "netEC": modules["dcgan_unet_64"].content_encoder(opt.content_dim, opt.channels),
             "netC": modules["classifiers"].scene_discriminator(opt.pose_dim, opt.sd_nf)}
    rm._randomise(saved.values(), seed)  # pylint: disable=protected-access
    saved["opt"] = opt
  lstm_saved = None
  if lstm_overrides is not None:
    lstm_opt = rm.make_lstm_opt(opt, **lstm_overrides)
    if modules is None:
      lstm_saved = rm.build_lstm(lstm_opt, seed=seed + 1)
    else:
      net = modules["lstm"].lstm(lstm_opt.pose_dim + lstm_opt.content_dim, lstm_opt.pose_dim,
                                 lstm_opt.rnn_size, lstm_opt.rnn_layers, lstm_opt.batch_size,
                                 lstm_opt.normalize)
      rm._randomise([net], seed + 1)  # pylint: disable=protected-access
      lstm_saved = {"lstm": net, "opt": lstm_opt}
  rng = np.random.default_rng(17)
  num_frames = 4 if lstm_saved is None else lstm_saved["opt"].max_step
  # Frames on the 8-bit grid, stored as uint8 (frames = pixels / 255).
  pixels = rng.integers(0, 256, size=(2, num_frames, opt.image_width, opt.image_width,
                                      opt.channels), dtype=np.uint8)
  outputs = rm.reference_outputs(saved, pixels.astype(np.float32) / 255.0, lstm_saved)
  # As train_drnet.py / train_lstm.py: opt.optimizer is the class by the time it is saved;
  # the networks are saved in training mode.
  opt.optimizer = torch.optim.Adam
  to_save = [(name, saved)]
  if lstm_saved is not None:
    lstm_saved["opt"].optimizer = torch.optim.Adam
    lstm_saved["lstm"].batch_size = lstm_saved["opt"].batch_size
    lstm_saved["lstm"].hidden = lstm_saved["lstm"].init_hidden()
    to_save.append((f"{name}_lstm", lstm_saved))
  paths = {}
  for file_name, contents in to_save:
    for value in contents.values():
      if isinstance(value, torch.nn.Module):
        value.train()
    for fmt in formats:
      paths[(file_name, fmt)] = os.path.join(directory, f"{file_name}_{fmt}.pth")
      torch.save(contents, paths[(file_name, fmt)], _use_new_zipfile_serialization=fmt == "zip")
  np.savez_compressed(os.path.join(directory, f"{name}_outputs.npz"), pixels=pixels, **outputs)
  return paths


def main(argv):
  if len(argv) > 2 and argv[1].startswith("--reference_dir="):
    modules = authors_modules(argv[1].split("=", 1)[1])
    for name, (overrides, lstm_overrides) in REFERENCE_VARIANTS.items():
      write(argv[2], name, overrides, lstm_overrides, None, True, modules=modules)
    print(f"Wrote {', '.join(REFERENCE_VARIANTS)} in {argv[2]}.")
    return
  if len(argv) > 1:
    for name, (overrides, lstm_overrides, nf, with_netc) in VARIANTS.items():
      write(argv[1], name, overrides, lstm_overrides, nf, with_netc, formats=("legacy", "zip"))
    print(f"Wrote {', '.join(VARIANTS)} in {argv[1]}.")
    return
  paths = write(HERE, NAME, OPT, LSTM_OPT, NF, True)
  os.replace(paths[(NAME, "legacy")], os.path.join(HERE, f"{NAME}.pth"))
  os.replace(paths[(f"{NAME}_lstm", "legacy")], os.path.join(HERE, "drnet_lstm_tiny.pth"))
  print(f"Wrote {NAME}.pth, drnet_lstm_tiny.pth and {NAME}_outputs.npz in {HERE}.")


if __name__ == "__main__":
  main(sys.argv)
