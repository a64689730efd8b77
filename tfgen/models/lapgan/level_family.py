"""One LAPGAN level's entry in the model-family registry ("lapgan_level"; see family.py)."""

from tfgen.models.lapgan import family

FAMILY = family.LEVEL_FAMILY
