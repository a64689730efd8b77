"""Where the stimuli of a human study come from: a registry of source loaders.

A source is named on the command line as `NAME=PATH` or `NAME=LOADER:PATH`. Without a
loader name, the first registered loader whose `accepts(path)` is true reads it:

  image_folder  a folder of PNG/JPEG images (sorted by file name).
  gif_folder    a folder of GIF clips (sorted by file name), each shown as a looping clip.
  npz           a `.npz` file: images `(N, H, W)` / `(N, H, W, C)` or clips
                `(N, T, H, W, C)`, uint8 or float in [0, 1] (the array named `images`,
                `clips`, `samples` or `x`, else the file's only array).

  workdir       a tfgen training work directory (config.json + checkpoints/) of a model
                that samples (`generate`: SVG): per test clip of its data set, the context
                frames followed by one generated future, as a clip (`WORKDIR_ITEMS` clips,
                fixed seed).
  workdir_real  the same test clips as they really are (name it explicitly:
                `real=workdir_real:W`), the real source of a video study.

New kinds plug in with `register_loader`:

    @sources.register_loader("my_samples", accepts=lambda path: path.endswith(".my"))
    def _load_my_samples(path):
      return sources.Stimuli(kind="clip", items=[...])

A loader returns `Stimuli`: `kind` "image" (items `(H, W, 3)` uint8) or "clip" (items
`(T, H, W, 3)` uint8).
"""

import dataclasses
import os
from typing import Callable, List

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
GIF_EXTENSIONS = (".gif",)
NPZ_KEYS = ("images", "clips", "samples", "x")


@dataclasses.dataclass
class Stimuli:
  """What a loader returns: `kind` "image" or "clip" and uint8 RGB `items`."""
  kind: str
  items: List[np.ndarray]

  @property
  def size(self):
    """(height, width) of the first item."""
    return tuple(int(v) for v in self.items[0].shape[-3:-1])


@dataclasses.dataclass
class _Loader:
  name: str
  accepts: Callable[[str], bool]
  load: Callable[[str], Stimuli]


_LOADERS = {}


def register_loader(name, accepts):
  """Decorator registering `load(path) -> Stimuli` under `name` (see the module docstring)."""
  def decorator(load):
    if name in _LOADERS:
      raise ValueError(f"A source loader named {name!r} is already registered.")
    _LOADERS[name] = _Loader(name, accepts, load)
    return load
  return decorator


def available_loaders():
  return list(_LOADERS)


def parse_source_spec(spec):
  """`NAME=PATH` or `NAME=LOADER:PATH` -> (name, loader name or None, path)."""
  name, sep, rest = spec.partition("=")
  if not sep or not name or not rest:
    raise ValueError(f"--source {spec!r}: expected NAME=PATH or NAME=LOADER:PATH, e.g. "
                     "real=/data/cifar_real or lapgan=npz:/runs/lapgan/samples.npz.")
  if not name.replace("_", "").replace("-", "").isalnum():
    raise ValueError(f"--source {spec!r}: the name {name!r} may only hold letters, digits, "
                     "'_' and '-'.")
  loader, sep, path = rest.partition(":")
  if sep and loader in _LOADERS:
    return name, loader, path
  return name, None, rest


def load_source(path, loader=None):
  """Reads the stimuli at `path` with `loader` (a registered name) or the first that accepts."""
  if loader is not None:
    if loader not in _LOADERS:
      raise ValueError(f"Unknown source loader {loader!r}; available: {available_loaders()}.")
    chosen = _LOADERS[loader]
  else:
    if not os.path.exists(path):
      raise FileNotFoundError(f"Source {path!r} does not exist.")
    chosen = next((l for l in _LOADERS.values() if l.accepts(path)), None)
    if chosen is None:
      raise ValueError(f"Source {path!r}: no images (PNG/JPEG), GIF clips or .npz array "
                       f"found; loaders: {available_loaders()}.")
  stimuli = chosen.load(path)
  if not stimuli.items:
    raise ValueError(f"Source {path!r} ({chosen.name}) holds no stimuli.")
  return chosen.name, stimuli


def to_rgb_uint8(array, where):
  """An image `(H, W)`, `(H, W, C)` or clip `(T, H, W, C)` -> uint8 with 3 channels."""
  array = np.asarray(array)
  if array.dtype != np.uint8:
    if not np.issubdtype(array.dtype, np.floating):
      raise ValueError(f"{where}: expected uint8 or float in [0, 1], got {array.dtype}.")
    low, high = float(np.min(array)), float(np.max(array))
    if low < -1e-3 or high > 1.0 + 1e-3:
      raise ValueError(f"{where}: float values must lie in [0, 1], found [{low:.4g}, "
                       f"{high:.4g}] (rescale [-1, 1] samples with (x + 1) / 2).")
    array = (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
  if array.ndim == 2 or array.shape[-1] not in (1, 3, 4):
    array = array[..., None]
  if array.shape[-1] == 1:
    array = np.repeat(array, 3, axis=-1)
  return np.ascontiguousarray(array[..., :3])


def _files(path, extensions):
  if not os.path.isdir(path):
    return []
  return sorted(os.path.join(path, f) for f in os.listdir(path)
                if f.lower().endswith(extensions) and not f.startswith("."))


@register_loader("image_folder", accepts=lambda path: bool(_files(path, IMAGE_EXTENSIONS)))
def _load_image_folder(path):
  items = []
  for file in _files(path, IMAGE_EXTENSIONS):
    with Image.open(file) as image:
      items.append(to_rgb_uint8(np.asarray(image.convert("RGB")), file))
  return Stimuli("image", items)


@register_loader("gif_folder", accepts=lambda path: bool(_files(path, GIF_EXTENSIONS)))
def _load_gif_folder(path):
  items = []
  for file in _files(path, GIF_EXTENSIONS):
    frames = []
    with Image.open(file) as image:
      for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append(np.asarray(image.convert("RGB")))
    items.append(np.stack(frames))
  return Stimuli("clip", items)


@register_loader("npz", accepts=lambda path: path.endswith(".npz") and os.path.isfile(path))
def _load_npz(path):
  with np.load(path) as data:
    keys = [k for k in NPZ_KEYS if k in data.files]
    if keys:
      array = data[keys[0]]
    elif len(data.files) == 1:
      array = data[data.files[0]]
    else:
      raise ValueError(f"{path}: several arrays {data.files}; name the stimuli one of "
                       f"{list(NPZ_KEYS)}.")
  if array.ndim == 3:  # (N, H, W) grey images.
    array, kind = array[..., None], "image"
  elif array.ndim == 4 and array.shape[-1] in (1, 3, 4):
    kind = "image"
  elif array.ndim == 5 and array.shape[-1] in (1, 3, 4):
    kind = "clip"
  else:
    raise ValueError(f"{path}: expected images (N, H, W[, C]) or clips (N, T, H, W, C) with "
                     f"C in 1, 3, 4; got shape {array.shape}.")
  array = to_rgb_uint8(array, path)
  return Stimuli(kind, list(array))


WORKDIR_ITEMS = 64


def _is_workdir(path):
  return (os.path.isfile(os.path.join(path, "config.json"))
          and os.path.isdir(os.path.join(path, "checkpoints")))


def _workdir_clips(path, generated, num_items=WORKDIR_ITEMS, seed=(0, 0)):
  """Test clips of a work directory's data set: real, or context + one generated future."""
  # TensorFlow only for this loader: the study server itself never imports it.
  from tfgen.evaluation import evaluate  # pylint: disable=g-import-not-at-top
  from tfgen.train import workdir as workdir_lib  # pylint: disable=g-import-not-at-top
  config = workdir_lib.load_config(path)
  model = None
  if generated:
    model, config, _ = workdir_lib.load_model(path, config)
    if not hasattr(model, "generate"):
      raise ValueError(f"Source {path!r}: a {config.model.name} model cannot generate clips "
                       "yet (only families with a `generate` sampler, such as SVG, can).")
  num_context = config.model.num_context_frames
  num_frames = num_context + config.model.num_future_frames
  video = next(iter(evaluate.test_dataset(config, num_frames, num_items, num_items)))
  clips = video.numpy()  # (N, T, H, W, C) in [0, 1]
  if generated:
    future = model.generate(video[:, :num_context], num_frames - num_context, 1,
                            seed=seed)["samples"][:, 0].numpy()
    clips = np.concatenate([clips[:, :num_context], future], axis=1)
  return Stimuli("clip", [to_rgb_uint8(c, path) for c in clips])


@register_loader("workdir", accepts=_is_workdir)
def _load_workdir(path):
  return _workdir_clips(path, generated=True)


@register_loader("workdir_real", accepts=lambda path: False)  # Only when named.
def _load_workdir_real(path):
  if not _is_workdir(path):
    raise ValueError(f"Source {path!r}: not a tfgen training work directory (no config.json "
                     "and checkpoints/).")
  return _workdir_clips(path, generated=False)
