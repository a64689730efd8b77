r"""Training throughput of a tfgen model, optionally against the official PyTorch code.

    python benchmarks/train_throughput.py --model=svg_lp --dataset=smmnist --batch_size=16 \
        [--precision=mixed_bfloat16|auto] [--jit_compile=config|auto|true|false] \
        [--warmup_steps=2 --steps=4 --repeats=3] \
        [--reference_dir=/path/to/edenton/svg --reference_threads=2] [--quick]
    python benchmarks/train_throughput.py --model=drnet --dataset=mnist --batch_size=16 \
        [--reference_dir=/path/to/edenton/drnet-py --reference_threads=2] [...]

`--model` is svg_lp, svg_fp, svg_det or drnet, `--dataset` any data set with a
`configs/<model>_<dataset>.py` (drnet: mnist so far).

tfgen side: the config comes from `config_loader.load(model, dataset)` with the batch
size, precision and XLA flag overridden; the model, optimiser and step counter are built
by `Trainer._build` under the precision policy, the data come from the trainer's own
`tf.data` pipeline (`Trainer._dataset`, through `experimental_distribute_dataset`), and
the timed step is the trainer's: one `tf.function` running the (XLA-compiled when
`jit_compile` resolves to true: the config's value by default; "auto" is XLA except on
AVX-512 CPUs) `model.train_step` (DrNET: the scene discriminator's step then the main step),
bumping `examples_seen` and returning the metrics, which are read back to Python every
step as the trainer does. Data fetch is included.

SVG reference side (`--reference_dir`, a checkout of edenton/svg): the official modules are
imported from that directory (`models.lstm`, `models.dcgan_64`; nothing of them is part of
tfgen) and timed in a reproduction of `train()` of `train_svg_lp.py` (or `train_svg_fp.py`
for `--model=svg_fp`): per-frame encoder calls on x[i-1] and x[i], posterior, prior and
frame predictor stepped once per frame, MSE + beta * KL, backward, one Adam step per
module, in float32 on the CPU with `torch.set_num_threads(--reference_threads)`. The
reference was written for PyTorch 0.3 on CUDA; at run time only, `.cuda()` of tensors and
modules is made a no-op (`Variable` still works as an identity wrapper). PyTorch must be
installed (`pip install torch`); it is imported before TensorFlow (PyTorch 2.14's
`torch._dynamo` segfaults when loaded after TensorFlow). Its input batches
come from the same tfgen pipeline, converted to the reference's layout (a list over time of
`(batch, channels, 64, 64)` tensors) before timing, so its data fetch costs it nothing
(the official DataLoader prepares batches in 5 worker processes). The reference's modules
are checked to have the same parameter counts as tfgen's reference-equivalent counts
(Keras LSTM cells have one bias vector where PyTorch's have two: 4 * rnn_size fewer
parameters per cell). The two sides alternate repeat by repeat with the same step counts.

DrNET (`--model=drnet`, `--reference_dir` a checkout of edenton/drnet-py):
`DrNetReferenceStep` imports drnet-py's networks for the config's architecture
(`models.dcgan_64` for the thesis MNIST model, `models.classifiers.scene_discriminator`),
builds them with the config's sizes, drnet-py's init and its four Adam optimisers, and runs
one iteration of `train_drnet.py`: `train_scene_discriminator(x)` then `train(x)`, `x` the
four frames of the trainer's own stream (its frame sampling) as `(B, C, H, W)` tensors,
`--sd_weight` = the config's beta. The config's `normalize_content` (the thesis MNIST model;
drnet-py normalises only the pose, with `--normalize`) is an `F.normalize` of the content
encoder's output on the reference side. Parameter counts must be equal on both sides.

Prints first the machine (CPU model, cores, flags, oneDNN) and its measured float32 and
bfloat16 matmul peaks (`tfgen.utils.machine`, as `benchmarks/peak_flops.py`); then each
repeat, the median seconds per step, each side's FLOPs per step (tfgen: TensorFlow's
profiler on the step's graph; reference: `torch.utils.flop_counter` over one step), the
FLOP/s reached and its fraction of the peak of the compute dtype, the load average before
and after timing (the cores may be shared), `tfgen_sequences_per_second=`, with a
reference also `reference_sequences_per_second=` and `speedup=`, and, as the LAST line,
`sequences_per_second=<float>` (tfgen's median).
"""

import contextlib
import importlib
import os
import sys
import tempfile
import time

from absl import app
from absl import flags

MODELS = ("svg_lp", "svg_fp", "svg_det", "drnet")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")


def define_flags():
  """Defines the benchmark's flags (only when run as a script, so tests can import it)."""
  flags.DEFINE_enum("model", "svg_lp", MODELS, "Model config to benchmark.")
  flags.DEFINE_string("dataset", "smmnist",
                      "Data set of the config (configs/<model>_<dataset>.py must exist).")
  flags.DEFINE_integer("batch_size", 16, "Global batch size.")
  flags.DEFINE_enum("precision", "float32", PRECISIONS, "Keras mixed-precision policy.")
  flags.DEFINE_enum("jit_compile", "config", ["config", "auto", "true", "false"],
                    "XLA-compile the training step (config.train.jit_compile); config: the "
                    "config's own value, as the trainer runs it; auto: as the trainer "
                    "chooses for 'auto' (tfgen.utils.machine.resolve_jit_compile).")
  flags.DEFINE_integer("warmup_steps", 2, "Untimed steps per side before timing.")
  flags.DEFINE_integer("steps", 4, "Timed steps per repeat.")
  flags.DEFINE_integer("repeats", 3, "Timed repeats per side; medians are reported.")
  flags.DEFINE_string("reference_dir", None,
                      "A checkout of edenton/svg (SVG models) or edenton/drnet-py (drnet): "
                      "also time the official PyTorch code.")
  flags.DEFINE_integer("reference_threads", None,
                       "torch.set_num_threads for the reference; default: all cores.")
  flags.DEFINE_bool("quick", False, "Use the config's quick variant (narrow networks).")
  flags.DEFINE_integer("peak_size", 2048, "Matrix size of the peak-FLOP/s measurement.")


# ------------------------------------------------------------------------------ tfgen


def load_config(model, dataset, batch_size, precision, jit_compile, quick=False):
  """The config the trainer would run, with the benchmark's overrides.

  `jit_compile` "config" (or None) keeps the config's own value.
  """
  from tfgen.utils import config_loader
  config = config_loader.load(model, dataset, "quick" if quick else None)
  config.train.batch_size = batch_size
  config.train.precision = precision
  if jit_compile is not None and str(jit_compile) != "config":
    config.train.jit_compile = jit_compile
  return config


class TfgenStep:
  """The trainer's model, optimiser, data stream and training step, built like `Trainer`.

  Must be built and run under the config's precision policy (see `precision_policy`).
  """

  def __init__(self, config, workdir):
    import tensorflow as tf
    from tfgen.train import trainer as trainer_lib
    from tfgen.utils import machine
    self.config = config
    self.trainer = trainer_lib.Trainer(config, workdir=workdir)
    strategy = self.trainer.strategy
    model, optimizer, examples_seen = self.trainer._build()  # pylint: disable=protected-access
    self.model, self.optimizer = model, optimizer
    self.summary = trainer_lib.parameter_summary(model)
    train = config.train
    dataset = self.trainer._dataset("train", train.batch_size)  # pylint: disable=protected-access
    self.iterator = iter(strategy.experimental_distribute_dataset(dataset))

    compiled_step = tf.function(model.train_step, jit_compile=True)
    jit_compile, self.jit_reason = machine.resolve_jit_compile(train.jit_compile)

    @tf.function
    def distributed_step(batch):
      # The same step as `Trainer._train`'s `distributed_step`.
      if jit_compile and strategy.num_replicas_in_sync == 1:
        compiled_step(batch)
      else:
        strategy.run(model.train_step, args=(batch,))
      examples_seen.assign_add(train.batch_size)
      return {m.name: m.result() for m in model.metrics}

    self._step = distributed_step
    self._batch_spec = dataset.element_spec

  def flops_per_step(self):
    """Nominal FLOPs of one training step (the graph of `train_step`, before XLA)."""
    import tensorflow as tf
    from tfgen.utils import machine
    return machine.graph_flops(
        tf.function(self.model.train_step).get_concrete_function(self._batch_spec))

  def run(self, steps):
    """Runs `steps` training steps (data fetch included); returns the last metrics."""
    metrics = {}
    for _ in range(steps):
      metrics = {k: float(v) for k, v in self._step(next(self.iterator)).items()}
    return metrics


@contextlib.contextmanager
def precision_policy(name):
  """Sets the Keras global dtype policy for the block, as `Trainer.train` does."""
  import keras
  previous = keras.mixed_precision.global_policy()
  keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    keras.mixed_precision.set_global_policy(previous)


# ------------------------------------------------------------------------------ reference


@contextlib.contextmanager
def _reference_on_cpu(torch):
  """Runtime-only patches that let the PyTorch 0.3 / CUDA reference run on a modern CPU torch."""
  saved = (torch.Tensor.cuda, torch.nn.Module.cuda)
  torch.Tensor.cuda = lambda self, *args, **kwargs: self
  torch.nn.Module.cuda = lambda self, *args, **kwargs: self
  try:
    yield
  finally:
    torch.Tensor.cuda, torch.nn.Module.cuda = saved


def _import_reference(reference_dir, names, repository):
  """Imports `names` (modules such as "models.dcgan_64") from a checkout of `repository`.

  Any `models` package imported before (edenton/svg's and drnet-py's have the same name) is
  dropped from `sys.modules` first. Returns the modules in the order of `names`.
  """
  reference_dir = os.path.abspath(reference_dir)
  for name in names:
    path = name.replace(".", "/") + ".py"
    if not os.path.isfile(os.path.join(reference_dir, path)):
      raise FileNotFoundError(f"--reference_dir {reference_dir} has no {path}: expected a "
                              f"checkout of {repository}.")
  for name in list(sys.modules):
    if name == "models" or name.startswith("models."):
      del sys.modules[name]
  sys.path.insert(0, reference_dir)
  try:
    return [importlib.import_module(name) for name in names]
  finally:
    sys.path.remove(reference_dir)


def _init_weights(module):
  """The reference's `utils.init_weights`: N(0, 0.02) convs/linears, N(1, 0.02) norms."""
  name = type(module).__name__
  if "Conv" in name or "Linear" in name:
    module.weight.data.normal_(0.0, 0.02)
    module.bias.data.fill_(0)
  elif "BatchNorm" in name:
    module.weight.data.normal_(1.0, 0.02)
    module.bias.data.fill_(0)


class _ReferenceSteps:
  """What both reference reproductions share: cycling through the converted batches, and
  the FLOP count of one iteration. Subclasses define `_iteration(x) -> metrics`."""

  def flops_per_step(self):
    """FLOPs of one reference iteration, counted by `torch.utils.flop_counter`."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
      self.run(1)
    return int(counter.get_total_flops())

  def run(self, steps):
    metrics = {}
    for _ in range(steps):
      x = self.batches[self._next % len(self.batches)]
      self._next += 1
      metrics = self._iteration(x)
    return metrics


class ReferenceStep(_ReferenceSteps):
  """The official SVG modules and a reproduction of `train()` of `train_svg_{lp,fp}.py`."""

  repository = "edenton/svg"

  def __init__(self, reference_dir, config, batches, threads=None):
    m = config.model
    if config.model_name not in ("svg_lp", "svg_fp"):
      raise ValueError(f"The reference has no training script for {config.model_name}; "
                       "--reference_dir works with svg_lp and svg_fp.")
    if m.architecture != "dcgan" or m.image_size != 64 or m.base_filters != 64:
      raise ValueError("The reference's models.dcgan_64 is DCGAN at 64x64 with 64 base "
                       f"filters; this config has {m.architecture}, {m.image_size}, "
                       f"{m.base_filters} (drop --quick).")
    import torch  # Only the reference needs it.
    self.torch = torch
    torch.set_num_threads(threads or os.cpu_count())
    self.learned_prior = config.model_name == "svg_lp"
    self.num_frames = m.num_context_frames + m.num_future_frames
    self.num_past = m.num_context_frames
    self.beta = m.beta
    self.batch_size = config.train.batch_size
    lstm, dcgan_64 = _import_reference(reference_dir, ("models.lstm", "models.dcgan_64"),
                                       "edenton/svg")
    torch.manual_seed(config.train.seed)
    with _reference_on_cpu(torch):
      self.modules = {
          "encoder": dcgan_64.encoder(m.g_dim, m.channels),
          "decoder": dcgan_64.decoder(m.g_dim, m.channels),
          "frame_predictor": lstm.lstm(m.g_dim + m.z_dim, m.g_dim, m.rnn_size,
                                       m.predictor_layers, self.batch_size),
          "posterior": lstm.gaussian_lstm(m.g_dim, m.z_dim, m.rnn_size, m.posterior_layers,
                                          self.batch_size),
      }
      if self.learned_prior:
        self.modules["prior"] = lstm.gaussian_lstm(m.g_dim, m.z_dim, m.rnn_size,
                                                   m.prior_layers, self.batch_size)
    train = config.train
    self.optimizers = []
    for module in self.modules.values():
      module.apply(_init_weights)
      module.train()
      self.optimizers.append(torch.optim.Adam(module.parameters(), lr=train.learning_rate,
                                              betas=(train.beta1, train.beta2)))
    self.mse_criterion = torch.nn.MSELoss()
    # (B, T, H, W, C) numpy -> the reference's list over time of (B, C, H, W) tensors.
    self.batches = _to_reference_layout(torch, batches)
    self._next = 0

  def parameter_counts(self):
    return {name: sum(p.numel() for p in module.parameters())
            for name, module in self.modules.items()}

  def _kl(self, mu1, logvar1, mu2, logvar2):
    torch = self.torch
    if mu2 is None:  # train_svg_fp.py: KL against N(0, I).
      return -0.5 * torch.sum(1 + logvar1 - mu1.pow(2) - logvar1.exp()) / self.batch_size
    sigma1 = logvar1.mul(0.5).exp()
    sigma2 = logvar2.mul(0.5).exp()
    kld = (torch.log(sigma2 / sigma1) +
           (torch.exp(logvar1) + (mu1 - mu2) ** 2) / (2 * torch.exp(logvar2)) - 1 / 2)
    return kld.sum() / self.batch_size

  def _train(self, x):
    """`train(x)` of the official script (default flags: no `--last_frame_skip`)."""
    torch, mods = self.torch, self.modules
    encoder, decoder = mods["encoder"], mods["decoder"]
    frame_predictor, posterior = mods["frame_predictor"], mods["posterior"]
    prior = mods.get("prior")
    for module in mods.values():
      module.zero_grad()
    with _reference_on_cpu(torch):
      frame_predictor.hidden = frame_predictor.init_hidden()
      posterior.hidden = posterior.init_hidden()
      if prior is not None:
        prior.hidden = prior.init_hidden()
    mse, kld = 0, 0
    for i in range(1, self.num_frames):
      h = encoder(x[i - 1])
      h_target = encoder(x[i])[0]
      if i < self.num_past:
        h, skip = h
      else:
        h = h[0]
      z_t, mu, logvar = posterior(h_target)
      mu_p = logvar_p = None
      if prior is not None:
        _, mu_p, logvar_p = prior(h)
      h_pred = frame_predictor(torch.cat([h, z_t], 1))
      x_pred = decoder([h_pred, skip])
      mse = mse + self.mse_criterion(x_pred, x[i])
      kld = kld + self._kl(mu, logvar, mu_p, logvar_p)
    loss = mse + kld * self.beta
    loss.backward()
    for optimizer in self.optimizers:
      optimizer.step()
    return {"mse": mse.item() / self.num_frames, "kl": kld.item() / self.num_frames}

  def _iteration(self, x):
    return self._train(x)


class DrNetReferenceStep(_ReferenceSteps):
  """drnet-py's networks and a reproduction of one iteration of `train_drnet.py`.

  One iteration is `train_scene_discriminator(x)` then `train(x)` (DRNET_FACTS §4), `x` a
  list of four `(B, C, H, W)` frames (x[0..3]; tfgen's `FRAME_KEYS` order is the same):
  - C step: E_p of x[0] and x[1], detached; the first half of the second poses permuted
    within itself (`torch.randperm`); targets 1 for that half, 0 for the rest (drnet-py's
    labels: a symmetric relabelling of the thesis's, which tfgen's config uses; same cost);
    BCE (mean), backward, C's Adam step.
  - main step: h_c1 = E_c(x[0]), h_c2 = E_c(x[1]) detached, h_p1 = E_p(x[2]),
    h_p2 = E_p(x[3]) detached; sim = MSE(h_c1, h_c2), rec = MSE(D([h_c1, h_p1]), x[2]),
    sd = BCE(C([h_p1, h_p2]), 0.5); loss = rec + alpha * sim + beta * sd (drnet-py:
    alpha 1, `--sd_weight` = the config's beta); backward; Adam steps of E_c, E_p and D.
  Networks as `train_drnet.py` builds them for the config's sizes and architectures
  (`models.{dcgan,dcgan_unet,vgg_unet}_{64,128}`, `models.{dcgan,resnet}_{64,128}`
  pose encoders, `models.classifiers.scene_discriminator(pose_dim, sd_nf)`), drnet-py's
  `utils.init_weights`, four Adam optimisers (lr, betas (beta1, beta2) of the config: drnet-py's
  0.002, (0.5, 0.999)), train mode. Normalisation follows the config: `normalize_pose` is
  drnet-py's `--normalize` (in its pose encoder); `normalize_content` (the thesis's MNIST
  model; drnet-py has no such option) is applied here as `F.normalize(h_c, p=2)` on the
  content encoder's output, as tfgen's DrNet does.
  """

  repository = "edenton/drnet-py"
  _CONTENT_MODULES = {"dcgan": "dcgan", "dcgan_unet": "dcgan_unet", "vgg_unet": "vgg_unet"}
  _POSE_MODULES = {"dcgan": "dcgan", "resnet": "resnet"}

  def __init__(self, reference_dir, config, batches, threads=None):
    m = config.model
    if config.model_name != "drnet":
      raise ValueError(f"DrNetReferenceStep is for DrNET configs, not {config.model_name}.")
    if m.image_size not in (64, 128) or m.base_filters != 64:
      raise ValueError("drnet-py's networks are 64x64 or 128x128 with 64 base filters; this "
                       f"config has {m.image_size}, {m.base_filters} (drop --quick).")
    if m.content_encoder not in self._CONTENT_MODULES or m.pose_encoder not in self._POSE_MODULES:
      raise ValueError(f"drnet-py has no {m.content_encoder} content / {m.pose_encoder} pose "
                       "encoder.")
    if m.get("fold_frames", False):
      raise ValueError("fold_frames=True pools batch norm over two frames; drnet-py calls "
                       "each network per frame. Benchmark with fold_frames=False.")
    import torch  # Only the reference needs it.
    self.torch = torch
    torch.set_num_threads(threads or os.cpu_count())
    self.unet = m.content_encoder.endswith("unet")
    self.normalize_content = bool(m.normalize_content)
    self.alpha, self.beta = float(m.alpha), float(m.beta)
    self.batch_size = config.train.batch_size
    size = m.image_size
    content_name = f"models.{self._CONTENT_MODULES[m.content_encoder]}_{size}"
    pose_name = f"models.{self._POSE_MODULES[m.pose_encoder]}_{size}"
    names = list(dict.fromkeys([content_name, pose_name, "models.classifiers"]))
    modules = dict(zip(names, _import_reference(reference_dir, names, self.repository)))
    content_models, pose_models = modules[content_name], modules[pose_name]
    torch.manual_seed(config.train.seed)
    with _reference_on_cpu(torch):
      # train_drnet.py's construction, keyed like tfgen's `DrNet.submodules_by_name()`.
      self.modules = {
          "content_encoder": content_models.content_encoder(m.content_dim, m.channels),
          "pose_encoder": pose_models.pose_encoder(m.pose_dim, m.channels,
                                                   normalize=bool(m.normalize_pose)),
          "decoder": content_models.decoder(m.content_dim, m.pose_dim, m.channels),
          "scene_discriminator": modules["models.classifiers"].scene_discriminator(
              m.pose_dim, m.sd_nf),
      }
    train = config.train
    self.optimizers = {}
    for name, module in self.modules.items():
      module.apply(_init_weights)
      module.train()
      self.optimizers[name] = torch.optim.Adam(module.parameters(), lr=train.learning_rate,
                                               betas=(train.beta1, train.beta2))
    self.mse_criterion = torch.nn.MSELoss()
    self.bce_criterion = torch.nn.BCELoss()
    self.batches = _to_reference_layout(torch, batches)
    self._next = 0

  def parameter_counts(self):
    return {name: sum(p.numel() for p in module.parameters())
            for name, module in self.modules.items()}

  def _content(self, x):
    """E_c(x): `h_c` or `(h_c, skips)` (U-Net), `h_c` L2-normalised if the config says so."""
    output = self.modules["content_encoder"](x)
    if not self.normalize_content:
      return output
    normalize = self.torch.nn.functional.normalize
    if self.unet:
      return normalize(output[0], p=2), output[1]
    return normalize(output, p=2)

  def _train_scene_discriminator(self, x):
    """`train_scene_discriminator(x)` of train_drnet.py."""
    torch = self.torch
    net_ep, net_c = self.modules["pose_encoder"], self.modules["scene_discriminator"]
    net_c.zero_grad()
    target = torch.empty(self.batch_size, 1)
    h_p1 = net_ep(x[0]).detach()
    h_p2 = net_ep(x[1]).detach()
    half = int(self.batch_size / 2)
    rp = torch.randperm(half)
    h_p2[:half] = h_p2[rp]
    target[:half] = 1
    target[half:] = 0
    out = net_c([h_p1, h_p2])
    bce = self.bce_criterion(out, target)
    bce.backward()
    self.optimizers["scene_discriminator"].step()
    acc = out[:half].gt(0.5).sum() + out[half:].le(0.5).sum()
    return bce.item(), acc.item() / self.batch_size

  def _train(self, x):
    """`train(x)` of train_drnet.py, with the config's alpha, beta (`--sd_weight`)."""
    torch, mods = self.torch, self.modules
    for name in ("pose_encoder", "content_encoder", "decoder"):
      mods[name].zero_grad()
    x_c1, x_c2, x_p1, x_p2 = x[0], x[1], x[2], x[3]
    h_c1 = self._content(x_c1)
    h_c2 = self._content(x_c2)[0].detach() if self.unet else self._content(x_c2).detach()
    h_p1 = mods["pose_encoder"](x_p1)
    h_p2 = mods["pose_encoder"](x_p2).detach()
    sim_loss = self.mse_criterion(h_c1[0] if self.unet else h_c1, h_c2)
    rec = mods["decoder"]([h_c1, h_p1])
    rec_loss = self.mse_criterion(rec, x_p1)
    target = torch.full((self.batch_size, 1), 0.5)
    out = mods["scene_discriminator"]([h_p1, h_p2])
    sd_loss = self.bce_criterion(out, target)
    # drnet-py: sim_loss + rec_loss + opt.sd_weight * sd_loss (alpha is 1 there).
    alpha_sim = sim_loss if self.alpha == 1.0 else self.alpha * sim_loss
    loss = alpha_sim + rec_loss + self.beta * sd_loss
    loss.backward()
    for name in ("content_encoder", "pose_encoder", "decoder"):
      self.optimizers[name].step()
    return sim_loss.item(), rec_loss.item()

  def _iteration(self, x):
    with _reference_on_cpu(self.torch):
      sd_loss, sd_acc = self._train_scene_discriminator(x)
      sim_loss, rec_loss = self._train(x)
    return {"sd_loss": sd_loss, "sd_acc": sd_acc, "sim_loss": sim_loss, "rec_loss": rec_loss}


# The reference step of each model family (`config.model.name`).
REFERENCE_STEPS = {"svg": ReferenceStep, "drnet": DrNetReferenceStep}


def _to_reference_layout(torch, batches):
  """(B, T, H, W, C) numpy batches -> lists over time of (B, C, H, W) float32 tensors."""
  return [[torch.from_numpy(b[:, t].transpose(0, 3, 1, 2).copy())
           for t in range(b.shape[1])] for b in batches]


# ------------------------------------------------------------------------------ timing


def _load_average():
  """The 1-, 5- and 15-minute load averages (other tenants share the cores)."""
  try:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())
  except OSError:
    return "unknown"


def _time(step, steps):
  start = time.perf_counter()
  step.run(steps)
  return (time.perf_counter() - start) / steps


def run(model="svg_lp", dataset="smmnist", batch_size=16, precision="float32",
        jit_compile="config", warmup_steps=2, steps=4, repeats=3, reference_dir=None,
        reference_threads=None, quick=False, peak_size=2048, out=print):
  """Runs the benchmark, printing with `out`; returns {"tfgen": seq/s, "reference": ...}.

  Also returned: "tfgen_fraction_of_peak" (and the reference's): the FLOP/s reached over
  the machine's measured matmul peak of the precision's compute dtype.
  """
  if steps < 1 or repeats < 1 or warmup_steps < 0:
    raise ValueError("--steps and --repeats must be >= 1, --warmup_steps >= 0.")
  import numpy as np
  from tfgen.utils import machine
  peaks = machine.print_header(out, size=peak_size)
  chosen = machine.resolve_precision(precision)
  out(chosen.reason)
  precision = chosen.policy
  config = load_config(model, dataset, batch_size, precision, jit_compile, quick)
  out(f"config: {model}/{dataset}{' (quick)' if quick else ''}, batch_size={batch_size}, "
      f"precision={precision}, jit_compile={config.train.jit_compile}, "
      f"warmup_steps={warmup_steps}, "
      f"steps={steps}, repeats={repeats}, cpus={os.cpu_count()}")
  with precision_policy(precision), tempfile.TemporaryDirectory() as workdir:
    build_start = time.perf_counter()
    tfgen = TfgenStep(config, workdir)
    out(tfgen.jit_reason)
    out(f"tfgen parameters: {tfgen.summary['trainable_parameters']} "
        f"(total {tfgen.summary['total_trainable_parameters']})")
    reference = None
    if reference_dir:
      # The reference's inputs: a few batches of the same stream, converted ahead of time.
      if config.model.name == "drnet":
        # The trainer's stream itself (four frames per clip, the config's frame sampling).
        stream = tfgen.trainer._dataset("train", batch_size)  # pylint: disable=protected-access
      else:
        from tfgen.data import registry
        data = config.data
        stream = registry.build(
            data.name, "train", batch_size=batch_size, num_frames=data.num_frames,
            seed=config.train.seed + 1, data_dir=data.data_dir,
            **dict(data.get("options", {})))
      batches = [b.numpy() for b in stream.take(4)]
      reference_step = REFERENCE_STEPS.get(config.model.name)
      if reference_step is None:
        raise ValueError(f"No reference step for the {config.model.name} family.")
      reference = reference_step(reference_dir, config, batches, reference_threads)
      import torch
      ours = tfgen.summary["reference_equivalent_parameters"]
      theirs = reference.parameter_counts()
      out(f"reference parameters: {theirs} (total {sum(theirs.values())}), "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}")
      out(f"tfgen reference-equivalent parameters: {ours} (total {sum(ours.values())})")
      if ours != theirs:
        raise ValueError(f"Parameter counts differ from the reference: tfgen {ours}, "
                         f"reference {theirs}: the models are not the same.")
      out("parameter counts match the reference")

    warm_start = time.perf_counter()
    metrics = tfgen.run(warmup_steps)
    out(f"tfgen warm-up: {warmup_steps} steps in {time.perf_counter() - warm_start:.1f} s "
        f"(build {warm_start - build_start:.1f} s), metrics {metrics}")
    if reference is not None:
      warm_start = time.perf_counter()
      metrics = reference.run(warmup_steps)
      out(f"reference warm-up: {warmup_steps} steps in "
          f"{time.perf_counter() - warm_start:.1f} s, metrics {metrics}")

    out(f"load_average_before_timing={_load_average()}")
    seconds = {"tfgen": [], "reference": []}
    for repeat in range(repeats):
      sides = [("tfgen", tfgen)] + ([("reference", reference)] if reference else [])
      for name, step in sides:
        seconds[name].append(_time(step, steps))
        out(f"{name} repeat {repeat}: {seconds[name][-1]:.4f} s/step, "
            f"{batch_size / seconds[name][-1]:.2f} sequences/s")

    out(f"load_average_after_timing={_load_average()}")
    flops = {"tfgen": tfgen.flops_per_step()}
    if reference is not None:
      flops["reference"] = reference.flops_per_step()

  results = {}
  for name in ("tfgen", "reference"):
    if seconds[name]:
      median = float(np.median(seconds[name]))
      results[name] = batch_size / median
      out(f"{name}_median_seconds_per_step={median:.4f}")
      # The reference runs in float32 whatever tfgen's precision.
      dtype = precision if name == "tfgen" else "float32"
      fraction = machine.fraction_of_peak(flops[name] / median, peaks, dtype)
      results[f"{name}_fraction_of_peak"] = fraction
      out(f"{name}_gflop_per_step={flops[name] / 1e9:.2f} "
          f"{name}_gflop_per_second={flops[name] / median / 1e9:.1f} "
          f"{name}_fraction_of_{'bfloat16' if 'bfloat16' in dtype else 'float32'}"
          f"_peak={fraction:.3f}")
  out(f"tfgen_sequences_per_second={results['tfgen']:.3f}")
  if "reference" in results:
    out(f"reference_sequences_per_second={results['reference']:.3f}")
    out(f"speedup={results['tfgen'] / results['reference']:.3f}")
  out(f"sequences_per_second={results['tfgen']:.3f}")
  return results


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  f = flags.FLAGS
  if f.reference_dir:
    # PyTorch (2.14) segfaults when `torch._dynamo` (imported by its optimisers) loads
    # after TensorFlow in one process; loaded first, both work.
    import torch  # pylint: disable=unused-import
    import torch._dynamo  # pylint: disable=unused-import
  run(model=f.model, dataset=f.dataset, batch_size=f.batch_size, precision=f.precision,
      jit_compile=f.jit_compile, warmup_steps=f.warmup_steps, steps=f.steps,
      repeats=f.repeats, reference_dir=f.reference_dir,
      reference_threads=f.reference_threads, quick=f.quick, peak_size=f.peak_size,
      out=lambda line: print(line, flush=True))


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  define_flags()
  app.run(main)
