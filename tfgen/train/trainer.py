"""The one training loop of tfgen: any model, one device, MirroredStrategy or multi-worker.

The models keep Keras's `train_step`, so `model.fit` works in a notebook. The trainer runs
that same `train_step` through `strategy.run` in its own loop (Keras 3's `fit` is broken
under `MultiWorkerMirroredStrategy`, PITFALLS.md) and adds what long runs need: exact
resumption (model, every optimiser, the step and the data-stream position in one
checkpoint), TensorBoard scalars and sample images, a progress bar with ETA, and a stop on
a non-finite loss that keeps the last good checkpoint.

Whatever differs between model families reaches the trainer through the family registry
(`tfgen.models.factory`: build, compile with the family's optimisers, data check,
training stream) and a few model methods (`optimizers_by_name`, `submodules_by_name`,
`picture_rows`), never through a test of the model's name.
"""

import json
import math
import os
import tempfile
import time

from absl import logging
import keras
import numpy as np
import tensorflow as tf
import tqdm

from tfgen.data import registry
from tfgen.models import factory
from tfgen.train import checkpointing
from tfgen.train import gradient_step
from tfgen.train import optimizers as optimizers_lib
from tfgen.train import workdir as workdir_lib
from tfgen.utils import config_loader
from tfgen.utils import files
from tfgen.utils import images
from tfgen.utils import machine

CONFIG_FILE = workdir_lib.CONFIG_FILE
SUMMARY_FILE = "model_summary.json"
CHECKPOINT_DIR = workdir_lib.CHECKPOINT_DIR

# Fields that may differ between a run and its resumption (everything else must match).
_RESUMABLE_FIELDS = ("train.steps", "train.learning_rate", "train.log_every", "train.checkpoint_every",
                     "train.image_every", "train.max_checkpoints_to_keep", "data.data_dir",
                     "train.num_image_sequences", "train.num_image_samples",
                     # Only how batch norm's moving variance is updated (runs before it
                     # existed used Keras's rule): not a change of shapes or of the maths
                     # of a training step.
                     "model.batch_norm_moving_variance",
                     # XLA or not: the same maths (runs before "auto" saved True / False).
                     "train.jit_compile")


class NonFiniteLossError(RuntimeError):
  """Raised when a training step produces a NaN or infinite loss."""


def mirrored_strategy(devices=None):
  """A `MirroredStrategy` whose collective keys do not collide with earlier ones.

  Every `MirroredStrategy` numbers its collective all-reduces (synchronised batch norm)
  from the same keys, and TensorFlow caches each key's tensor shape for the process: a
  second strategy in one process (a notebook that trains twice, a test suite) whose first
  all-reduce has another shape aborts with "Shape mismatch in the collective instance".
  Each strategy made here starts from fresh keys (TensorFlow's test hook
  `_collective_key_base`).
  """
  tf.distribute.MirroredStrategy._collective_key_base += 1000  # pylint: disable=protected-access
  return tf.distribute.MirroredStrategy(devices)


def default_strategy():
  """MirroredStrategy over every visible GPU when there are several, else one device."""
  gpus = tf.config.list_logical_devices("GPU")
  if len(gpus) > 1:
    return mirrored_strategy()
  return tf.distribute.get_strategy()


def _all_gpus(strategy):
  """Whether every device of `strategy`'s replicas on this worker is a GPU."""
  return all(tf.DeviceSpec.from_string(device).device_type == "GPU"
             for device in strategy.extended.worker_devices)


def _is_chief(strategy):
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return True
  task_type, task_id = resolver.task_type, resolver.task_id
  return task_type == "chief" or (task_type == "worker" and task_id == 0 and
                                  "chief" not in resolver.cluster_spec().as_dict())


def _flatten(d, prefix=""):
  out = {}
  for key, value in d.items():
    name = f"{prefix}{key}"
    if isinstance(value, dict):
      out.update(_flatten(value, name + "."))
    else:
      out[name] = value
  return out


def _check_resume_config(saved, config):
  """Raises when the workdir's saved config and this run's disagree on what shapes a run."""
  saved_flat, new_flat = _flatten(saved.to_dict()), _flatten(config.to_dict())
  differences = [key for key in sorted(set(saved_flat) | set(new_flat))
                 if saved_flat.get(key) != new_flat.get(key) and key not in _RESUMABLE_FIELDS]
  if differences:
    detail = "; ".join(f"{k}: saved {saved_flat.get(k)!r}, now {new_flat.get(k)!r}"
                       for k in differences)
    raise ValueError(f"The work directory already holds a run with another config ({detail}). "
                     "Rerun with the same flags to resume, or choose a new --workdir.")


def parameter_summary(model):
  """Trainable parameter count of every sub-module, as written to `model_summary.json`."""
  counts = {name: int(sum(np.prod(v.shape) for v in part.trainable_variables))
            for name, part in model.submodules_by_name().items()}
  summary = {"model": type(model).__name__, "trainable_parameters": counts,
             "total_trainable_parameters": int(sum(counts.values()))}
  # Keras LSTM cells have one bias vector, PyTorch's two: the reference's counts.
  reference = {}
  for name, part in model.submodules_by_name().items():
    cells = getattr(part, "cells", [])
    reference[name] = counts[name] + sum(4 * cell.units for cell in cells)
  summary["reference_equivalent_parameters"] = reference
  return summary


OPTIMIZERS = optimizers_lib.OPTIMIZERS
make_optimizer = optimizers_lib.make_optimizer


class Trainer:
  """Trains `config` in `workdir`, resuming from the workdir's latest checkpoint.

  Args:
    config: the `ConfigDict` of a `configs/` file (after overrides).
    workdir: str, receives `config.json`, `model_summary.json`, `checkpoints/`,
      TensorBoard events under `train/`, and sample pictures under `samples/`.
    strategy: a `tf.distribute.Strategy`; default: all visible GPUs or one device.
  """

  def __init__(self, config, workdir, strategy=None):
    self.config = config
    self.strategy = strategy or default_strategy()
    self.is_chief = _is_chief(self.strategy)
    # Non-chief workers write to a throw-away directory (PITFALLS.md) but resume from the
    # chief's checkpoints, so that every worker restarts at the same step.
    self.workdir = workdir if self.is_chief else tempfile.mkdtemp(prefix="tfgen_worker_")
    self.shared_workdir = workdir
    train = config.train
    replicas = self.strategy.num_replicas_in_sync
    if train.batch_size % replicas:
      raise ValueError(f"batch_size {train.batch_size} must be divisible by the number of "
                       f"replicas ({replicas}).")
    machine.resolve_precision(train.precision)  # An unknown precision fails here, early.
    machine.resolve_jit_compile(train.jit_compile)  # So does an unknown jit_compile.
    self.family = factory.get_family(config.model.name)
    if self.family.prepare_config is not None:
      # Fields derived from what the config refers to (e.g. another run), checked here.
      self.family.prepare_config(config)
    self.family.check_data(config)  # What the family's train_step needs of the clips.

  # ---------------------------------------------------------------- set-up

  def _write_config(self):
    path = os.path.join(self.workdir, CONFIG_FILE)
    if tf.io.gfile.exists(path):
      with tf.io.gfile.GFile(path) as f:
        _check_resume_config(config_loader.from_json(f.read()), self.config)
    files.atomic_write(path, config_loader.to_json(self.config))

  def _dataset(self, split, batch_size, start_index=0, drop_remainder=True):
    """The data set's clips; for "train", as the family's `train_step` takes them."""
    data = self.config.data
    dataset = registry.build(
        data.name, split, batch_size=batch_size, num_frames=data.get("num_frames", None),
        seed=self.config.train.seed, data_dir=data.data_dir, start_index=start_index,
        drop_remainder=drop_remainder, **dict(data.get("options", {})))
    if split == "train" and self.family.training_data is not None:
      dataset = self.family.training_data(dataset, self.config, start_index)
    return dataset

  def _build(self):
    # A config starts from one initial state whatever the strategy: Keras's unseeded
    # initialisers draw differently inside a MirroredStrategy scope, so the weights are
    # drawn once outside any scope, from the config's seed, and copied in.
    keras.utils.set_random_seed(self.config.train.seed)
    template = factory.build_model(self.config.model)
    template.build()
    with self.strategy.scope():
      model = factory.build_model(self.config.model)
      model.build()
      model.set_weights(template.get_weights())
    del template
    with self.strategy.scope():
      # Every optimiser of the family, created and built here (LossScaleOptimizers under
      # mixed_float16).
      self.family.compile(model, self.config.train)
      examples_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="examples_seen")
    return model, model.optimizer, examples_seen

  def _new_step_counter(self):
    with self.strategy.scope():
      return tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

  @staticmethod
  def checkpoint(model, examples_seen, step=None):
    """The training checkpoint: model, `model.optimizers_by_name()`, stream position, step.

    `step=None` gives the layout of checkpoints written before the trainer counted steps
    itself (the step was the optimiser's `iterations`).
    """
    extra = {"examples_seen": examples_seen}
    if step is not None:
      extra["step"] = step
    return checkpointing.training_checkpoint(model, model.optimizers_by_name(), **extra)

  def _restore(self, path, model, examples_seen, step):
    """Restores the checkpoint at `path`, old ones (no step counter) included."""
    if checkpointing.has_variable(path, "step"):
      self.checkpoint(model, examples_seen, step).restore(path).assert_consumed()
    else:
      # Written before the trainer had a step counter: the main optimiser's iterations
      # counted the steps (one update per step).
      self.checkpoint(model, examples_seen).restore(path).assert_consumed()
      step.assign(model.optimizer.iterations)
    # Learning rates are optimiser variables: a resumed run takes this config's.
    for optimizer in model.optimizers_by_name().values():
      if not _has_schedule(optimizer):  # A schedule follows the restored step.
        optimizer.learning_rate.assign(self.config.train.learning_rate)

  # ---------------------------------------------------------------- loop

  def train(self):
    """Runs (or resumes) training to `config.train.steps`; returns the last metrics."""
    train = self.config.train
    precision = machine.resolve_precision(train.precision)
    (logging.warning if precision.slow else logging.info)("%s", precision.reason)
    self.jit_compile, reason = machine.resolve_jit_compile(train.jit_compile)
    replicas = self.strategy.num_replicas_in_sync
    if (self.jit_compile and str(train.jit_compile).strip().lower() == "auto" and replicas > 1
        and not _all_gpus(self.strategy)):
      # XLA compiles cross-replica all-reduces (synchronised batch norm) on GPUs only.
      self.jit_compile = False
      reason = (f"jit_compile=auto chose no XLA: {replicas} replicas not all on GPUs, where "
                "XLA cannot compile the cross-replica batch-norm all-reduce.")
    logging.info("%s", reason)
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision.policy)
    try:
      return self._train()
    finally:
      keras.mixed_precision.set_global_policy(previous_policy)

  def _train(self):
    config, train = self.config, self.config.train
    tf.io.gfile.makedirs(self.workdir)
    self._write_config()
    model, optimizer, examples_seen = self._build()
    step_counter = self._new_step_counter()
    if self.is_chief:
      summary = parameter_summary(model)
      summary["model_name"] = config.get("model_name", config.model.name)
      files.atomic_write_json(os.path.join(self.workdir, SUMMARY_FILE), summary)

    checkpoint = self.checkpoint(model, examples_seen, step_counter)
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(self.workdir, CHECKPOINT_DIR),
        max_to_keep=train.max_checkpoints_to_keep)
    latest = tf.train.latest_checkpoint(os.path.join(self.shared_workdir, CHECKPOINT_DIR))
    if latest:
      self._restore(latest, model, examples_seen, step_counter)
      logging.info("Resumed from %s (step %d).", latest, int(step_counter.numpy()))
    elif self.family.initialize is not None:
      self.family.initialize(model, config)  # A fresh run's non-random initial values.
    step = int(step_counter.numpy())
    if step >= train.steps:
      logging.info("Nothing to do: step %d >= steps %d.", step, train.steps)
      return {}

    dataset = self._dataset("train", train.batch_size, start_index=int(examples_seen.numpy()))
    iterator = iter(self.strategy.experimental_distribute_dataset(dataset))
    image_batch = self._picture_clips()
    writer = tf.summary.create_file_writer(os.path.join(self.workdir, "train")) \
        if self.is_chief else tf.summary.create_noop_writer()

    whole_step_xla = self.jit_compile and self.strategy.num_replicas_in_sync == 1
    # XLA over the whole step works on one device only: with several replicas one XLA
    # cluster would touch every device's copy of the variables (PITFALLS.md). There each
    # replica XLA-compiles its own gradient computations and applies them outside XLA
    # (`tfgen/train/gradient_step.py`).
    gradient_step.set_per_replica_jit_compile(model, self.jit_compile and not whole_step_xla)
    if self.jit_compile:
      logging.info("XLA: %s.", "the whole training step (one replica)" if whole_step_xla else
                   f"each replica's gradient computations ({self.strategy.num_replicas_in_sync} "
                   "replicas; optimiser updates outside XLA)")

    @tf.function
    def distributed_step(batch):
      if whole_step_xla:
        compiled_step(batch)
      else:
        self.strategy.run(model.train_step, args=(batch,))
      examples_seen.assign_add(train.batch_size)
      step_counter.assign_add(1)
      # Read in cross-replica context: the metrics' global means over the window.
      return {m.name: m.result() for m in model.metrics}

    compiled_step = tf.function(model.train_step, jit_compile=True)

    progress = tqdm.tqdm(total=train.steps, initial=step, unit="step", dynamic_ncols=True,
                         disable=not self.is_chief, desc=config.get("model_name", ""))
    metrics = {}
    window_start, window_step = time.perf_counter(), step
    try:
      while step < train.steps:
        metrics = {k: float(v) for k, v in distributed_step(next(iterator)).items()}
        step += 1
        if not all(math.isfinite(v) for v in metrics.values()):
          raise NonFiniteLossError(
              f"Non-finite loss at step {step}: {metrics}. Training stopped; the last good "
              f"checkpoint ({manager.latest_checkpoint or 'none yet'}) is kept. Try a lower "
              "learning rate or another precision.")
        progress.update(1)
        progress.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)
        if step % train.log_every == 0 or step == train.steps:
          now = time.perf_counter()
          with writer.as_default(step=step):
            for name, value in metrics.items():
              tf.summary.scalar(name, value)
            for name, each in model.optimizers_by_name().items():
              tag = "learning_rate" if name == "optimizer" else f"learning_rate/{name}"
              tf.summary.scalar(tag, float(keras.ops.convert_to_numpy(each.learning_rate)))
            tf.summary.scalar("sequences_per_second",
                              (step - window_step) * train.batch_size / (now - window_start))
          window_start, window_step = now, step
          for metric in model.metrics:
            metric.reset_state()
        if step % train.checkpoint_every == 0 or step == train.steps:
          # This step's loss was finite but its update may not be: never save NaN weights.
          if not _all_finite(model.trainable_variables):
            raise NonFiniteLossError(
                f"Non-finite weights after step {step}. Training stopped; the last good "
                f"checkpoint ({manager.latest_checkpoint or 'none yet'}) is kept.")
          manager.save(checkpoint_number=step)
        if step % train.image_every == 0 or step == train.steps:
          self._write_images(model, image_batch, step, writer, final=step == train.steps)
    finally:
      progress.close()
      writer.flush()
    return metrics

  def _picture_clips(self):
    """The test clips of the pictures: up to `train.num_image_sequences` of them.

    From the validation split for a data set without a test split (LSUN).
    """
    wanted = self.config.train.num_image_sequences
    split = "test" if "test" in registry.splits(self.config.data.name) else "validation"
    batch = next(iter(self._dataset(split, wanted, drop_remainder=False)), None)
    if batch is None:
      raise ValueError(f"The {split} split of {self.config.data.name!r} holds no clip of "
                       f"{self.config.data.get('num_frames', None)} frames for the training "
                       "pictures: use shorter clips (config.data.num_frames) or more test data.")
    return batch

  def _write_images(self, model, video, step, writer, final=False):
    """Sample pictures from the model's `picture_rows` (each family defines its rows)."""
    if not self.is_chief or not hasattr(model, "picture_rows"):
      return
    clips = model.picture_rows(video, self.config.train.num_image_samples, seed=(step, 0))
    picture = images.grid([row for clip in clips for row in clip])
    with writer.as_default(step=step):
      tf.summary.image("samples", picture[None])
    directory = os.path.join(self.workdir, "samples")
    images.save_png(os.path.join(directory, f"step_{step:08d}.png"), picture)
    if final:
      # A GIF: frame t shows, per clip, frame t of each of its rows side by side.
      length = min(len(row) for clip in clips for row in clip)
      frames = [images.grid([[row[t] for row in clip] for clip in clips])
                for t in range(length)]
      images.save_gif(os.path.join(directory, "samples.gif"), frames)


@tf.function
def _all_finite_graph(variables):
  return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables])


def _all_finite(variables):
  return bool(_all_finite_graph([v.value for v in variables]))


def _has_schedule(optimizer):
  inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
  return isinstance(getattr(inner, "_learning_rate", None),
                    keras.optimizers.schedules.LearningRateSchedule)


def train(config, workdir, strategy=None):
  """Trains `config` in `workdir` (see `Trainer`); returns the last step's metrics.

  A family trained as several runs (its registry entry has `train`, e.g. LAPGAN's levels)
  runs them itself, each through `Trainer`; it returns what that function returns.
  """
  family = factory.get_family(config.model.name)
  if family.train is not None:
    return family.train(config, workdir, strategy)
  return Trainer(config, workdir, strategy).train()
