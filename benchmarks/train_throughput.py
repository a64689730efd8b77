r"""Training throughput of a tfgen model, optionally against the official PyTorch code.

    python benchmarks/train_throughput.py --model=svg_lp --dataset=smmnist --batch_size=16 \
        [--precision=mixed_bfloat16|auto] [--jit_compile=auto|true|false] \
        [--warmup_steps=2 --steps=4 --repeats=3] \
        [--reference_dir=/path/to/edenton/svg --reference_threads=2] [--quick]

tfgen side: the config comes from `config_loader.load(model, dataset)` with the batch
size, precision and XLA flag overridden; the model, optimiser and step counter are built
by `Trainer._build` under the precision policy, the data come from the trainer's own
`tf.data` pipeline (`Trainer._dataset`, through `experimental_distribute_dataset`), and
the timed step is the trainer's: one `tf.function` running the (XLA-compiled when
`jit_compile` resolves to true: "auto" is XLA except on AVX-512 CPUs) `model.train_step`,
bumping `examples_seen` and returning the metrics, which are read back to Python every
step as the trainer does. Data fetch is included.

Reference side (`--reference_dir`, a checkout of edenton/svg): the official modules are
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

Prints first the machine (CPU model, cores, flags, oneDNN) and its measured float32 and
bfloat16 matmul peaks (`tfgen.utils.machine`, as `benchmarks/peak_flops.py`); then each
repeat, the median seconds per step, each side's FLOPs per step (tfgen: TensorFlow's
profiler on the step's graph; reference: `torch.utils.flop_counter` over one step), the
FLOP/s reached and its fraction of the peak of the compute dtype, `tfgen_sequences_per_second=`, with a
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

MODELS = ("svg_lp", "svg_fp", "svg_det")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")


def define_flags():
  """Defines the benchmark's flags (only when run as a script, so tests can import it)."""
  flags.DEFINE_enum("model", "svg_lp", MODELS, "Model config to benchmark.")
  flags.DEFINE_enum("dataset", "smmnist", ["smmnist"], "Data set of the config.")
  flags.DEFINE_integer("batch_size", 16, "Global batch size.")
  flags.DEFINE_enum("precision", "float32", PRECISIONS, "Keras mixed-precision policy.")
  flags.DEFINE_enum("jit_compile", "auto", ["auto", "true", "false"],
                    "XLA-compile the training step (config.train.jit_compile); auto: as the "
                    "trainer chooses (tfgen.utils.machine.resolve_jit_compile).")
  flags.DEFINE_integer("warmup_steps", 2, "Untimed steps per side before timing.")
  flags.DEFINE_integer("steps", 4, "Timed steps per repeat.")
  flags.DEFINE_integer("repeats", 3, "Timed repeats per side; medians are reported.")
  flags.DEFINE_string("reference_dir", None,
                      "A checkout of edenton/svg: also time the official PyTorch code.")
  flags.DEFINE_integer("reference_threads", None,
                       "torch.set_num_threads for the reference; default: all cores.")
  flags.DEFINE_bool("quick", False, "Use the config's quick variant (narrow networks).")
  flags.DEFINE_integer("peak_size", 2048, "Matrix size of the peak-FLOP/s measurement.")


# ------------------------------------------------------------------------------ tfgen


def load_config(model, dataset, batch_size, precision, jit_compile, quick=False):
  """The config the trainer would run, with the benchmark's overrides."""
  from tfgen.utils import config_loader
  config = config_loader.load(model, dataset, "quick" if quick else None)
  config.train.batch_size = batch_size
  config.train.precision = precision
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


def _import_reference(reference_dir):
  """Imports `models.lstm` and `models.dcgan_64` from a checkout of edenton/svg."""
  reference_dir = os.path.abspath(reference_dir)
  for name in ("models/lstm.py", "models/dcgan_64.py"):
    if not os.path.isfile(os.path.join(reference_dir, name)):
      raise FileNotFoundError(f"--reference_dir {reference_dir} has no {name}: expected a "
                              "checkout of edenton/svg.")
  for name in ("models", "models.lstm", "models.dcgan_64"):
    if name in sys.modules:
      del sys.modules[name]
  sys.path.insert(0, reference_dir)
  try:
    lstm = importlib.import_module("models.lstm")
    dcgan_64 = importlib.import_module("models.dcgan_64")
  finally:
    sys.path.remove(reference_dir)
  return lstm, dcgan_64


def _init_weights(module):
  """The reference's `utils.init_weights`: N(0, 0.02) convs/linears, N(1, 0.02) norms."""
  name = type(module).__name__
  if "Conv" in name or "Linear" in name:
    module.weight.data.normal_(0.0, 0.02)
    module.bias.data.fill_(0)
  elif "BatchNorm" in name:
    module.weight.data.normal_(1.0, 0.02)
    module.bias.data.fill_(0)


class ReferenceStep:
  """The official SVG modules and a reproduction of `train()` of `train_svg_{lp,fp}.py`."""

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
    lstm, dcgan_64 = _import_reference(reference_dir)
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
    self.batches = [[torch.from_numpy(b[:, t].transpose(0, 3, 1, 2).copy())
                     for t in range(b.shape[1])] for b in batches]
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

  def flops_per_step(self):
    """FLOPs of one reference step, counted by `torch.utils.flop_counter` (one step run)."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
      self.run(1)
    return int(counter.get_total_flops())

  def run(self, steps):
    metrics = {}
    for _ in range(steps):
      x = self.batches[self._next % len(self.batches)]
      self._next += 1
      metrics = self._train(x)
    return metrics


# ------------------------------------------------------------------------------ timing


def _time(step, steps):
  start = time.perf_counter()
  step.run(steps)
  return (time.perf_counter() - start) / steps


def run(model="svg_lp", dataset="smmnist", batch_size=16, precision="float32",
        jit_compile="auto", warmup_steps=2, steps=4, repeats=3, reference_dir=None,
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
      f"precision={precision}, jit_compile={jit_compile}, warmup_steps={warmup_steps}, "
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
      from tfgen.data import registry
      data = config.data
      batches = [b.numpy() for b in registry.build(
          data.name, "train", batch_size=batch_size, num_frames=data.num_frames,
          seed=config.train.seed + 1, data_dir=data.data_dir,
          **dict(data.get("options", {}))).take(4)]
      reference = ReferenceStep(reference_dir, config, batches, reference_threads)
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

    seconds = {"tfgen": [], "reference": []}
    for repeat in range(repeats):
      sides = [("tfgen", tfgen)] + ([("reference", reference)] if reference else [])
      for name, step in sides:
        seconds[name].append(_time(step, steps))
        out(f"{name} repeat {repeat}: {seconds[name][-1]:.4f} s/step, "
            f"{batch_size / seconds[name][-1]:.2f} sequences/s")

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
