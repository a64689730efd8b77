"""Maps a `config.model` to a model instance (the model never reads the config itself)."""

MODEL_FAMILIES = ("svg",)


def build_model(model_config):
  """Builds the model named by `model_config.name` from the rest of its fields."""
  fields = dict(model_config)
  family = fields.pop("name")
  if family == "svg":
    from tfgen.models.svg.svg import SVG
    return SVG(**fields)
  raise ValueError(f"Unknown model family {family!r}; valid: {', '.join(MODEL_FAMILIES)}.")
