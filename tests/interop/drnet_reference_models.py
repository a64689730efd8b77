"""The edenton/drnet-py model classes at any width, for the DrNET interop tests (needs torch).

Copies of edenton/drnet-py (commit 240cf6e, MIT licence, Emily Denton) `models/dcgan_64.py`,
`dcgan_128.py`, `dcgan_unet_64.py`, `dcgan_unet_128.py`, `vgg_unet_64.py`, `vgg_unet_128.py`,
`resnet_64.py`, `resnet_128.py`, `classifiers.py` and `lstm.py`: same class names, module
paths, attribute names and layer order, so a `torch.save` of them pickles exactly as the
authors' checkpoints do. Changes: the base width (64 in the reference, hard-coded) is an
argument `nf`, so tests can use narrow networks; the 64 and 128 variants of a file are one
class factory (the 128 ones add one stage); `lstm.init_hidden` makes CPU tensors (the
reference calls `.cuda()`); `Bottleneck` (unused by drnet-py's resnet18) is left out.

`install()` registers the modules as `models.dcgan_64` etc. in `sys.modules`, where
`torch.save` looks the classes up (replacing tests/interop/reference_models.py's SVG
modules of the same names: use one or the other in a process); `build(...)` makes the
dicts `train_drnet.py` and `train_lstm.py` save.
"""

import argparse
import sys
import types

import torch
from torch import nn

_NUM_DCGAN_BLOCKS = {64: 4, 128: 5}


def _dcgan_filters(image_width, nf):
  return [nf * min(2**i, 8) for i in range(_NUM_DCGAN_BLOCKS[image_width])]


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


def _own(cls):
  """A subclass of `cls` of the same name: each drnet-py file defines its own blocks."""
  return type(cls.__name__, (cls,), {})


def _dcgan_main(image_width, nc, dim, nf, conv_block):
  """dcgan_<w>.py's encoder `main`: dcgan_conv blocks, conv 4x4 valid -> BN -> tanh."""
  layers = []
  previous = nc
  for f in _dcgan_filters(image_width, nf):
    layers.append(conv_block(previous, f))
    previous = f
  layers += [nn.Conv2d(previous, dim, 4, 1, 0), nn.BatchNorm2d(dim), nn.Tanh()]
  return nn.Sequential(*layers)


def _make_dcgan(image_width):
  """models/dcgan_<w>.py: pose_encoder, content_encoder, decoder (no skips)."""
  conv_block, upconv_block = _own(dcgan_conv), _own(dcgan_upconv)

  class pose_encoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, pose_dim, nc=1, normalize=False, nf=64):
      super().__init__()
      self.normalize = normalize
      self.main = _dcgan_main(image_width, nc, pose_dim, nf, conv_block)

    def forward(self, x):
      output = self.main(x)
      return nn.functional.normalize(output, p=2) if self.normalize else output

  class content_encoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, content_dim, nc=1, nf=64):
      super().__init__()
      self.main = _dcgan_main(image_width, nc, content_dim, nf, conv_block)

    def forward(self, x):
      return self.main(x)

  class decoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, content_dim, pose_dim, nc=1, nf=64):
      super().__init__()
      filters = _dcgan_filters(image_width, nf)[::-1]
      layers = [nn.ConvTranspose2d(content_dim + pose_dim, filters[0], 4, 1, 0),
                nn.BatchNorm2d(filters[0]), nn.LeakyReLU(0.2, inplace=True)]
      layers += [upconv_block(a, b) for a, b in zip(filters[:-1], filters[1:])]
      layers += [nn.ConvTranspose2d(filters[-1], nc, 4, 2, 1), nn.Sigmoid()]
      self.main = nn.Sequential(*layers)

    def forward(self, x):
      content, pose = x
      return self.main(torch.cat([content, pose], 1))

  return dict(pose_encoder=pose_encoder, content_encoder=content_encoder, decoder=decoder,
              dcgan_conv=conv_block, dcgan_upconv=upconv_block)


def _make_dcgan_unet(image_width):
  """models/dcgan_unet_<w>.py: content_encoder (with skips), decoder (U-Net)."""
  n = _NUM_DCGAN_BLOCKS[image_width]
  conv_block, upconv_block = _own(dcgan_conv), _own(dcgan_upconv)

  class content_encoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, content_dim, nc=1, nf=64):
      super().__init__()
      previous = nc
      for i, f in enumerate(_dcgan_filters(image_width, nf)):
        setattr(self, f"c{i + 1}", conv_block(previous, f))
        previous = f
      setattr(self, f"c{n + 1}", nn.Sequential(
          nn.Conv2d(previous, content_dim, 4, 1, 0), nn.BatchNorm2d(content_dim), nn.Tanh()))

    def forward(self, x):
      skips = []
      for i in range(n):
        x = getattr(self, f"c{i + 1}")(x)
        skips.append(x)
      return getattr(self, f"c{n + 1}")(x), skips

  class decoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, content_dim, pose_dim, nc=1, nf=64):
      super().__init__()
      filters = _dcgan_filters(image_width, nf)[::-1]
      self.upc1 = nn.Sequential(nn.ConvTranspose2d(content_dim + pose_dim, filters[0], 4, 1, 0),
                                nn.BatchNorm2d(filters[0]), nn.LeakyReLU(0.2, inplace=True))
      for i in range(1, n):
        setattr(self, f"upc{i + 1}", upconv_block(filters[i - 1] * 2, filters[i]))
      setattr(self, f"upc{n + 1}", nn.Sequential(
          nn.ConvTranspose2d(filters[-1] * 2, nc, 4, 2, 1), nn.Sigmoid()))

    def forward(self, x):
      content, pose = x
      content, skip = content
      d = self.upc1(torch.cat([content, pose], 1))
      for i in range(1, n + 1):
        d = getattr(self, f"upc{i + 1}")(torch.cat([d, skip[n - i]], 1))
      return d

  return dict(content_encoder=content_encoder, decoder=decoder, dcgan_conv=conv_block,
              dcgan_upconv=upconv_block)


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


def _make_vgg_unet(image_width):
  """models/vgg_unet_<w>.py: content_encoder (with skips), decoder (U-Net)."""
  layer_block = _own(vgg_layer)

  class content_encoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, content_dim, nc=1, nf=64):
      super().__init__()
      blocks = _vgg_blocks(image_width, nf)
      self.n = len(blocks)
      previous = nc
      for i, (f, count) in enumerate(blocks):
        layers = []
        for _ in range(count):
          layers.append(layer_block(previous, f))
          previous = f
        setattr(self, f"c{i + 1}", nn.Sequential(*layers))
      setattr(self, f"c{self.n + 1}", nn.Sequential(
          nn.Conv2d(previous, content_dim, 4, 1, 0), nn.BatchNorm2d(content_dim), nn.Tanh()))
      self.mp = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)

    def forward(self, x):
      skips = []
      for i in range(self.n):
        x = getattr(self, f"c{i + 1}")(x if i == 0 else self.mp(x))
        skips.append(x)
      return getattr(self, f"c{self.n + 1}")(self.mp(x)), skips

  class decoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, content_dim, pose_dim, nc=1, nf=64):
      super().__init__()
      blocks = _vgg_blocks(image_width, nf)[::-1]
      self.n = len(blocks)
      self.upc1 = nn.Sequential(
          nn.ConvTranspose2d(content_dim + pose_dim, blocks[0][0], 4, 1, 0),
          nn.BatchNorm2d(blocks[0][0]), nn.LeakyReLU(0.2, inplace=True))
      for i, (f, count) in enumerate(blocks):
        last = i == self.n - 1
        layers = [layer_block(2 * f, f)]
        for j in range(1, count):
          layers.append(layer_block(f, blocks[i + 1][0] if j == count - 1 and not last else f))
        if last:
          layers = layers[:count - 1] + [nn.ConvTranspose2d(f, nc, 3, 1, 1), nn.Sigmoid()]
        setattr(self, f"upc{i + 2}", nn.Sequential(*layers))
      self.up = nn.UpsamplingNearest2d(scale_factor=2)

    def forward(self, x):
      content, pose = x
      content, skip = content
      d = self.upc1(torch.cat([content, pose], 1))
      for i in range(self.n):
        d = getattr(self, f"upc{i + 2}")(torch.cat([self.up(d), skip[self.n - 1 - i]], 1))
      return d

  return dict(content_encoder=content_encoder, decoder=decoder, vgg_layer=layer_block)


# ----------------------------------------------------------------------------- resnet


def conv3x3(in_planes, out_planes, stride=1):
  return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1)


class BasicBlock(nn.Module):
  expansion = 1

  def __init__(self, inplanes, planes, stride=1, downsample=None):
    super().__init__()
    self.conv1 = conv3x3(inplanes, planes, stride)
    self.bn1 = nn.BatchNorm2d(planes)
    self.relu = nn.ReLU(inplace=True)
    self.conv2 = conv3x3(planes, planes)
    self.bn2 = nn.BatchNorm2d(planes)
    self.downsample = downsample
    self.stride = stride

  def forward(self, x):
    residual = x
    out = self.relu(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    if self.downsample is not None:
      residual = self.downsample(x)
    out += residual
    return self.relu(out)


def _make_resnet(image_width):
  """models/resnet_<w>.py: pose_encoder wrapping resnet18 (128: a fifth, 1024-wide stage)."""
  num_stages = {64: 4, 128: 5}[image_width]
  block_class = _own(BasicBlock)

  class resnet18(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, pose_dim, nc=3, nf=64):
      super().__init__()
      self.inplanes = nf
      self.conv1 = nn.Conv2d(nc, nf, kernel_size=5, stride=2, padding=3)
      self.bn1 = nn.BatchNorm2d(nf)
      self.relu = nn.ReLU(inplace=True)
      self.tanh = nn.Tanh()
      self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
      for s in range(num_stages):
        setattr(self, f"layer{s + 1}",
                self._make_layer(block_class, nf * 2**s, 2, stride=1 if s == 0 else 2))
      self.conv_out = nn.Conv2d(nf * 2**(num_stages - 1), pose_dim, kernel_size=3)
      self.bn_out = nn.BatchNorm2d(pose_dim)

    def _make_layer(self, block, planes, blocks, stride=1):
      downsample = None
      if stride != 1 or self.inplanes != planes * block.expansion:
        downsample = nn.Sequential(
            nn.Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride),
            nn.BatchNorm2d(planes * block.expansion))
      layers = [block(self.inplanes, planes, stride, downsample)]
      self.inplanes = planes * block.expansion
      for _ in range(1, blocks):
        layers.append(block(self.inplanes, planes))
      return nn.Sequential(*layers)

    def forward(self, x):
      x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
      for s in range(num_stages):
        x = getattr(self, f"layer{s + 1}")(x)
      return self.tanh(self.bn_out(self.conv_out(x)))

  class pose_encoder(nn.Module):  # pylint: disable=invalid-name

    def __init__(self, pose_dim, nc=1, normalize=False, nf=64):
      super().__init__()
      self.main = resnet18(pose_dim, nc, nf)
      self.normalize = normalize

    def forward(self, x):
      output = self.main(x)
      return nn.functional.normalize(output, p=2) if self.normalize else output

  return dict(pose_encoder=pose_encoder, resnet18=resnet18, BasicBlock=block_class)


# ----------------------------------------------------------------------------- C, lstm


class scene_discriminator(nn.Module):  # pylint: disable=invalid-name

  def __init__(self, pose_dim, nf=512):
    super().__init__()
    self.pose_dim = pose_dim
    self.main = nn.Sequential(nn.Linear(pose_dim * 2, nf), nn.ReLU(True), nn.Linear(nf, nf),
                              nn.ReLU(True), nn.Linear(nf, 1), nn.Sigmoid())

  def forward(self, x):
    return self.main(torch.cat(x, 1).view(-1, self.pose_dim * 2))


class lstm(nn.Module):  # pylint: disable=invalid-name

  def __init__(self, input_size, output_size, hidden_size, n_layers, batch_size,
               normalize=False):
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
    self.normalize = normalize

  def init_hidden(self):
    return [(torch.zeros(self.batch_size, self.hidden_size),
             torch.zeros(self.batch_size, self.hidden_size)) for _ in range(self.n_layers)]

  def forward(self, x):
    h_in = self.embed(x.view(-1, self.input_size))
    for i in range(self.n_layers):
      self.hidden[i] = self.lstm[i](h_in, self.hidden[i])
      h_in = self.hidden[i][0]
    output = self.output(h_in)
    return nn.functional.normalize(output, p=2) if self.normalize else output


# ----------------------------------------------------------------------------- registry

MODULES = {}


def install():
  """Registers `models`, `models.dcgan_64`, ... in `sys.modules` (drnet-py's classes)."""
  if MODULES:
    return MODULES
  package = types.ModuleType("models")
  package.__path__ = []
  sys.modules["models"] = package
  definitions = {"classifiers": dict(scene_discriminator=scene_discriminator),
                 "lstm": dict(lstm=lstm)}
  for width in (64, 128):
    definitions[f"dcgan_{width}"] = _make_dcgan(width)
    definitions[f"dcgan_unet_{width}"] = _make_dcgan_unet(width)
    definitions[f"vgg_unet_{width}"] = _make_vgg_unet(width)
    definitions[f"resnet_{width}"] = _make_resnet(width)
  for name, classes in definitions.items():
    module = types.ModuleType(f"models.{name}")
    for class_name, cls in classes.items():
      cls.__module__ = module.__name__
      cls.__qualname__ = class_name
      setattr(module, class_name, cls)
    sys.modules[module.__name__] = module
    setattr(package, name, module)
    MODULES[name] = module
  return MODULES


def make_opt(**overrides):
  """An `argparse.Namespace` as drnet-py `train_drnet.py` saves it (its defaults)."""
  opt = argparse.Namespace(
      lr=0.002, beta1=0.5, batch_size=100, log_dir="logs", data_root="", optimizer="adam",
      niter=200, seed=1, epoch_size=600, content_dim=128, pose_dim=10, image_width=64,
      channels=3, dataset="moving_mnist", max_step=20, sd_weight=0.0001, sd_nf=100,
      content_model="dcgan_unet", pose_model="dcgan", data_threads=5, normalize=False,
      data_type="drnet")
  for key, value in overrides.items():
    setattr(opt, key, value)
  return opt


def make_lstm_opt(drnet_opt, **overrides):
  """An `argparse.Namespace` as drnet-py `train_lstm.py` saves it, on `drnet_opt`'s run."""
  opt = argparse.Namespace(
      lr=0.0002, beta1=0.9, batch_size=100, model_path="logs/drnet", data_root="",
      optimizer="adam", niter=200, seed=1, epoch_size=600, image_width=64, channels=3,
      data="moving_mnist", n_past=10, n_future=10, rnn_size=256, rnn_layers=2,
      normalize=False, data_threads=5, data_type="sequence")
  for key, value in overrides.items():
    setattr(opt, key, value)
  opt.log_dir = f"{opt.model_path}/lstm/name"
  opt.max_step = opt.n_past + opt.n_future
  # Copied from the DrNET run's opt (train_lstm.py l.57-61).
  opt.pose_dim, opt.content_dim = drnet_opt.pose_dim, drnet_opt.content_dim
  opt.image_width, opt.dataset = drnet_opt.image_width, drnet_opt.dataset
  opt.data_root = drnet_opt.data_root
  return opt


def _randomise(modules, seed):
  """Random weights, biases, batch-norm scales, shifts and running statistics."""
  torch.manual_seed(seed)
  with torch.no_grad():
    for module in modules:
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


def build(opt, nf=64, with_scene_discriminator=False, seed=0):
  """The dict `train_drnet.py` saves (plus "netC" if asked), randomised.

  Every tensor is random, so a mapping that drops, swaps or misorients one shows in the
  outputs.
  """
  modules = install()
  width = opt.image_width
  codec = modules[f"{opt.content_model}_{width}"]
  pose = modules[f"{opt.pose_model}_{width}"]
  saved = {
      "netD": codec.decoder(opt.content_dim, opt.pose_dim, opt.channels, nf=nf),
      "netEP": pose.pose_encoder(opt.pose_dim, opt.channels, normalize=opt.normalize, nf=nf),
      "netEC": codec.content_encoder(opt.content_dim, opt.channels, nf=nf),
  }
  if with_scene_discriminator:
    saved["netC"] = modules["classifiers"].scene_discriminator(opt.pose_dim, opt.sd_nf)
  _randomise(saved.values(), seed)
  saved["opt"] = opt
  return saved


def build_lstm(opt, seed=1):
  """The dict `train_lstm.py` saves, randomised."""
  modules = install()
  net = modules["lstm"].lstm(opt.pose_dim + opt.content_dim, opt.pose_dim, opt.rnn_size,
                             opt.rnn_layers, opt.batch_size, opt.normalize)
  _randomise([net], seed)
  return {"lstm": net, "opt": opt}


def _nhwc(x):
  return x.permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def reference_outputs(saved, frames, lstm_saved=None):
  """PyTorch outputs on fixed inputs, in eval mode (batch norm on running statistics).

  Args:
    saved: `build()`'s dict.
    frames: `(batch, time, H, W, C)` float32 numpy video in [0, 1], time >= 2.
    lstm_saved: `build_lstm()`'s dict, or None.

  Returns:
    dict of numpy arrays: `content` (E_c of frame 0, `(B, content_dim)`), `pose` (E_p of
    every frame, `(B, T, pose_dim)`), `reconstruction` (D(E_c(frame 0) with its skips,
    E_p(frame t)) for every t, `(B, T, H, W, C)`); with netC `scene_logits` (C's logit,
    before its sigmoid, on the pairs (E_p(frame 0), E_p(frame t)), `(B, T)`); with an LSTM
    `lstm_poses` (the teacher-forced predictions of poses 1..T-1 with the content of frame
    n_past - 1, `(B, T - 1, pose_dim)`) and `predicted` (drnet-py's `plot_gen` rollout
    from the first n_past frames, the pose reshaped to 4-D, `(B, T - n_past, H, W, C)`).
  """
  opt = saved["opt"]
  for value in list(saved.values()) + list((lstm_saved or {}).values()):
    if isinstance(value, nn.Module):
      value.eval()
  net_ec, net_ep, net_d = saved["netEC"], saved["netEP"], saved["netD"]
  unet = opt.content_model.endswith("unet")
  x = torch.from_numpy(frames).permute(0, 1, 4, 2, 3).contiguous()  # (B, T, C, H, W)
  batch, time = x.shape[:2]
  h_c = net_ec(x[:, 0])  # (h (B, C, 1, 1), skips) for the U-Nets
  content = h_c[0] if unet else h_c
  poses = [net_ep(x[:, t]) for t in range(time)]  # (B, P, 1, 1) each
  out = {"content": content.reshape(batch, -1).numpy(),
         "pose": torch.stack([p.reshape(batch, -1) for p in poses], 1).numpy(),
         "reconstruction": torch.stack(
             [torch.from_numpy(_nhwc(net_d([h_c, p]))) for p in poses], 1).numpy()}
  if "netC" in saved:
    logits = saved["netC"].main[:-1]  # Without the final sigmoid.
    out["scene_logits"] = torch.stack(
        [logits(torch.cat([poses[0], p], 1).view(batch, -1))[:, 0] for p in poses], 1).numpy()
  if lstm_saved is not None:
    lstm_net, lstm_opt = lstm_saved["lstm"], lstm_saved["opt"]
    n_past = lstm_opt.n_past
    h_c = net_ec(x[:, n_past - 1])
    content = (h_c[0] if unet else h_c).reshape(batch, -1)
    pose_vectors = [p.reshape(batch, -1) for p in poses]
    lstm_net.batch_size = batch
    lstm_net.hidden = lstm_net.init_hidden()
    out["lstm_poses"] = torch.stack(
        [lstm_net(torch.cat([pose_vectors[t - 1], content], 1)) for t in range(1, time)],
        1).numpy()
    # plot_gen: teacher-forced over the context, then the own predictions fed back.
    lstm_net.hidden = lstm_net.init_hidden()
    for i in range(1, n_past):
      lstm_net(torch.cat([pose_vectors[i - 1], content], 1))
    pose = pose_vectors[n_past - 1]
    predicted = []
    for _ in range(n_past, time):
      pose = lstm_net(torch.cat([pose, content], 1))
      predicted.append(torch.from_numpy(_nhwc(net_d([h_c, pose.view(batch, -1, 1, 1)]))))
    out["predicted"] = torch.stack(predicted, 1).numpy()
  return out
