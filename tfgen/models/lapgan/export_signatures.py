"""Serving signatures of `LAPGAN` (the exporter's "lapgan" signature provider).

Every signature samples coarse to fine (eq. 4.7) with stateless random ops keyed by
`seed` (the same seed gives the same images), and returns `images` float32
`(batch, size, size, channels)` in [0, 1] (the z-scoring undone with the training
statistics the model carries, clipped), size and channels the finest level's. The graph
holds core TensorFlow ops only: it loads without tfgen, Keras or TensorFlow Probability.

* `serving_default`: `num_samples` int32 scalar > 0, `seed` int64 `[2]`. A
  class-conditional model draws the classes from the seed and also returns `labels`
  int32 `(batch,)`.
* `from_coarse`: `coarse` float32 `(batch, coarse_size, coarse_size, channels)` in [0, 1],
  images of the coarsest level's size to start from (instead of G_K's samples); `seed`;
  and, for class-conditional models, `labels` int32 `(batch,)` in [0, num_classes).
* `with_labels` (class-conditional models only): `labels` int32 `(batch,)`, `seed`.

Inputs are declared with unknown rank and checked in the graph
(`tfgen.export.input_checks`): a bad shape, range or dtype raises `InvalidArgumentError`
naming the input and what was expected.
"""

import numpy as np
import tensorflow as tf

from tfgen.export import input_checks

SERVING_DEFAULT = "serving_default"
FROM_COARSE = "from_coarse"
WITH_LABELS = "with_labels"


def input_specs(model):
  """`{signature_name: {input_name: tf.TensorSpec}}` with the full shapes checked."""
  seed = tf.TensorSpec((2,), tf.int64)
  labels = tf.TensorSpec((None,), tf.int32)
  coarse_size = model.sizes[-1]
  specs = {SERVING_DEFAULT: {"num_samples": tf.TensorSpec((), tf.int32), "seed": seed},
           FROM_COARSE: {"coarse": tf.TensorSpec((None, coarse_size, coarse_size,
                                                  model.channels), tf.float32),
                         "seed": seed}}
  if model.num_classes:
    specs[FROM_COARSE]["labels"] = labels
    specs[WITH_LABELS] = {"labels": labels, "seed": seed}
  return specs


def _checked_labels(labels, spec, num_classes, batch=None):
  labels = input_checks.checked(labels, "labels", spec)
  valid = tf.reduce_all((labels >= 0) & (labels < num_classes))
  labels = input_checks.checked_value(
      valid, f"labels: expected classes in [0, {num_classes}); got min and max",
      [tf.reduce_min(labels), tf.reduce_max(labels)], labels, lambda: tf.zeros_like(labels))
  if batch is not None:
    labels = input_checks.checked_value(
        tf.equal(tf.shape(labels)[0], batch),
        "labels: expected one label per coarse image; got the sizes of labels and coarse",
        [tf.shape(labels)[0], batch], labels, lambda: tf.zeros([batch], tf.int32))
  return labels


def signatures(model):
  """The serving signatures of a built, trained `LAPGAN` (module docstring)."""
  specs = input_specs(model)

  def output(images, labels=None):
    result = {"images": tf.identity(tf.cast(model.to_display(images), tf.float32),
                                    name="images")}
    if labels is not None:
      result["labels"] = tf.identity(tf.cast(labels, tf.int32), name="labels")
    return result

  default_specs = specs[SERVING_DEFAULT]

  @tf.function(input_signature=input_checks.unknown_rank(default_specs))
  def serving_default(num_samples, seed):
    num_samples = input_checks.checked_count(num_samples, "num_samples",
                                             default_specs["num_samples"])
    seed = input_checks.checked(seed, "seed", default_specs["seed"])
    labels = model.random_labels(num_samples, seed) if model.num_classes else None
    return output(model.sample(num_samples, seed, labels=labels), labels)

  coarse_specs = specs[FROM_COARSE]

  def from_coarse_fn(coarse, seed, labels=None):
    coarse = input_checks.checked_frames(coarse, "coarse", coarse_specs["coarse"])
    seed = input_checks.checked(seed, "seed", coarse_specs["seed"])
    batch = tf.shape(coarse)[0]
    if labels is not None:
      labels = _checked_labels(labels, coarse_specs["labels"], model.num_classes, batch)
    images = model.sample(batch, seed, labels=labels, coarse=model.from_display(coarse))
    return output(images)

  if model.num_classes:
    from_coarse = tf.function(from_coarse_fn,
                              input_signature=input_checks.unknown_rank(coarse_specs))
    label_specs = specs[WITH_LABELS]

    @tf.function(input_signature=input_checks.unknown_rank(label_specs))
    def with_labels(labels, seed):
      labels = _checked_labels(labels, label_specs["labels"], model.num_classes)
      seed = input_checks.checked(seed, "seed", label_specs["seed"])
      return output(model.sample(tf.shape(labels)[0], seed, labels=labels))

    return {SERVING_DEFAULT: serving_default, FROM_COARSE: from_coarse,
            WITH_LABELS: with_labels}
  from_coarse = tf.function(lambda coarse, seed: from_coarse_fn(coarse, seed),
                            input_signature=input_checks.unknown_rank(coarse_specs))
  return {SERVING_DEFAULT: serving_default, FROM_COARSE: from_coarse}


def example_inputs(model, batch_size=2, seed=(1, 2)):
  """Valid inputs of every signature (warm-up requests, REST examples, tests)."""
  rng = np.random.default_rng(0)
  seed = np.asarray(seed, np.int64)
  size = model.sizes[-1]
  examples = {SERVING_DEFAULT: {"num_samples": np.asarray(batch_size, np.int32),
                                "seed": seed},
              FROM_COARSE: {"coarse": rng.uniform(size=(batch_size, size, size,
                                                        model.channels)).astype(np.float32),
                            "seed": seed}}
  if model.num_classes:
    labels = (np.arange(batch_size) % model.num_classes).astype(np.int32)
    examples[FROM_COARSE]["labels"] = labels
    examples[WITH_LABELS] = {"labels": labels, "seed": seed}
  return examples
