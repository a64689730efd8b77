"""SVG's entry in the model-family registry (`tfgen.models.factory`)."""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.svg.svg import SVG  # pylint: disable=g-import-not-at-top
  return SVG(**fields)


def _compile(model, train_config):
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(optimizer=optimizers.make_optimizer(train_config))
  # `model.optimizer`: a LossScaleOptimizer under mixed_float16.
  model.optimizer.build(model.trainable_variables)


def _check_data(config):
  expected_frames = config.model.num_context_frames + config.model.num_future_frames
  if config.data.num_frames != expected_frames:
    raise ValueError(f"config.data.num_frames ({config.data.num_frames}) must equal "
                     f"num_context_frames + num_future_frames ({expected_frames}).")


FAMILY = factory.ModelFamily(
    build=_build, compile=_compile, check_data=_check_data,
    signatures="tfgen.models.svg.export_signatures",
    samples="tfgen.models.svg.sample_pictures")
