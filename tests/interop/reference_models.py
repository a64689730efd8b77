"""The edenton/svg model classes at any width, for the interop tests and fixture (needs torch).

Copies of edenton/svg `models/dcgan_64.py`, `dcgan_128.py`, `vgg_64.py`, `vgg_128.py` and
`lstm.py` (same class names, module paths, attribute names and layer order, so a
`torch.save` of them pickles exactly as the authors' checkpoints do) with two changes: the
base width `nf` (64 in the reference) is an argument, so tests can use narrow networks,
and `lstm.init_hidden` makes CPU tensors (the reference calls `.cuda()`).

`install()` registers the modules as `models.dcgan_64` etc. in `sys.modules`, where
`torch.save` looks the classes up; `build(...)` makes the modules of an SVG checkpoint.
"""

import argparse
import sys
import types

import torch
from torch import nn


# ----------------------------------------------------------------------------- dcgan


class dcgan_conv(nn.Module):  # pylint: disable=invalid-name

  def __init__(self, nin, nout):
    super().__init__()
    self.main = nn.Sequential(nn.Conv2d(nin, nout, 4, 2, 1), nn.BatchNorm2d(nout),
                              nn.LeakyReLU(0.2, inplace=True))

  def forward(self, x):
    return self.main(x)


class dcgan_upconv(nn.Module):  # pylint: disable=invalid-name

  def __init__(self, nin, nout):
    super().__init__()
    self.main = nn.Sequential(nn.ConvTranspose2d(nin, nout, 4, 2, 1), nn.BatchNorm2d(nout),
                              nn.LeakyReLU(0.2, inplace=True))

  def forward(self, x):
    return self.main(x)


def _dcgan_filters(image_width, nf):
  return [nf * min(2**i, 8) for i in range({64: 4, 128: 5}[image_width])]


def _make_dcgan_encoder(image_width):
  class encoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, dim, nc=1, nf=64):
      super().__init__()
      self.dim = dim
      filters = _dcgan_filters(image_width, nf)
      previous = nc
      for i, f in enumerate(filters):
        setattr(self, f"c{i + 1}", dcgan_conv(previous, f))
        previous = f
      setattr(self, f"c{len(filters) + 1}", nn.Sequential(
          nn.Conv2d(previous, dim, 4, 1, 0), nn.BatchNorm2d(dim), nn.Tanh()))
      self.n = len(filters)

    def forward(self, x):
      skips = []
      for i in range(self.n):
        x = getattr(self, f"c{i + 1}")(x)
        skips.append(x)
      h = getattr(self, f"c{self.n + 1}")(x)
      return h.view(-1, self.dim), skips
  return encoder


def _make_dcgan_decoder(image_width):
  class decoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, dim, nc=1, nf=64):
      super().__init__()
      self.dim = dim
      filters = _dcgan_filters(image_width, nf)[::-1]
      self.n = len(filters)
      self.upc1 = nn.Sequential(nn.ConvTranspose2d(dim, filters[0], 4, 1, 0),
                                nn.BatchNorm2d(filters[0]), nn.LeakyReLU(0.2, inplace=True))
      for i in range(1, self.n):
        setattr(self, f"upc{i + 1}", dcgan_upconv(filters[i - 1] * 2, filters[i]))
      setattr(self, f"upc{self.n + 1}", nn.Sequential(
          nn.ConvTranspose2d(filters[-1] * 2, nc, 4, 2, 1), nn.Sigmoid()))

    def forward(self, inputs):
      vec, skip = inputs
      d = self.upc1(vec.view(-1, self.dim, 1, 1))
      for i in range(1, self.n + 1):
        d = getattr(self, f"upc{i + 1}")(torch.cat([d, skip[self.n - i]], 1))
      return d
  return decoder


# ----------------------------------------------------------------------------- vgg


class vgg_layer(nn.Module):  # pylint: disable=invalid-name

  def __init__(self, nin, nout):
    super().__init__()
    self.main = nn.Sequential(nn.Conv2d(nin, nout, 3, 1, 1), nn.BatchNorm2d(nout),
                              nn.LeakyReLU(0.2, inplace=True))

  def forward(self, x):
    return self.main(x)


def _vgg_blocks(image_width, nf):
  blocks = [(nf, 2), (2 * nf, 2), (4 * nf, 3), (8 * nf, 3)]
  return blocks + [(8 * nf, 3)] if image_width == 128 else blocks


def _make_vgg_encoder(image_width):
  class encoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, dim, nc=1, nf=64):
      super().__init__()
      self.dim = dim
      blocks = _vgg_blocks(image_width, nf)
      self.n = len(blocks)
      previous = nc
      for i, (f, count) in enumerate(blocks):
        layers = []
        for _ in range(count):
          layers.append(vgg_layer(previous, f))
          previous = f
        setattr(self, f"c{i + 1}", nn.Sequential(*layers))
      setattr(self, f"c{self.n + 1}", nn.Sequential(
          nn.Conv2d(previous, dim, 4, 1, 0), nn.BatchNorm2d(dim), nn.Tanh()))
      self.mp = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)

    def forward(self, x):
      skips = []
      for i in range(self.n):
        x = getattr(self, f"c{i + 1}")(x if i == 0 else self.mp(x))
        skips.append(x)
      h = getattr(self, f"c{self.n + 1}")(self.mp(x))
      return h.view(-1, self.dim), skips
  return encoder


def _make_vgg_decoder(image_width):
  class decoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, dim, nc=1, nf=64):
      super().__init__()
      self.dim = dim
      blocks = _vgg_blocks(image_width, nf)[::-1]
      self.n = len(blocks)
      self.upc1 = nn.Sequential(nn.ConvTranspose2d(dim, blocks[0][0], 4, 1, 0),
                                nn.BatchNorm2d(blocks[0][0]), nn.LeakyReLU(0.2, inplace=True))
      for i, (f, count) in enumerate(blocks):
        last = i == self.n - 1
        layers = [vgg_layer(2 * f, f)]
        for j in range(1, count):
          layers.append(vgg_layer(f, blocks[i + 1][0] if j == count - 1 and not last else f))
        if last:
          layers = layers[:count - 1] + [nn.ConvTranspose2d(f, nc, 3, 1, 1), nn.Sigmoid()]
        setattr(self, f"upc{i + 2}", nn.Sequential(*layers))
      self.up = nn.UpsamplingNearest2d(scale_factor=2)

    def forward(self, inputs):
      vec, skip = inputs
      d = self.upc1(vec.view(-1, self.dim, 1, 1))
      for i in range(self.n):
        d = getattr(self, f"upc{i + 2}")(torch.cat([self.up(d), skip[self.n - 1 - i]], 1))
      return d
  return decoder


# ----------------------------------------------------------------------------- lstm


class lstm(nn.Module):  # pylint: disable=invalid-name

  def __init__(self, input_size, output_size, hidden_size, n_layers, batch_size):
    super().__init__()
    self.input_size = input_size
    self.output_size = output_size
    self.hidden_size = hidden_size
    self.batch_size = batch_size
    self.n_layers = n_layers
    self.embed = nn.Linear(input_size, hidden_size)
    self.lstm = nn.ModuleList([nn.LSTMCell(hidden_size, hidden_size) for _ in range(n_layers)])
    self.output = nn.Sequential(nn.Linear(hidden_size, output_size), nn.Tanh())
    self.hidden = self.init_hidden()

  def init_hidden(self):
    return [(torch.zeros(self.batch_size, self.hidden_size),
             torch.zeros(self.batch_size, self.hidden_size)) for _ in range(self.n_layers)]

  def forward(self, x):
    h_in = self.embed(x.view(-1, self.input_size))
    for i in range(self.n_layers):
      self.hidden[i] = self.lstm[i](h_in, self.hidden[i])
      h_in = self.hidden[i][0]
    return self.output(h_in)


class gaussian_lstm(nn.Module):  # pylint: disable=invalid-name

  def __init__(self, input_size, output_size, hidden_size, n_layers, batch_size):
    super().__init__()
    self.input_size = input_size
    self.output_size = output_size
    self.hidden_size = hidden_size
    self.n_layers = n_layers
    self.batch_size = batch_size
    self.embed = nn.Linear(input_size, hidden_size)
    self.lstm = nn.ModuleList([nn.LSTMCell(hidden_size, hidden_size) for _ in range(n_layers)])
    self.mu_net = nn.Linear(hidden_size, output_size)
    self.logvar_net = nn.Linear(hidden_size, output_size)
    self.hidden = self.init_hidden()

  def init_hidden(self):
    return [(torch.zeros(self.batch_size, self.hidden_size),
             torch.zeros(self.batch_size, self.hidden_size)) for _ in range(self.n_layers)]

  def forward(self, x):
    h_in = self.embed(x.view(-1, self.input_size))
    for i in range(self.n_layers):
      self.hidden[i] = self.lstm[i](h_in, self.hidden[i])
      h_in = self.hidden[i][0]
    mu = self.mu_net(h_in)
    logvar = self.logvar_net(h_in)
    return mu, mu, logvar  # z = mu: the tests feed their own noise.


# ----------------------------------------------------------------------------- registry

MODULES = {}


def install():
  """Registers `models`, `models.dcgan_64`, ... in `sys.modules` (idempotent)."""
  if MODULES:
    return MODULES
  package = types.ModuleType("models")
  package.__path__ = []
  sys.modules.setdefault("models", package)
  package = sys.modules["models"]
  definitions = {
      "dcgan_64": dict(encoder=_make_dcgan_encoder(64), decoder=_make_dcgan_decoder(64),
                       dcgan_conv=dcgan_conv, dcgan_upconv=dcgan_upconv),
      "dcgan_128": dict(encoder=_make_dcgan_encoder(128), decoder=_make_dcgan_decoder(128),
                        dcgan_conv=dcgan_conv, dcgan_upconv=dcgan_upconv),
      "vgg_64": dict(encoder=_make_vgg_encoder(64), decoder=_make_vgg_decoder(64),
                     vgg_layer=vgg_layer),
      "vgg_128": dict(encoder=_make_vgg_encoder(128), decoder=_make_vgg_decoder(128),
                      vgg_layer=vgg_layer),
      "lstm": dict(lstm=lstm, gaussian_lstm=gaussian_lstm),
  }
  for name, classes in definitions.items():
    module = types.ModuleType(f"models.{name}")
    for class_name, cls in classes.items():
      if name in ("dcgan_64", "vgg_64", "lstm") or class_name in ("encoder", "decoder"):
        cls.__module__ = module.__name__
      cls.__qualname__ = class_name
      setattr(module, class_name, cls)
    sys.modules[module.__name__] = module
    setattr(package, name, module)
    MODULES[name] = module
  return MODULES


def make_opt(**overrides):
  """An `argparse.Namespace` as edenton/svg `train_svg_lp.py` saves it (its defaults)."""
  opt = argparse.Namespace(
      lr=0.002, beta1=0.9, batch_size=100, log_dir="logs/lp", model_dir="", name="",
      data_root="data", optimizer="adam", niter=300, seed=1, epoch_size=600, image_width=64,
      channels=1, dataset="smmnist", n_past=5, n_future=10, n_eval=30, rnn_size=256,
      prior_rnn_layers=1, posterior_rnn_layers=1, predictor_rnn_layers=2, z_dim=10,
      g_dim=128, beta=0.0001, model="dcgan", data_threads=5, num_digits=2,
      last_frame_skip=False)
  for key, value in overrides.items():
    setattr(opt, key, value)
  return opt


def build(opt, nf=64, learned_prior=True, seed=0, modules=None):
  """The dict `train_svg_lp.py` saves (`train_svg_fp.py` without "prior"), randomised.

  Every tensor is random (fan-in scaled conv and linear weights, biases, batch-norm scale,
  shift and running statistics, LSTM weights), so a mapping that drops, swaps or
  misorients any tensor shows in the outputs.

  Args:
    opt: `make_opt()`'s namespace.
    nf: base width of the copies above.
    learned_prior: include "prior" (SVG-LP) or not (SVG-FP).
    seed: torch seed of the weights.
    modules: `{"dcgan_64": module, ..., "lstm": module}` of the authors' own code (a
      checkout of edenton/svg) to use instead of the copies; full width only.
  """
  width = {} if modules is not None else {"nf": nf}
  modules = modules or install()
  torch.manual_seed(seed)
  family = modules[f"{opt.model}_{opt.image_width}"]
  saved = {
      "encoder": family.encoder(opt.g_dim, opt.channels, **width),
      "decoder": family.decoder(opt.g_dim, opt.channels, **width),
      "frame_predictor": modules["lstm"].lstm(
          opt.g_dim + opt.z_dim, opt.g_dim, opt.rnn_size, opt.predictor_rnn_layers,
          opt.batch_size),
      "posterior": modules["lstm"].gaussian_lstm(
          opt.g_dim, opt.z_dim, opt.rnn_size, opt.posterior_rnn_layers, opt.batch_size),
  }
  if learned_prior:
    saved["prior"] = modules["lstm"].gaussian_lstm(
        opt.g_dim, opt.z_dim, opt.rnn_size, opt.prior_rnn_layers, opt.batch_size)
  with torch.no_grad():
    for module in saved.values():
      for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
          # Fan-in scaled, so activations stay O(1) at any width.
          fan_in = m.weight[0].numel() if not isinstance(m, nn.ConvTranspose2d) else \
              m.weight.shape[0] * m.weight[0, 0].numel() // (m.stride[0] * m.stride[1])
          m.weight.normal_(0.0, 1.0 / max(fan_in, 1) ** 0.5)
          m.bias.normal_(0.0, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
          m.weight.normal_(1.0, 0.1)
          m.bias.normal_(0.0, 0.1)
          m.running_mean.normal_(0.0, 0.1)
          m.running_var.uniform_(0.5, 1.5)
        elif isinstance(m, nn.LSTMCell):
          for p in m.parameters():
            p.uniform_(-0.5, 0.5)
  saved["opt"] = opt
  return saved


@torch.no_grad()
def reference_outputs(saved, frames, noise):
  """PyTorch outputs on fixed inputs, in eval mode (batch norm on running statistics).

  Args:
    saved: `build()`'s dict.
    frames: `(batch, time, H, W, C)` float32 numpy video in [0, 1].
    noise: `(batch, time - 1, z_dim)` N(0, 1) noise of the posterior samples.

  Returns:
    dict of numpy arrays: `h` (encoder output of every frame, `(B, T, g)`), `skip0` (the
    first skip, NHWC), `decoded` (decoder of `h` of every frame with its own skips, NHWC),
    `predictor` / `posterior_mean` / `posterior_log_variance` / `prior_mean` /
    `prior_log_variance` (LSTM outputs over the sequence), and `reconstruction` (SVG's
    posterior reconstruction of frames 2..T as `train_svg_lp.py` computes it, with the
    skip convention of `opt.last_frame_skip`).
  """
  opt = saved["opt"]
  for module in saved.values():
    if isinstance(module, nn.Module):
      module.eval()
  encoder, decoder = saved["encoder"], saved["decoder"]
  x = torch.from_numpy(frames).permute(0, 1, 4, 2, 3).contiguous()  # (B, T, C, H, W)
  batch, time = x.shape[:2]
  flat = x.reshape((batch * time,) + tuple(x.shape[2:]))
  h, skips = encoder(flat)
  decoded = decoder([h, skips])
  out = {"h": h.reshape(batch, time, -1).numpy(),
         "skip0": skips[0].permute(0, 2, 3, 1).reshape(
             (batch, time) + tuple(skips[0].permute(0, 2, 3, 1).shape[1:])).numpy(),
         "decoded": decoded.permute(0, 2, 3, 1).reshape(
             (batch, time) + tuple(decoded.permute(0, 2, 3, 1).shape[1:])).numpy()}
  h_seq = h.reshape(batch, time, -1)
  z_noise = torch.from_numpy(noise)

  def run(net, inputs):
    net.batch_size = batch
    net.hidden = net.init_hidden()
    return [net(inputs[:, t]) for t in range(inputs.shape[1])]

  posterior = run(saved["posterior"], h_seq[:, 1:])
  out["posterior_mean"] = torch.stack([p[1] for p in posterior], 1).numpy()
  out["posterior_log_variance"] = torch.stack([p[2] for p in posterior], 1).numpy()
  if "prior" in saved:
    prior = run(saved["prior"], h_seq[:, :-1])
    out["prior_mean"] = torch.stack([p[1] for p in prior], 1).numpy()
    out["prior_log_variance"] = torch.stack([p[2] for p in prior], 1).numpy()
  z = (torch.stack([p[1] for p in posterior], 1)
       + torch.exp(0.5 * torch.stack([p[2] for p in posterior], 1)) * z_noise)
  predictor = run(saved["frame_predictor"], torch.cat([h_seq[:, :-1], z], -1))
  out["predictor"] = torch.stack(predictor, 1).numpy()

  # train_svg_lp.py: frame i uses the skips of frame i-1 while i < n_past (or always with
  # --last_frame_skip), else the skip last assigned, i.e. frame n_past - 2's.
  frames_out = []
  skip = None
  for i in range(1, time):
    if opt.last_frame_skip or i < opt.n_past:
      skip = [s.reshape((batch, time) + tuple(s.shape[1:]))[:, i - 1] for s in skips]
    frames_out.append(decoder([predictor[i - 1], skip]))
  out["reconstruction"] = torch.stack(frames_out, 1).permute(0, 1, 3, 4, 2).numpy()
  return out
