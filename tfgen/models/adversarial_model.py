"""The adversarial-training pieces shared by tfgen's GANs: one optimiser per player,
stateless per-step seeds, Bernoulli losses on logits, a gradient step on one player.

DrNET (`tfgen/models/drnet/drnet.py`) and LAPGAN's levels
(`tfgen/models/lapgan/pyramid_level.py`) build on it: `compile(discriminator_optimizer=..., optimizer=...)`
builds both optimisers; `optimizers_by_name()` gives the trainer's checkpoint
"optimizer" (the generator's, `self.optimizer`) and "discriminator_optimizer"; a player
is frozen for a step by not watching its variables (STYLE.md, keras-io GAN examples).
"""

import keras
from keras import ops
import tensorflow as tf
import tensorflow_probability as tfp

from tfgen.train import gradient_step

tfd = tfp.distributions


class AdversarialModel(keras.Model):
  """Base of a two-player model; subclasses define `generator_variables`,
  `discriminator_variables` and `train_step`."""

  def __init__(self, seed=1, **kwargs):
    super().__init__(**kwargs)
    self.seed = seed
    self.discriminator_optimizer = None

  @property
  def generator_variables(self):
    raise NotImplementedError

  @property
  def discriminator_variables(self):
    raise NotImplementedError

  def optimizers_by_name(self):
    """The players' optimisers by checkpoint name (the trainer's hook)."""
    return {"optimizer": self.optimizer,
            "discriminator_optimizer": self.discriminator_optimizer}

  def compile(self, discriminator_optimizer=None, optimizer=None, **kwargs):
    """One optimiser per player, both built here (call it inside the strategy scope).

    Args:
      discriminator_optimizer: the discriminator's optimiser (default Keras's SGD).
      optimizer: the generator's (`self.optimizer`).
      **kwargs: `keras.Model.compile` arguments. Under "mixed_float16" both optimisers get
        a `LossScaleOptimizer`.
    """
    super().compile(optimizer=optimizer or keras.optimizers.SGD(), **kwargs)
    discriminator_optimizer = keras.optimizers.get(discriminator_optimizer or "sgd")
    if (kwargs.get("auto_scale_loss", True) and self.dtype_policy.name == "mixed_float16"
        and not isinstance(discriminator_optimizer, keras.optimizers.LossScaleOptimizer)):
      discriminator_optimizer = keras.optimizers.LossScaleOptimizer(
          discriminator_optimizer, name="discriminator_loss_scale_optimizer")
    self.discriminator_optimizer = discriminator_optimizer
    if not self.built:
      self.build()
    self.optimizer.build(self.generator_variables)
    self.discriminator_optimizer.build(self.discriminator_variables)

  def step_seed(self, offset=0):
    """A shape-[2] stateless seed for this step (distinct per replica and `offset`)."""
    step = (tf.cast(self.discriminator_optimizer.iterations, tf.int64)
            if self.discriminator_optimizer is not None else tf.constant(0, tf.int64))
    seed = tf.stack([tf.constant(self.seed * 1000 + offset, tf.int64), step])
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
      seed = tf.random.experimental.stateless_fold_in(seed, context.replica_id_in_sync_group)
    return seed

  def player_step(self, loss_fn, variables, optimizer):
    """One optimiser step of one player: only `variables` are watched and updated.

    `loss_fn()` returns `(loss, outputs)`, the loss averaged over this replica's batch;
    returns `outputs`. `tfgen.train.gradient_step` divides the loss by the number of
    replicas (Keras sums gradients over replicas, PITFALLS.md) and, in the trainer's
    multi-replica XLA mode, compiles the player's gradient computation per replica.
    """
    return gradient_step.gradient_step(self, loss_fn, variables, optimizer)

  # ------------------------------------------------------------------ losses

  @staticmethod
  def discriminator_loss(logits, labels):
    """Binary cross-entropy, mean over the batch: `-log Bernoulli(logits).prob(labels)`."""
    return -ops.mean(tfd.Bernoulli(logits=logits, dtype=tf.float32).log_prob(labels))

  @staticmethod
  def non_saturating_generator_loss(fake_logits):
    """G's loss `-mean log D(G(z))` (eq. 4.1's non-saturating form; targets 1)."""
    return -ops.mean(tfd.Bernoulli(logits=fake_logits, dtype=tf.float32).log_prob(1.0))
