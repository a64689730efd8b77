"""DrNET scene discriminator: do two pose vectors come from the same clip?"""

import keras

from tfgen.layers import common


@keras.saving.register_keras_serializable(package="tfgen")
class SceneDiscriminator(keras.layers.Layer):
  """MLP on a pair of pose vectors -> one logit.

  `concat([pose_1, pose_2])` (first pose first, drnet-py's `torch.cat([h1, h2], 1)`) ->
  `num_hidden_layers` x [dense `hidden_units` -> ReLU] -> dense 1. drnet-py ends with a
  sigmoid; this layer returns the logit, so losses and `tfd.Bernoulli(logits=...)` stay
  numerically stable. The output is kept in float32 (a distribution parameter).

  Args:
    hidden_units: int, width of the hidden layers (drnet-py `--sd_nf`, 100; the class
      default of 512 in `models/classifiers.py` is never used).
    num_hidden_layers: int, hidden layers (2 in drnet-py and the thesis).

  Call arguments:
    inputs: `(pose_1, pose_2)`, each `(batch, pose_dim)`.

  Returns:
    `(batch,)` float32 logits of "same clip" / "different clip" (which one is 1 is the
    training loss's convention, see `DrNet`).

  References:
    Denton & Birodkar, "Unsupervised learning of disentangled representations from
    video", NIPS 2017, §3 (eq. 3, 4); edenton/drnet-py `models/classifiers.py`.
  """

  def __init__(self, hidden_units=100, num_hidden_layers=2, **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = hidden_units
    self.num_hidden_layers = num_hidden_layers
    self.hidden = [common.dense(hidden_units, name=f"dense{i + 1}")
                   for i in range(num_hidden_layers)]
    self.out = common.dense(1, name="out", dtype="float32")

  def build(self, input_shape):
    shape = (input_shape[0][0], input_shape[0][-1] + input_shape[1][-1])
    for layer in self.hidden:
      layer.build(shape)
      shape = (shape[0], layer.units)
    self.out.build(shape)
    self.built = True

  def call(self, inputs):
    pose_1, pose_2 = inputs
    x = keras.ops.concatenate([pose_1, pose_2], axis=-1)  # (batch, 2 * pose_dim)
    for layer in self.hidden:
      x = keras.ops.relu(layer(x))
    return keras.ops.squeeze(self.out(x), axis=-1)  # (batch, 1) -> (batch,)

  def get_config(self):
    config = super().get_config()
    config.update(hidden_units=self.hidden_units, num_hidden_layers=self.num_hidden_layers)
    return config
