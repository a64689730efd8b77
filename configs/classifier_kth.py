"""tfgen's shared classifier on KTH clips of 10 frames: DrNET's KTH score (thesis eq. 5.8-5.9).

"We first train a classifier network to accurately predict the action class of a video from
a sequence of 10 frames. We employ a convolutional network classification architecture
where the video frames are concatenated as input to the first layer" (thesis §5.3.3). The
thesis gives no other detail; this network is tfgen's choice.

Run (KTH prepared first: `python -m tfgen.bin.prepare --dataset=kth ...`; 20,000 steps at
batch 32; not measured on 2 CPU cores):

  python -m tfgen.bin.train --model=classifier --dataset=kth --workdir=/tmp/classifier_kth \
      --data_dir=/path/to/kth_64

then score prediction runs with it (`python -m tfgen.bin.kth_score`).

Quick variant (narrow, 50 steps at batch 8; it checks that everything runs):

  python -m tfgen.bin.train --model=classifier --dataset=kth --workdir=/tmp/kth_cls_quick \
      --data_dir=/path/to/kth_64 --quick

Model (`tfgen.models.classifier.Classifier`, architecture "frames_conv"): the 10 grey
64x64 frames stacked as 10 channels, then three stages of [conv 3x3 -> BN -> leaky ReLU ->
conv 3x3 stride 2 -> BN -> leaky ReLU] of 32, 64, 128 filters, dense 256 -> BN -> leaky
ReLU (the features), dropout 0.5, 6 logits (boxing, handclapping, handwaving, jogging,
running, walking). Adam lr 1e-3.

Data: labelled clips of the KTH training persons (1-16), the training stream of
`tfgen.data.kth` with each clip's action
(`tfgen.models.classifier.labelled_data.kth_train_stream`); accuracy on the test persons
with `tfgen.models.drnet.kth_score.classifier_accuracy`.
"""

import ml_collections


def get_config(variant=None):
  """Returns the config; `variant` "quick" (seconds on a CPU) or None."""
  config = ml_collections.ConfigDict()
  config.model_name = "classifier"
  config.model = ml_collections.ConfigDict(dict(
      name="classifier",
      architecture="frames_conv",
      num_classes=6,
      example_shape=[10, 64, 64, 1],
      filters=[32, 64, 128],
      hidden_units=256,
      num_hidden_layers=1,
      dropout=0.5,
      leaky_relu_slope=0.2,
  ))
  config.data = ml_collections.ConfigDict(dict(
      name="kth",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      num_frames=10,
      options=ml_collections.ConfigDict(dict(image_size=64)),
  ))
  config.train = ml_collections.ConfigDict(dict(
      batch_size=32,
      steps=20000,
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
    config.train.update(dict(batch_size=8, steps=50, log_every=10, checkpoint_every=50))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
