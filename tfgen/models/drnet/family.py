"""DrNET's entry in the model-family registry (`tfgen.models.factory`)."""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.drnet.drnet import DrNet  # pylint: disable=g-import-not-at-top
  return DrNet(**fields)


def _compile(model, train_config):
  # One optimiser per player, both from config.train (drnet-py: Adam lr 0.002, betas
  # (0.5, 0.999), eps 1e-8 for every network); DrNet.compile builds both.
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(discriminator_optimizer=optimizers.make_optimizer(train_config),
                optimizer=optimizers.make_optimizer(train_config))


def _check_data(config):
  from tfgen.models.drnet import frame_sampling  # pylint: disable=g-import-not-at-top
  data = config.data
  frame_sampling.check(data.get("frame_sampling", None), data.num_frames,
                       data.get("max_offset", None))


def _training_data(dataset, config, start_index):
  from tfgen.models.drnet import frame_sampling  # pylint: disable=g-import-not-at-top
  data = config.data
  return frame_sampling.sample_frames(
      dataset, data.frame_sampling, batch_size=config.train.batch_size,
      num_frames=data.num_frames, seed=config.train.seed, start_index=start_index,
      max_offset=data.get("max_offset", None))


FAMILY = factory.ModelFamily(
    build=_build, compile=_compile, check_data=_check_data, training_data=_training_data,
    signatures="tfgen.models.drnet.export_signatures",
    samples="tfgen.models.drnet.sample_pictures")
