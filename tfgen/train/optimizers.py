"""The optimisers a config asks for (`config.train`), shared by every model family.

Besides Keras's Adam, RMSprop and SGD, `TorchSGD` is Torch's `optim.sgd` (the Lua
package LAPGAN trained with), whose momentum is an average of gradients, not Keras's
(LAPGAN_FACTS §3), and `PerEpochSchedule` its per-epoch momentum ramp and learning-rate
divisor.
"""

import keras
from keras import ops

OPTIMIZERS = ("adam", "rmsprop", "sgd", "torch_sgd")


@keras.saving.register_keras_serializable(package="tfgen")
class PerEpochSchedule(keras.optimizers.schedules.LearningRateSchedule):
  """A value changed once per epoch: `initial * multiplier^e + increment * e`, clipped.

  `e = floor(step / steps_per_epoch)` is the number of finished epochs. The LAPGAN
  scripts change both hyper-parameters at the end of every epoch
  (`train_cifar_coarse_to_fine.lua:215-218`): the learning rate as
  `PerEpochSchedule(0.02, steps_per_epoch, multiplier=1 / 1.000004, minimum=1e-6)`, the
  momentum as `PerEpochSchedule(0.5, steps_per_epoch, increment=0.0008, maximum=0.7)`.

  Args:
    initial: float, the value during the first epoch.
    steps_per_epoch: int >= 1 (the CIFAR scripts: 45,000 / 64 -> 704).
    multiplier: float > 0, factor per epoch (the reference divides by 1.000004).
    increment: float, added per epoch.
    minimum, maximum: floats or None, bounds of the value.
  """

  def __init__(self, initial, steps_per_epoch, multiplier=1.0, increment=0.0, minimum=None,
               maximum=None):
    if int(steps_per_epoch) < 1:
      raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}.")
    if multiplier <= 0:
      raise ValueError(f"multiplier must be > 0, got {multiplier}.")
    self.initial = float(initial)
    self.steps_per_epoch = int(steps_per_epoch)
    self.multiplier = float(multiplier)
    self.increment = float(increment)
    self.minimum = None if minimum is None else float(minimum)
    self.maximum = None if maximum is None else float(maximum)

  def __call__(self, step):
    epoch = ops.floor(ops.cast(step, "float32") / float(self.steps_per_epoch))
    value = (self.initial * ops.power(ops.cast(self.multiplier, "float32"), epoch)
             + self.increment * epoch)
    if self.minimum is not None:
      value = ops.maximum(value, self.minimum)
    if self.maximum is not None:
      value = ops.minimum(value, self.maximum)
    return value

  def get_config(self):
    return dict(initial=self.initial, steps_per_epoch=self.steps_per_epoch,
                multiplier=self.multiplier, increment=self.increment, minimum=self.minimum,
                maximum=self.maximum)


@keras.saving.register_keras_serializable(package="tfgen")
class TorchSGD(keras.optimizers.Optimizer):
  """Torch's `optim.sgd` with momentum as an average of gradients (dampening = momentum).

  Update of every parameter x with gradient g at step t (momentum m_t, learning rate lr_t):

      v_t = g_t                                  on the first step taken with m > 0
      v_t = m_t v_{t-1} + (1 - m_t) g_t          afterwards
      x  <- x - lr_t v_t

  With m = 0 no velocity is kept (x <- x - lr g); the velocity starts at the first step
  taken with m > 0 (LAPGAN_FACTS §3.1). Keras's `SGD(momentum=m)` is
  v <- m v - lr g, x <- x + v: a different rule (after 10 unit-gradient steps at lr 0.02,
  m 0.5, Keras has moved x by -0.360, Torch by -0.200).

  Args:
    learning_rate: float or schedule (e.g. `PerEpochSchedule`); torch `learningRate`.
    momentum: float in [0, 1) or a schedule of the step that never decreases (e.g.
      `PerEpochSchedule(..., increment=0.0008, maximum=0.7)`); torch `momentum`. The rule
      "the velocity has started" is read from the schedule (m at the previous step > 0),
      which is why it must not decrease.
    **kwargs: `keras.optimizers.Optimizer` arguments (name, clipnorm, ...).

  References:
    torch/optim `sgd.lua` (dampening defaults to the momentum); facebookarchive/eyescream
    `cifar/scripts/train_cifar_coarse_to_fine.lua`.
  """

  def __init__(self, learning_rate=0.02, momentum=0.0, name="torch_sgd", **kwargs):
    super().__init__(learning_rate=learning_rate, name=name, **kwargs)
    if isinstance(momentum, (int, float)):
      if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}.")
      momentum = float(momentum)
    elif isinstance(momentum, PerEpochSchedule):
      if momentum.increment < 0 or momentum.multiplier < 1.0 and momentum.initial > 0:
        raise ValueError("A momentum schedule must not decrease (increment >= 0, "
                         f"multiplier >= 1); got {momentum.get_config()}.")
    elif not callable(momentum):
      raise ValueError(f"momentum must be a float or a schedule; got {momentum!r}.")
    self.momentum = momentum

  def momentum_at(self, step):
    """The momentum of step `step` (a float32 scalar)."""
    if callable(self.momentum):
      return ops.cast(self.momentum(step), "float32")
    return ops.convert_to_tensor(self.momentum, "float32")

  def build(self, variables):
    if self.built:
      return
    super().build(variables)
    self.velocities = self.add_optimizer_variables(variables, "velocity")

  def update_step(self, gradient, variable, learning_rate):
    learning_rate = ops.cast(learning_rate, variable.dtype)
    gradient = ops.cast(gradient, variable.dtype)
    velocity = self.velocities[self._get_variable_index(variable)]
    step = self.iterations
    momentum = ops.cast(self.momentum_at(step), variable.dtype)
    previous = ops.cast(self.momentum_at(ops.maximum(step - 1, 0)), variable.dtype)
    started = ops.logical_and(step > 0, previous > 0)
    new_velocity = ops.where(started, momentum * velocity + (1.0 - momentum) * gradient,
                             gradient)
    self.assign(velocity, new_velocity)
    self.assign_sub(variable, learning_rate * new_velocity)

  def get_config(self):
    config = super().get_config()
    momentum = self.momentum
    if not isinstance(momentum, float):
      momentum = keras.saving.serialize_keras_object(momentum)
    config.update(momentum=momentum)
    return config

  @classmethod
  def from_config(cls, config, custom_objects=None):
    momentum = config.get("momentum")
    if isinstance(momentum, dict):
      config["momentum"] = keras.saving.deserialize_keras_object(momentum)
    return super().from_config(config, custom_objects=custom_objects)


def torch_sgd(train_config):
  """`TorchSGD` from `config.train` (fields below; the LAPGAN configs set them).

  learning_rate (torch `learningRate`), momentum (start), momentum_increment (per epoch,
  0.0008), momentum_max (0.7 code, 0.8 thesis), learning_rate_divisor (per epoch,
  1.000004; 1.00004 in the class-conditional coarse-to-fine script),
  learning_rate_min (1e-6), steps_per_epoch (704 on CIFAR-10).
  """
  get = train_config.get
  steps_per_epoch = get("steps_per_epoch", None)
  divisor = get("learning_rate_divisor", 1.0)
  increment = get("momentum_increment", 0.0)
  learning_rate, momentum = train_config.learning_rate, float(get("momentum", 0.0))
  if divisor != 1.0 or increment:
    if not steps_per_epoch:
      raise ValueError("config.train.steps_per_epoch is needed for a per-epoch learning-rate "
                       "divisor or momentum increment.")
    learning_rate = PerEpochSchedule(learning_rate, steps_per_epoch, multiplier=1.0 / divisor,
                                     minimum=get("learning_rate_min", None))
    momentum = PerEpochSchedule(momentum, steps_per_epoch, increment=increment,
                                maximum=get("momentum_max", None))
  return TorchSGD(learning_rate=learning_rate, momentum=momentum)


def make_optimizer(train_config):
  """The optimiser of `config.train` (the reference's `--optimizer`: adam, rmsprop, sgd,
  torch_sgd).

  Adam reads `learning_rate`, `beta1`, `beta2` and, when the config has it, `epsilon`
  (torch's default 1e-8, which DrNET's configs set; without the field Keras's 1e-7, what
  the SVG configs have always trained with). "torch_sgd" is `TorchSGD` (see `torch_sgd`).
  """
  name = train_config.get("optimizer", "adam")
  if name == "adam":
    epsilon = train_config.get("epsilon", None)
    return keras.optimizers.Adam(learning_rate=train_config.learning_rate,
                                 beta_1=train_config.beta1, beta_2=train_config.beta2,
                                 **({} if epsilon is None else {"epsilon": epsilon}))
  if name == "rmsprop":
    return keras.optimizers.RMSprop(learning_rate=train_config.learning_rate)
  if name == "sgd":
    return keras.optimizers.SGD(learning_rate=train_config.learning_rate)
  if name == "torch_sgd":
    return torch_sgd(train_config)
  raise ValueError(f"Unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}.")
