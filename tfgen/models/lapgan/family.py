"""LAPGAN's entries in the model-family registry (`tfgen.models.factory`).

"lapgan" is the whole pyramid (`LAPGAN`): training it trains its levels, each as its own
trainer run (`tfgen.models.lapgan.training`); its pictures and export signatures sample
coarse to fine. "lapgan_level" is one level (`PyramidLevel`), what the trainer trains.
A plain GAN (the `gan_*` configs) is a one-level "lapgan".
"""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.lapgan.lapgan import LAPGAN  # pylint: disable=g-import-not-at-top
  return LAPGAN(**fields)


def _build_level(**fields):
  from tfgen.models.lapgan.pyramid_level import PyramidLevel  # pylint: disable=g-import-not-at-top
  return PyramidLevel(**fields)


def _compile(model, train_config):
  # Each level has its own optimisers (`_compile_level`); the assembled LAPGAN only samples.
  del model, train_config
  raise ValueError("A LAPGAN is trained level by level (model 'lapgan_level'), not as one "
                   "model: use `tfgen.train.trainer.train`, which trains each level.")


def _compile_level(model, train_config):
  # One optimiser per player, both from config.train (the reference: optim.sgd, lr 0.02,
  # its momentum ramp and learning-rate divisor, for D and for G).
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(discriminator_optimizer=optimizers.make_optimizer(train_config),
                optimizer=optimizers.make_optimizer(train_config))


def _check_data(config):
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  from tfgen.models.lapgan import training  # pylint: disable=g-import-not-at-top
  if config.data.get("num_frames", None) is not None:
    raise ValueError(f"LAPGAN trains on images: config.data.num_frames must be None, got "
                     f"{config.data.num_frames}.")
  kind = registry.kind(config.data.name)
  if kind != "image":
    raise ValueError(f"LAPGAN trains on image data sets; {config.data.name!r} is a {kind} "
                     "data set.")
  if config.train.batch_size < 4 or config.train.batch_size % 4:
    raise ValueError(f"A LAPGAN batch (config.train.batch_size) is split in a D half (real "
                     f"and generated) and a G half: it must be a multiple of 4, got "
                     f"{config.train.batch_size}.")
  training.selected_levels(config)


def _initialize(model, config):
  """Stores the training data's statistics in the level (z-scoring, display)."""
  from tfgen.data import registry  # pylint: disable=g-import-not-at-top
  if model.normalization == "none":
    return
  data = config.data
  mean, std = registry.statistics(data.name, data_dir=data.data_dir, per=model.normalization,
                                  **dict(data.get("options", {})))
  model.set_data_statistics(mean, std)


def _train(config, workdir, strategy=None):
  from tfgen.models.lapgan import training  # pylint: disable=g-import-not-at-top
  _check_data(config)
  return training.train(config, workdir, strategy)


FAMILY = factory.ModelFamily(
    build=_build, compile=_compile, check_data=_check_data, train=_train,
    signatures="tfgen.models.lapgan.export_signatures",
    samples="tfgen.models.lapgan.sample_pictures",
    evaluate="tfgen.models.lapgan.evaluation")

# Registered as "lapgan_level" through `tfgen.models.lapgan.level_family`.
LEVEL_FAMILY = factory.ModelFamily(
    build=_build_level, compile=_compile_level, check_data=_check_data,
    initialize=_initialize)
