"""Finds, loads, overrides and round-trips the `configs/<model>_<dataset>.py` files."""

import ast
import importlib
import json
import pkgutil

import ml_collections

import configs
from tfgen.data import registry


def available():
  """Returns {model_name: [dataset, ...]} for every config file in `configs/`."""
  datasets = registry.names()
  found = {}
  for module in pkgutil.iter_modules(configs.__path__):
    for dataset in datasets:
      suffix = "_" + dataset
      if module.name.endswith(suffix):
        found.setdefault(module.name[:-len(suffix)], []).append(dataset)
  return {model: sorted(ds) for model, ds in sorted(found.items())}


def load(model, dataset, variant=None):
  """Loads `configs/<model>_<dataset>.py`; unknown names raise `ValueError` listing valid ones."""
  table = available()
  if model not in table:
    raise ValueError(f"Unknown model {model!r}; valid models: {', '.join(table)}.")
  valid_datasets = registry.names()
  if dataset not in valid_datasets:
    raise ValueError(
        f"Unknown dataset {dataset!r}; valid datasets: {', '.join(valid_datasets)}.")
  if dataset not in table[model]:
    raise ValueError(f"No config for model {model!r} on dataset {dataset!r}; "
                     f"{model} has configs for: {', '.join(table[model])}.")
  module = importlib.import_module(f"configs.{model}_{dataset}")
  return module.get_config(variant)


def _parse_value(text):
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text  # A bare string such as `--config.model.prior=fixed`.


def apply_overrides(config, overrides):
  """Applies `["a.b=value", ...]` in place; unknown fields or wrong types raise `ValueError`."""
  for override in overrides:
    if "=" not in override:
      raise ValueError(f"Bad config override {override!r}: expected <field>=<value>, "
                       "e.g. model.z_dim=16.")
    path, text = override.split("=", 1)
    *parents, leaf = path.split(".")
    node = config
    for i, name in enumerate(parents):
      if not isinstance(node, ml_collections.ConfigDict) or name not in node:
        raise ValueError(f"Bad config override {override!r}: no field "
                         f"{'.'.join(parents[:i + 1])!r} in the config.")
      node = node[name]
    if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
      valid = ", ".join(sorted(node.keys())) if isinstance(node, ml_collections.ConfigDict) else ""
      raise ValueError(f"Bad config override {override!r}: no field {path!r} in the config "
                       f"(fields here: {valid}).")
    value = _parse_value(text)
    current = node[leaf]
    if isinstance(current, ml_collections.ConfigDict):
      raise ValueError(f"Bad config override {override!r}: {path!r} is a group, set its fields.")
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
      value = float(value)
    if _field_type(node, leaf) is object:
      pass  # A field that takes several kinds of value (e.g. jit_compile: "auto" or a bool).
    elif current is not None and value is not None and type(value) is not type(current):
      if not (isinstance(current, str) and not isinstance(value, str)):
        raise ValueError(f"Bad config override {override!r}: {path!r} is a "
                         f"{type(current).__name__}, got {value!r}.")
      value = text
    try:
      node[leaf] = value
    except TypeError as e:
      raise ValueError(f"Bad config override {override!r}: {e}") from e
  return config


def _field_type(node, leaf):
  try:
    return node.get_ref(leaf).get_type()
  except (AttributeError, KeyError, TypeError, ValueError):
    return None


def to_json(config):
  return json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n"


def from_json(text):
  return ml_collections.ConfigDict(json.loads(text))
