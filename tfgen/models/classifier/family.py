"""The shared classifier's entry in the model-family registry (`tfgen.models.factory`).

`python -m tfgen.bin.train --model=classifier --dataset=mnist_digits` trains the image
classifier of `configs/classifier_mnist_digits.py` through the one trainer; its features
serve FID/KID/nearest neighbours (`tfgen.evaluation.feature_distances`) and its logits the
classifier score. No pictures: the model has no `picture_rows`.
"""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.classifier.classifier import Classifier  # pylint: disable=g-import-not-at-top
  return Classifier(**fields)


def _compile(model, train_config):
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(optimizer=optimizers.make_optimizer(train_config))
  model.optimizer.build(model.trainable_variables)


def _check_data(config):
  """The trainer feeds image sets to the "conv" architecture (the others: `fit` for now)."""
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  model, data = config.model, config.data
  if model.architecture != "conv":
    raise ValueError(f"The trainer feeds the classifier from labelled image data sets only "
                     f"(architecture 'conv'); no labelled stream of vectors or clips is "
                     f"registered for architecture {model.architecture!r} yet: train it with "
                     "`Classifier.fit` on (inputs, labels) batches.")
  kind = registry.kind(data.name)
  if kind != "image" or data.get("num_frames", None) is not None:
    raise ValueError(f"The 'conv' classifier trains on image data sets with "
                     f"config.data.num_frames None; got {data.name!r} ({kind}) with "
                     f"num_frames {data.get('num_frames', None)}.")


def _training_data(dataset, config, start_index):
  del config, start_index
  # {"image", "label"} -> (image, label): what `Classifier.train_step` takes either way.
  return dataset.map(lambda batch: (batch["image"], batch["label"]))


FAMILY = factory.ModelFamily(build=_build, compile=_compile, check_data=_check_data,
                             training_data=_training_data)
