"""The shared classifier's entry in the model-family registry (`tfgen.models.factory`).

`python -m tfgen.bin.train --model=classifier --dataset=mnist_digits` trains the image
classifier of `configs/classifier_mnist_digits.py` through the one trainer; its features
serve FID/KID/nearest neighbours (`tfgen.evaluation.feature_distances`) and its logits the
classifier score. No pictures: the model has no `picture_rows`.

`python -m tfgen.bin.train --model=classifier --dataset=kth` trains the "frames_conv"
action classifier of DrNET's KTH score (`configs/classifier_kth.py`, thesis eq. 5.8-5.9) on
labelled clips of prepared KTH (`tfgen.models.classifier.labelled_data.kth_train_stream`:
the KTH training stream with each clip's action).
"""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.classifier.classifier import Classifier  # pylint: disable=g-import-not-at-top
  return Classifier(**fields)




# Data sets whose labelled clips the trainer feeds to the "frames_conv" architecture.
CLIP_DATASETS = ("kth",)


def _check_clip_data(config):
  model, data = config.model, config.data
  if data.name not in CLIP_DATASETS:
    raise ValueError(f"The 'frames_conv' classifier trains on labelled clips of "
                     f"{', '.join(CLIP_DATASETS)}; got data set {data.name!r}.")
  time, height, width, channels = model.example_shape
  size = dict(data.get("options", {})).get("image_size", 64)
  if (data.num_frames, height, width, channels) != (time, size, size, 1):
    raise ValueError(f"config.model.example_shape {tuple(model.example_shape)} does not "
                     f"match the KTH clips: (num_frames, image_size, image_size, 1) = "
                     f"({data.num_frames}, {size}, {size}, 1).")


def _check_data(config):
  """The trainer feeds image sets to "conv" and labelled KTH clips to "frames_conv"."""
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  model, data = config.model, config.data
  if model.architecture == "frames_conv":
    _check_clip_data(config)
    return
  if model.architecture != "conv":
    raise ValueError(f"The trainer feeds the classifier labelled image data sets "
                     f"(architecture 'conv') and labelled KTH clips ('frames_conv'); no "
                     f"labelled stream of vectors is registered for architecture "
                     f"{model.architecture!r}: classify DrNET's vectors with `python -m "
                     "tfgen.bin.classify_vectors`, or train it with `Classifier.fit` on "
                     "(inputs, labels) batches.")
  kind = registry.kind(data.name)
  if kind != "image" or data.get("num_frames", None) is not None:
    raise ValueError(f"The 'conv' classifier trains on image data sets with "
                     f"config.data.num_frames None; got {data.name!r} ({kind}) with "
                     f"num_frames {data.get('num_frames', None)}.")


def _training_data(dataset, config, start_index):
  if config.model.architecture == "frames_conv":
    # The registered KTH stream has no labels: the labelled twin of the same stream.
    from tfgen.models.classifier import labelled_data  # pylint: disable=g-import-not-at-top
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    data = config.data
    clips = labelled_data.kth_train_stream(data.num_frames, config.train.seed, start_index,
                                           data_dir=data.data_dir,
                                           **dict(data.get("options", {})))
    clips = clips.map(lambda clip, label: (tf.cast(clip, tf.float32) / 255.0, label),
                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return clips.batch(config.train.batch_size, drop_remainder=True).prefetch(
        tf.data.AUTOTUNE)
  del config, start_index
  # {"image", "label"} -> (image, label): what `Classifier.train_step` takes either way.
  return dataset.map(lambda batch: (batch["image"], batch["label"]))


FAMILY = factory.ModelFamily(build=_build, compile=factory.compile_with_one_optimizer,
                             check_data=_check_data,
                             training_data=_training_data)
