"""The AE-LSTM baseline ("ae_lstm") in the model-family registry (`tfgen.models.factory`).

Trained, pictured, evaluated and exported by the same commands as DrNET's pose LSTM, in
one training run (`tfgen.models.drnet.ae_lstm.AELSTM`).
"""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.drnet.ae_lstm import AELSTM  # pylint: disable=g-import-not-at-top
  return AELSTM(**fields)






FAMILY = factory.ModelFamily(
    build=_build, compile=factory.compile_with_one_optimizer, check_data=factory.check_clip_length,
    signatures="tfgen.models.drnet.pose_lstm_signatures",
    samples="tfgen.models.drnet.prediction_pictures")
