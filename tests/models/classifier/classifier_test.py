"""Tests of the shared classifier: the three architectures, features, fit, serialisation."""

import keras
import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.models.classifier import classifier as classifier_lib

# Different sizes on every axis: batch 6, height 12, width 8, channels 2, 3 frames, 5 classes.
BATCH, HEIGHT, WIDTH, CHANNELS, FRAMES, CLASSES = 6, 12, 8, 2, 3, 5
TINY = dict(num_classes=CLASSES, filters=(4, 6), hidden_units=7, dropout=0.25)
SHAPES = {"conv": (HEIGHT, WIDTH, CHANNELS), "mlp": (9,),
          "frames_conv": (FRAMES, HEIGHT, WIDTH, CHANNELS)}


def tiny(architecture, **kwargs):
  model = classifier_lib.Classifier(architecture=architecture,
                                    example_shape=SHAPES[architecture], **{**TINY, **kwargs})
  model.build()
  return model


def inputs(architecture, batch=BATCH, seed=0):
  return np.random.default_rng(seed).random((batch,) + SHAPES[architecture]).astype("float32")


def learnable(architecture, n=60, seed=1):
  """Inputs whose class is which fifth of the values is brightest: learnable by every net."""
  rng = np.random.default_rng(seed)
  x = 0.2 * rng.random((n,) + SHAPES[architecture]).astype("float32")
  labels = rng.integers(0, CLASSES, n).astype("int32")
  flat = x.reshape(n, -1)
  parts = np.array_split(np.arange(flat.shape[1]), CLASSES)
  for i, label in enumerate(labels):
    flat[i, parts[label]] += 0.8
  return flat.reshape(x.shape), labels


class ClassifierTest(test_case.TestCase):

  @test_case.parameterized.parameters("conv", "mlp", "frames_conv")
  def test_shapes(self, architecture):
    model = tiny(architecture)
    x = inputs(architecture)
    logits = model(x, training=False)
    self.assertEqual(logits.shape, (BATCH, CLASSES))
    self.assertEqual(logits.dtype, tf.float32)
    features = model.features(x)
    self.assertEqual(features.shape, (BATCH, 7))
    self.assertAllClose(model.logits(features), logits, atol=1e-6)
    self.assertEqual(set(model.submodules_by_name()), {"features", "head"})

  def test_parameter_counts(self):
    # conv: 3x3 convs with biases and BN (gamma, beta) per stage, dense 7 on the 3x2x6
    # map left after two stride-2 stages (12x8 -> 6x4 -> 3x2), BN, head 7 -> 5.
    conv = tiny("conv")
    convs = [(2, 4), (4, 4), (4, 6), (6, 6)]
    expected = sum(9 * i * o + o + 2 * o for i, o in convs) + (3 * 2 * 6 * 7 + 7 + 2 * 7)
    self.assertEqual(test_case.count_parameters(conv.feature_net), expected)
    self.assertEqual(test_case.count_parameters(conv.head), 7 * 5 + 5)
    # DrNET Table 5.1's MLP: 256 -> BN -> leaky ReLU -> dropout -> classes, on |h_c| 128.
    mlp = classifier_lib.Classifier("mlp", num_classes=10, example_shape=(128,),
                                    hidden_units=256)
    mlp.build()
    self.assertEqual(test_case.count_parameters(mlp), 128 * 256 + 256 + 2 * 256 + 2570)
    # frames_conv: the first conv reads frames x channels = 6 input channels.
    frames = tiny("frames_conv")
    self.assertEqual(frames.feature_net.layers[0].kernel.shape, (3, 3, FRAMES * CHANNELS, 4))

  def test_frames_are_stacked_time_major_on_channels(self):
    frames = tiny("frames_conv")
    stacked = classifier_lib.Classifier("conv", example_shape=(HEIGHT, WIDTH, FRAMES * CHANNELS),
                                        **TINY)
    stacked.build()
    stacked.set_weights(frames.get_weights())
    clip = inputs("frames_conv")
    # (B, T, H, W, C) -> (B, H, W, [t0c0, t0c1, t1c0, ...]).
    by_hand = np.concatenate([clip[:, t] for t in range(FRAMES)], axis=-1)
    self.assertAllClose(frames(clip, training=False), stacked(by_hand, training=False),
                        atol=1e-5)

  @test_case.parameterized.parameters("conv", "mlp", "frames_conv")
  def test_fit_learns(self, architecture):
    model = tiny(architecture, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    x, y = learnable(architecture)
    history = model.fit(x, y, batch_size=20, epochs=15, verbose=0, shuffle=False)
    self.assertLess(history.history["loss"][-1], history.history["loss"][0])
    predictions = np.argmax(model.predict(x, batch_size=60, verbose=0), axis=-1)
    self.assertGreater(np.mean(predictions == y), 0.8)

  def test_accuracy_metric_and_dict_batches(self):
    model = tiny("conv")
    model.compile(optimizer="adam")
    x = inputs("conv")
    logits = model(x, training=False).numpy()
    labels = np.array([0, 1, 2, 3, 4, 0], np.int32)
    results = model.test_step({"image": tf.constant(x), "label": tf.constant(labels)})
    self.assertAllClose(results["accuracy"], np.mean(logits.argmax(-1) == labels))
    expected_loss = np.mean(-tf.nn.log_softmax(logits).numpy()[np.arange(6), labels])
    self.assertAllClose(results["loss"], expected_loss, atol=1e-5)

  def test_round_trips(self):
    model = tiny("frames_conv")
    self.run_config_round_trip(model)
    self.run_serialization_round_trip(model)
    self.run_save_load(model, inputs("frames_conv"))

  @test_case.parameterized.named_parameters(
      ("architecture", dict(architecture="resnet", example_shape=(4, 4, 1)),
       "Unknown architecture"),
      ("rank", dict(architecture="mlp", example_shape=(4, 4, 1)), "rank 1"),
      ("classes", dict(architecture="mlp", example_shape=(4,), num_classes=1), "at least 2"),
  )
  def test_bad_arguments(self, kwargs, message):
    with self.assertRaisesRegex(ValueError, message):
      classifier_lib.Classifier(**kwargs)

  def test_wrong_input_shape(self):
    with self.assertRaisesRegex(ValueError, r"expects examples of shape \(12, 8, 2\)"):
      tiny("conv")(np.zeros((2, 8, 12, 2), np.float32))


if __name__ == "__main__":
  tf.test.main()
