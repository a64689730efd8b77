"""The optimisers a config asks for (`config.train`), shared by every model family."""

import keras

OPTIMIZERS = ("adam", "rmsprop", "sgd")


def make_optimizer(train_config):
  """The optimiser of `config.train` (the reference's `--optimizer`: adam, rmsprop, sgd).

  Adam reads `learning_rate`, `beta1`, `beta2` and, when the config has it, `epsilon`
  (torch's default 1e-8, which DrNET's configs set; without the field Keras's 1e-7, what
  the SVG configs have always trained with).
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
  raise ValueError(f"Unknown optimizer {name!r}; valid: {', '.join(OPTIMIZERS)}.")
