"""LSUN scenes for LAPGAN, read from the per-category LMDB databases (LAPGAN_FACTS §1.3).

Files: LSUN's scene data as its download script (https://github.com/fyu/lsun,
`python download.py -c <category>`) fetches it, unzipped into one directory:

    <data_dir>/<category>_train_lmdb/data.mdb   (and lock.mdb)
    <data_dir>/<category>_val_lmdb/data.mdb      (300 images per category)

Each LMDB maps an image id (the key) to the bytes of a JPEG (or WebP) image, about 256
pixels on its shorter side. They are read with the `lmdb` package; TFDS's `lsun` needs the
stale tensorflow-io and is not used. Entries whose bytes do not decode are skipped, with a
warning naming the key and a running count (in the validation set, a summary
`seen = decoded + skipped`).

Rendering, as eyescream's `lsun/donkey_lsun.lua` (l.49-122): decode to [0, 1] RGB (grey
images repeated to 3 channels), resize with Torch's `image.scale` so that the shorter side
is `load_size` (default ceil(1.5 x image_size), `lsun/main.lua:51`; the longer side
`floor(load_size x long / short)`, aspect kept), then
- "train": an `image_size` crop at a random offset and a left-right flip with probability
  1/2. (The Lua code draws offsets 1..room, never 0, an off-by-one of its 1-based
  `math.ceil(torch.uniform(1e-2, room))` against 0-based `image.crop`; here 0..room.)
- "validation": the centre crop (offset `ceil(room / 2)`).

Categories: `category` is one scene (the thesis trains one model per scene, T:565; label
0) or a list of scenes (eyescream trains all ten jointly; label = the scene's index in the
list). Training example k draws, from `np.random.default_rng([seed, 1, k])`, a scene
uniformly, an image of it uniformly (with replacement, as the Lua loader's
`torch.random`), then its crop offset and flip; a corrupt image is replaced by the next
draw of the same generator, so example k still depends only on (seed, k). "validation" is
each listed scene's `_val_lmdb` in key order, scene after scene. LSUN has no per-category
test set (its `test_lmdb` mixes all scenes, unlabelled): there is no "test" split.

Statistics: eyescream estimates per-channel statistics from 10,000 random training crops:
the mean of the images' channel means and the mean of the images' channel standard
deviations (Torch's `std()`, divided by n - 1) (l.197-237). `statistics(per="channel")`
does exactly that over training examples 0..9,999 of the stream of `STATISTICS_SEED`;
`per="pixel"` gives the pixels' mean and (divide-by-N) std over the same examples. They
are cached in `<data_dir>/tfgen_statistics/`.

LSUN is by F. Yu, A. Seff, Y. Zhang, S. Song, T. Funkhouser and J. Xiao (LSUN:
Construction of a Large-scale Image Dataset using Deep Learning with Humans in the Loop,
2015).
"""

import collections
import functools
import io
import math
import os
import threading
from typing import Dict, List, Optional, Sequence, Tuple, Union

from absl import logging
import numpy as np
import tensorflow as tf

from tfgen.data import image_sets
from tfgen.data import registry

NAME = "lsun"
URL = "https://github.com/fyu/lsun"
SPLITS = ("train", "validation")
CATEGORIES = ("bedroom", "bridge", "church_outdoor", "classroom", "conference_room",
              "dining_room", "kitchen", "living_room", "restaurant", "tower")
# eyescream's single-scene example (`-- classes = {'church_outdoor'}`, donkey_lsun.lua:20).
DEFAULT_CATEGORY = "church_outdoor"
STATISTICS_SEED = 20150615
NUM_STATISTICS_IMAGES = 10000  # donkey_lsun.lua: nSamples.
# A training draw gives up after this many corrupt entries in a row.
MAX_REDRAWS = 100
LMDB_LAYOUT = ("expected the directory LSUN's download script unzips: an LMDB environment "
               "(data.mdb) mapping image ids to JPEG or WebP bytes")


def default_data_dir() -> str:
  """`$TFGEN_DATA_DIR/lsun`, or `~/tfgen_data/lsun`."""
  return os.path.join(image_sets.default_root(), NAME)


def lmdb_path(data_dir: str, category: str, part: str) -> str:
  """`<data_dir>/<category>_<part>_lmdb` (`part` "train" or "val")."""
  return os.path.join(data_dir, f"{category}_{part}_lmdb")


def _categories(category: Union[str, Sequence[str]]) -> Tuple[str, ...]:
  names = (category,) if isinstance(category, str) else tuple(category)
  if not names:
    raise ValueError(f"category must name at least one scene; valid: {', '.join(CATEGORIES)}.")
  for name in names:
    image_sets.check_choice("category", name, CATEGORIES)
  if len(set(names)) != len(names):
    raise ValueError(f"category lists a scene twice: {list(names)}.")
  return names


# ------------------------------------------------------------------------ LMDB access


class _Database:
  """One read-only LMDB and its sorted keys."""

  def __init__(self, path: str):
    try:
      import lmdb  # pylint: disable=g-import-not-at-top
    except ImportError as e:
      raise ImportError("Reading LSUN needs the `lmdb` package: pip install lmdb "
                        "(tfgen's setup.py installs it).") from e
    if not os.path.isdir(path):
      raise FileNotFoundError(path)
    try:
      self.env = lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False,
                           max_readers=512)
      with self.env.begin(write=False) as txn:
        self.keys = list(txn.cursor().iternext(keys=True, values=False))
    except lmdb.Error as e:
      raise ValueError(f"{path} cannot be opened as an LMDB ({e}); {LMDB_LAYOUT}.") from e
    if not self.keys:
      raise ValueError(f"{path} is an empty LMDB; {LMDB_LAYOUT}.")
    self.path = path

  def get(self, index: int) -> bytes:
    with self.env.begin(write=False, buffers=False) as txn:
      return txn.get(self.keys[index])


@functools.lru_cache(maxsize=None)
def _open(path: str, identity: Tuple) -> _Database:
  del identity  # Part of the cache key: a replaced database is reopened.
  return _Database(path)


def open_database(data_dir: str, category: str, part: str) -> _Database:
  """The LMDB of `category`'s `part` ("train" or "val"); cached per file version.

  Raises:
    FileNotFoundError: the directory is missing (the message says where to get it).
    ValueError: it cannot be opened as an LMDB, or is empty.
  """
  path = lmdb_path(data_dir, category, part)
  data_file = os.path.join(path, "data.mdb")
  if not os.path.isdir(path):
    raise FileNotFoundError(
        f"LSUN {category} ({part}) not found: {path} does not exist. Download it with LSUN's "
        f"script ({URL}: `python download.py -c {category}`) and unzip "
        f"{category}_{part}_lmdb.zip into {data_dir}, or pass data_dir (or set "
        f"$TFGEN_DATA_DIR, which holds lsun/).")
  identity = tuple(image_sets.file_identity([data_file])[0]) if os.path.isfile(
      data_file) else ()
  return _open(path, identity)


_CORRUPT = collections.defaultdict(set)  # LMDB path -> keys of undecodable entries.
_CORRUPT_LOCK = threading.Lock()


def _report_corrupt(database: _Database, index: int, error: Exception) -> None:
  key = database.keys[index]
  with _CORRUPT_LOCK:
    seen = _CORRUPT[database.path]
    if key in seen:
      return
    seen.add(key)
    count = len(seen)
  logging.warning("LSUN: skipping corrupt entry %r of %s (%s); %d corrupt entries skipped "
                  "in it so far.", key, database.path, error, count)


def corrupt_counts() -> Dict[str, int]:
  """`{lmdb path: number of distinct corrupt entries met so far in this process}`."""
  with _CORRUPT_LOCK:
    return {path: len(keys) for path, keys in _CORRUPT.items()}


def decode(data: bytes) -> np.ndarray:
  """JPEG/WebP/PNG bytes -> float32 `(H, W, 3)` in [0, 1]; raises ValueError if corrupt."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  try:
    with Image.open(io.BytesIO(data)) as image:
      image = image.convert("RGB")  # Forces the decoding; grey -> 3 equal channels.
  except Exception as e:  # pylint: disable=broad-except  (PIL raises many types)
    raise ValueError(f"undecodable image bytes: {e}") from e
  return np.asarray(image, np.float32) / np.float32(255)


def load_scale(image: np.ndarray, load_size: int) -> np.ndarray:
  """Resizes so the shorter side is `load_size` (eyescream's `loadImage`)."""
  height, width = image.shape[:2]
  if width < height:  # image.scale(input, width, height), sizes truncated to integers.
    size = (int(load_size * height / width), load_size)
  else:
    size = (load_size, int(load_size * width / height))
  return np.clip(image_sets.torch_scale(image, *size), 0.0, 1.0)


# ------------------------------------------------------------------------- the set


class LSUN:
  """The LSUN scenes `categories` rendered as LAPGAN trains on them (module docstring).

  Args:
    data_dir: directory of the `<category>_{train,val}_lmdb` directories.
    categories: scene names; an image's label is its scene's index here.
    image_size: side of the square examples (default 64, the thesis' finest level).
    load_size: shorter side before cropping (default ceil(1.5 x image_size)).
    random_flip: mirror training examples left-right with probability 1/2 (default True).
  """

  def __init__(self, data_dir: str, categories: Sequence[str], *, image_size: int = 64,
               load_size: Optional[int] = None, random_flip: bool = True):
    image_sets.check_int("image_size", image_size, 1)
    if load_size is None:
      load_size = math.ceil(1.5 * image_size)
    image_sets.check_int("load_size", load_size, image_size)
    self.data_dir = data_dir
    self.categories = tuple(categories)
    self.image_size = image_size
    self.load_size = load_size
    self.random_flip = bool(random_flip)
    self._train = None
    self._validation = None

  @property
  def train_databases(self) -> List[_Database]:
    if self._train is None:
      self._train = [open_database(self.data_dir, c, "train") for c in self.categories]
    return self._train

  def _render(self, image: np.ndarray, rng: Optional[np.random.Generator]) -> np.ndarray:
    image = load_scale(image, self.load_size)
    room = np.array(image.shape[:2]) - self.image_size
    if rng is None:
      top, left = (image_sets.centre_offset(self.image_size + r, self.image_size)
                   for r in room)
    else:
      top, left = rng.integers(0, room + 1)
    image = image[top:top + self.image_size, left:left + self.image_size]
    if rng is not None and self.random_flip and rng.random() < 0.5:
      image = image[:, ::-1]
    return image

  def train_example(self, seed: int, index: int) -> Tuple[np.ndarray, int]:
    """Training example `index` of the stream of `seed`: `(image, label)`."""
    databases = self.train_databases
    rng = image_sets.example_rng(seed, index)
    for _ in range(MAX_REDRAWS):
      label = int(rng.integers(len(databases))) if len(databases) > 1 else 0
      database = databases[label]
      entry = int(rng.integers(len(database.keys)))
      try:
        image = decode(database.get(entry))
      except ValueError as e:
        _report_corrupt(database, entry, e)
        continue
      return self._render(image, rng), label
    raise ValueError(
        f"LSUN: {MAX_REDRAWS} corrupt entries in a row while drawing training example "
        f"{index} from {', '.join(d.path for d in databases)}; the databases look damaged "
        f"({LMDB_LAYOUT}).")

  def train_batch(self, indices: np.ndarray, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    examples = [self.train_example(seed, int(k)) for k in np.reshape(indices, -1)]
    images = np.stack([image for image, _ in examples]) if examples else np.zeros(
        (0,) + self.image_shape, np.float32)
    return images.astype(np.float32), np.array([label for _, label in examples], np.int32)

  @property
  def image_shape(self) -> Tuple[int, int, int]:
    return self.image_size, self.image_size, 3

  def validation(self) -> Tuple[np.ndarray, np.ndarray]:
    """The fixed validation set: float32 `(N, size, size, 3)`, int32 `(N,)` labels."""
    if self._validation is None:
      databases = [open_database(self.data_dir, c, "val") for c in self.categories]
      key = (tuple(d.path for d in databases), tuple(id(d) for d in databases),
             self.image_size, self.load_size)
      self._validation = _validation_images(key, databases, self)
    return self._validation

  def validation_batch(self, indices: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    images, labels = self.validation()
    indices = np.asarray(indices, np.int64).reshape(-1)
    return images[indices], labels[indices]

  def dataset(self, split: str, *, batch_size: int, seed: int, start_index: int,
              drop_remainder: bool) -> tf.data.Dataset:
    if split == "train":
      self.train_databases  # Opens the databases now: errors surface at build time.
      render = functools.partial(self.train_batch, seed=seed)
      end = image_sets._MAX_INDEX  # pylint: disable=protected-access
    else:
      render = self.validation_batch
      end = len(self.validation()[0])
    return image_sets.make_dataset(render, start_index=start_index, end=end,
                                   batch_size=batch_size, drop_remainder=drop_remainder,
                                   endless=split == "train", image_shape=self.image_shape)

  def statistics(self, num_images: int) -> Dict[str, np.ndarray]:
    """eyescream's per-channel estimate and per-pixel moments (module docstring)."""
    channel_means, channel_stds = [], []
    total = np.zeros(self.image_shape)
    total_square = np.zeros(self.image_shape)
    for index in range(num_images):
      image, _ = self.train_example(STATISTICS_SEED, index)
      image = image.astype(np.float64)
      channel_means.append(image.mean(axis=(0, 1)))
      channel_stds.append(image.reshape(-1, 3).std(axis=0, ddof=1))
      total += image
      total_square += np.square(image)
    pixel_mean = total / num_images
    return {
        "pixel_mean": pixel_mean,
        "pixel_std": np.sqrt(np.maximum(total_square / num_images - np.square(pixel_mean),
                                        0.0)),
        "channel_mean": np.mean(channel_means, axis=0),
        "channel_std": np.mean(channel_stds, axis=0),
    }


_VALIDATION_CACHE = {}


def _validation_images(key, databases: Sequence[_Database], source: LSUN):
  if key in _VALIDATION_CACHE:
    return _VALIDATION_CACHE[key]
  images, labels = [], []
  for label, database in enumerate(databases):
    skipped = 0
    for entry in range(len(database.keys)):
      try:
        image = decode(database.get(entry))
      except ValueError as e:
        _report_corrupt(database, entry, e)
        skipped += 1
        continue
      images.append(source._render(image, None))  # pylint: disable=protected-access
      labels.append(label)
    level = logging.WARNING if skipped else logging.INFO
    logging.log(level, "LSUN validation %s: %d entries seen = %d decoded + %d skipped.",
                database.path, len(database.keys), len(database.keys) - skipped, skipped)
  if not images:
    raise ValueError(f"LSUN validation: no entry of {', '.join(d.path for d in databases)} "
                     f"decodes; {LMDB_LAYOUT}.")
  result = (np.stack(images).astype(np.float32), np.array(labels, np.int32))
  for array in result:
    array.setflags(write=False)
  _VALIDATION_CACHE[key] = result
  return result


def _source(data_dir, category, image_size, load_size, random_flip) -> LSUN:
  data_dir = os.path.expanduser(data_dir) if data_dir else default_data_dir()
  return LSUN(data_dir, _categories(category), image_size=image_size, load_size=load_size,
              random_flip=random_flip)


@registry.register(NAME, kind="image", splits=SPLITS)
def build(split: str,
          *,
          batch_size: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          num_frames: Optional[int] = None,
          category: Union[str, Sequence[str]] = DEFAULT_CATEGORY,
          image_size: int = 64,
          load_size: Optional[int] = None,
          random_flip: bool = True,
          num_statistics_images: int = NUM_STATISTICS_IMAGES) -> tf.data.Dataset:
  """Builds LSUN scenes as a `tf.data.Dataset` (image contract in `tfgen.data.registry`).

  Args:
    split: "train" (endless stream of random crops of the `_train_lmdb` images) or
      "validation" (centre crops of the `_val_lmdb` images, in key order). There is no
      "test" (module docstring).
    batch_size: images per element.
    seed: non-negative int, seed of the training stream (unused by "validation").
    data_dir: directory of the `<category>_{train,val}_lmdb` directories; default
      `$TFGEN_DATA_DIR/lsun`.
    start_index: number of the first example (resumes the training stream exactly).
    drop_remainder: drop a last incomplete batch (validation).
    num_frames: must be None (LSUN holds images).
    category: a scene name (default "church_outdoor"; label 0) or a list of them (label =
      index in the list); one of `CATEGORIES`.
    image_size: side of the examples (default 64, the thesis' 4 -> ... -> 64 pyramid;
      eyescream's default run used 32).
    load_size: shorter side before cropping (default ceil(1.5 x image_size)).
    random_flip: mirror training examples with probability 1/2 (default True, as the code).
    num_statistics_images: used by `statistics` only (accepted here so that one options
      dict serves both).

  Returns:
    Dicts `{"image": float32 (batch, image_size, image_size, 3) in [0, 1],
    "label": int32 (batch,)}`.

  Raises:
    FileNotFoundError: an LMDB directory is missing (the message says where to get it).
    ValueError: a bad argument, or an LMDB that cannot be opened or is empty.
  """
  if split == "test":
    raise ValueError(
        "LSUN has no per-category test split (its test_lmdb mixes all scenes without "
        "labels); use split='validation' (<category>_val_lmdb, 300 images per scene).")
  image_sets.check_build_arguments(NAME, split, SPLITS, batch_size=batch_size, seed=seed,
                                   start_index=start_index, num_frames=num_frames)
  image_sets.check_int("num_statistics_images", num_statistics_images, 2)
  source = _source(data_dir, category, image_size, load_size, random_flip)
  return source.dataset(split, batch_size=batch_size, seed=seed, start_index=start_index,
                        drop_remainder=drop_remainder)


@registry.register_statistics(NAME)
def statistics(*,
               data_dir: Optional[str] = None,
               per: str = "channel",
               category: Union[str, Sequence[str]] = DEFAULT_CATEGORY,
               image_size: int = 64,
               load_size: Optional[int] = None,
               random_flip: bool = True,
               num_statistics_images: int = NUM_STATISTICS_IMAGES
               ) -> Tuple[np.ndarray, np.ndarray]:
  """`(mean, std)`: float32 `(3,)` for `per="channel"` (default: eyescream's LSUN
  estimate), `(image_size, image_size, 3)` for `per="pixel"` (module docstring).

  Takes the builder's options (same meaning and defaults) and `num_statistics_images`
  (default 10,000, as eyescream), the number of training examples averaged.
  """
  image_sets.check_choice("per", per, ("pixel", "channel"))
  image_sets.check_int("num_statistics_images", num_statistics_images, 2)
  source = _source(data_dir, category, image_size, load_size, random_flip)
  databases = source.train_databases
  key = {"files": image_sets.file_identity([os.path.join(d.path, "data.mdb")
                                            for d in databases]),
         "categories": list(source.categories), "image_size": image_size,
         "load_size": source.load_size, "random_flip": source.random_flip,
         "num_images": num_statistics_images, "seed": STATISTICS_SEED}
  values = image_sets.cached_statistics(
      NAME, source.data_dir, key, functools.partial(source.statistics,
                                                    num_statistics_images))
  return image_sets.select_statistics(values, per)
