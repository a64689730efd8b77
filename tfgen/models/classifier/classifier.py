"""tfgen's shared classifier: the feature space of FID/KID/nearest neighbours and scores."""

import keras
import tensorflow as tf

from tfgen.train import gradient_step

ARCHITECTURES = ("conv", "mlp", "frames_conv")


@keras.saving.register_keras_serializable(package="tfgen")
class Classifier(keras.Model):
  """A small classifier whose penultimate layer gives the evaluation features.

  One model, three architectures (`architecture=`):

  - "conv": images `(batch, H, W, C)` (MNIST digits 28x28x1, CIFAR-10 32x32x3). Per width
    f of `filters`: conv 3x3 f -> BN -> leaky ReLU -> conv 3x3 stride 2 f -> BN -> leaky
    ReLU; then flatten -> dense `hidden_units` -> BN -> leaky ReLU (the **features**) ->
    dropout -> dense `num_classes` (logits). For FID/KID and nearest neighbours in a
    feature space (LAPGAN thesis Fig. 4.11; LAPGAN evaluation issue).
  - "mlp": vectors `(batch, d)`: `num_hidden_layers` x [dense `hidden_units` -> BN -> leaky
    ReLU -> dropout] -> dense `num_classes`: DrNET's Table 5.1 classifier on h_c or h_p
    (thesis §5.2.2: "two layer fully connected network with 256 hidden units, leaky ReLU,
    batch norm and dropout"; `hidden_units=256, num_hidden_layers=1`).
  - "frames_conv": clips `(batch, T, H, W, C)`, the T frames stacked on the channel axis
    `(batch, H, W, T * C)`, then the "conv" network: DrNET's KTH action classifier on 10
    stacked frames (thesis eq. 5.8-5.9, 6 classes).

  Args:
    architecture: one of `ARCHITECTURES`.
    num_classes: int, number of classes (10 digits / CIFAR classes; 6 KTH actions).
    example_shape: tuple, the shape of one example without the batch, e.g. (28, 28, 1),
      (256,) or (10, 64, 64, 1).
    filters: tuple of ints, conv widths, one stride-2 stage each (conv architectures).
    hidden_units: int, width of the feature layer (and of every MLP hidden layer).
    num_hidden_layers: int, MLP hidden layers ("mlp" only; conv nets have one).
    dropout: float, dropout rate before each dense layer that follows a hidden layer.
    Batch norm keeps its moving statistics with momentum 0.9 (Torch's 0.1), so a short
    run's inference mode is usable.
    leaky_relu_slope: float, negative slope of the leaky ReLUs.

  Call arguments:
    inputs: a batch of examples of `example_shape`.
    training: bool, batch norm and dropout in training mode.

  Returns:
    `(batch, num_classes)` float32 logits. `features(inputs)` gives the
    `(batch, hidden_units)` penultimate activations and `logits(features)` the logits
    from them.
  """

  def __init__(self, architecture="conv", num_classes=10, example_shape=(28, 28, 1),
               filters=(32, 64), hidden_units=128, num_hidden_layers=1, dropout=0.5,
               leaky_relu_slope=0.2, **kwargs):
    super().__init__(**kwargs)
    if architecture not in ARCHITECTURES:
      raise ValueError(f"Unknown architecture {architecture!r}; valid: "
                       f"{', '.join(ARCHITECTURES)}.")
    expected_rank = {"conv": 3, "mlp": 1, "frames_conv": 4}[architecture]
    if len(example_shape) != expected_rank:
      raise ValueError(f"architecture {architecture!r} takes examples of rank "
                       f"{expected_rank}; got example_shape {tuple(example_shape)}.")
    if num_classes < 2:
      raise ValueError(f"num_classes must be at least 2; got {num_classes}.")
    self.architecture = architecture
    self.num_classes = int(num_classes)
    self.example_shape = tuple(int(s) for s in example_shape)
    self.filters = tuple(int(f) for f in filters)
    self.hidden_units = int(hidden_units)
    self.num_hidden_layers = int(num_hidden_layers)
    self.dropout = float(dropout)
    self.leaky_relu_slope = float(leaky_relu_slope)

    def hidden_block(name):
      return [keras.layers.Dense(self.hidden_units, name=f"{name}_dense"),
              keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn"),
              keras.layers.LeakyReLU(self.leaky_relu_slope, name=f"{name}_lrelu")]

    body = []
    if architecture == "mlp":
      for i in range(self.num_hidden_layers):
        if i:
          body.append(keras.layers.Dropout(self.dropout, name=f"dropout{i}"))
        body += hidden_block(f"hidden{i + 1}")
    else:
      for i, width in enumerate(self.filters):
        for j, strides in enumerate((1, 2)):
          name = f"conv{i + 1}_{j + 1}"
          body += [keras.layers.Conv2D(width, 3, strides=strides, padding="same", name=name),
                   keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn"),
                   keras.layers.LeakyReLU(self.leaky_relu_slope, name=f"{name}_lrelu")]
      body.append(keras.layers.Flatten(name="flatten"))
      body += hidden_block("hidden")
    self.feature_net = keras.Sequential(body, name="features")
    self.head = keras.Sequential(
        [keras.layers.Dropout(self.dropout, name="dropout"),
         keras.layers.Dense(self.num_classes, name="logits", dtype="float32")], name="head")
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.accuracy_tracker = keras.metrics.Mean(name="accuracy")

  # ------------------------------------------------------------------ structure

  def submodules_by_name(self):
    """The feature network and the classification head (summaries and tests)."""
    return {"features": self.feature_net, "head": self.head}

  def optimizers_by_name(self):
    return {"optimizer": self.optimizer}

  def _network_input_shape(self):
    if self.architecture == "frames_conv":
      time, height, width, channels = self.example_shape
      return (None, height, width, time * channels)
    return (None,) + self.example_shape

  def build(self, input_shape=None):
    """Creates every variable for examples of `example_shape`."""
    self.feature_net.build(self._network_input_shape())
    self.head.build((None, self.hidden_units))
    self.built = True

  # ------------------------------------------------------------------ forward

  def _network_input(self, inputs):
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank is not None and tuple(inputs.shape[1:]) != self.example_shape:
      raise ValueError(f"Classifier expects examples of shape {self.example_shape}; got a "
                       f"batch of shape {tuple(inputs.shape)}.")
    if self.architecture == "frames_conv":
      # (B, T, H, W, C) -> (B, H, W, T, C) -> (B, H, W, T * C): frames stacked as channels.
      time, height, width, channels = self.example_shape
      inputs = tf.reshape(tf.transpose(inputs, (0, 2, 3, 1, 4)),
                          (-1, height, width, time * channels))
    return inputs

  def features(self, inputs, training=False):
    """`(batch, hidden_units)`: the penultimate activations, the evaluation features."""
    return self.feature_net(self._network_input(inputs), training=training)

  def logits(self, features, training=False):
    """`(batch, num_classes)` float32 logits from `features`."""
    return self.head(features, training=training)

  def call(self, inputs, training=None):
    return self.logits(self.features(inputs, training=training), training=training)

  # ------------------------------------------------------------------ training

  @staticmethod
  def unpack(data):
    """`(inputs, labels)` from a batch: `(x, y)` or the image sets' `{"image", "label"}`."""
    if isinstance(data, dict):
      return data["image"], data["label"]
    inputs, labels = data[0], data[1]
    return inputs, labels

  def compute_terms(self, inputs, labels, training):
    """`{"loss": mean cross-entropy, "accuracy": fraction correct}` of one batch."""
    logits = self(inputs, training=training)
    labels = tf.cast(labels, tf.int32)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                   logits=logits)
    correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels),
                      tf.float32)
    return {"loss": tf.reduce_mean(cross_entropy), "accuracy": tf.reduce_mean(correct)}

  @property
  def metrics(self):
    return [self.loss_tracker, self.accuracy_tracker]

  def _update_trackers(self, terms):
    self.loss_tracker.update_state(terms["loss"])
    self.accuracy_tracker.update_state(terms["accuracy"])
    return {m.name: m.result() for m in self.metrics}

  def train_step(self, data):
    inputs, labels = self.unpack(data)

    def loss_fn():
      terms = self.compute_terms(inputs, labels, training=True)
      return terms["loss"], terms

    terms = gradient_step.gradient_step(self, loss_fn, self.trainable_variables,
                                        self.optimizer)
    return self._update_trackers(terms)

  def test_step(self, data):
    inputs, labels = self.unpack(data)
    return self._update_trackers(self.compute_terms(inputs, labels, training=False))

  def get_config(self):
    config = super().get_config()
    config.update(architecture=self.architecture, num_classes=self.num_classes,
                  example_shape=self.example_shape, filters=self.filters,
                  hidden_units=self.hidden_units, num_hidden_layers=self.num_hidden_layers,
                  dropout=self.dropout, leaky_relu_slope=self.leaky_relu_slope)
    return config
