"""SVG's entry in the model-family registry (`tfgen.models.factory`)."""

from tfgen.models import factory


def _build(**fields):
  from tfgen.models.svg.svg import SVG  # pylint: disable=g-import-not-at-top
  return SVG(**fields)






FAMILY = factory.ModelFamily(
    build=_build, compile=factory.compile_with_one_optimizer, check_data=factory.check_clip_length,
    signatures="tfgen.models.svg.export_signatures",
    samples="tfgen.models.svg.sample_pictures")
