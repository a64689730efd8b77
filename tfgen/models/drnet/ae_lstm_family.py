"""The AE-LSTM baseline ("ae_lstm") in the model-family registry (`tfgen.models.factory`).

Trained, pictured, evaluated and exported by the same commands as DrNET's pose LSTM, in
one training run (`tfgen.models.drnet.ae_lstm.AELSTM`).
"""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.drnet.ae_lstm import AELSTM  # pylint: disable=g-import-not-at-top
  return AELSTM(**fields)


def _compile(model, train_config):
  from tfgen.train import optimizers  # pylint: disable=g-import-not-at-top
  model.compile(optimizer=optimizers.make_optimizer(train_config))


def _check_data(config):
  model = config.model
  expected_frames = model.num_context_frames + model.num_future_frames
  if config.data.num_frames != expected_frames:
    raise ValueError(f"config.data.num_frames ({config.data.num_frames}) must equal "
                     f"num_context_frames + num_future_frames ({expected_frames}).")


FAMILY = factory.ModelFamily(
    build=_build, compile=_compile, check_data=_check_data,
    signatures="tfgen.models.drnet.pose_lstm_signatures",
    samples="tfgen.models.drnet.prediction_pictures")
