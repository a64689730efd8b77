"""MNIST digits for the synthetic video data sets (SM-MNIST) and LAPGAN's MNIST work.

`load_mnist` (images) and `load_mnist_with_labels` (images and digit labels, for
`tfgen.data.mnist_digits`) find MNIST in the Keras layout (`mnist.npz` with `x_train`
uint8 (N, 28, 28), `y_train`, `x_test` uint8 (M, 28, 28), `y_test`, as
`keras.datasets.mnist.load_data()` downloads it) and log where it came from. Sources,
in order:

1. the `data_dir` argument: a path to `mnist.npz` or a directory that contains it;
2. the environment variable `TFGEN_DATA_DIR` (same meaning);
3. an already downloaded Keras cache, `$KERAS_HOME/datasets/mnist.npz` (default
   `~/.keras/datasets/mnist.npz`);
4. a download with `keras.datasets.mnist.load_data()`, tried only if a quick connection
   probe to storage.googleapis.com:443 succeeds;
5. the small subset shipped in `tfgen/data/assets/mnist_small.npz` (2000 train and 500
   test digits), with a warning: results on it are not comparable to papers.

A path given explicitly (1 or 2) that is missing or malformed raises an error naming the
file; it never falls back silently to another source.

MNIST is by Y. LeCun, C. Cortes and C. Burges, licensed CC BY-SA 3.0.
"""

import os
import socket
from typing import NamedTuple, Optional, Tuple

from absl import logging
import numpy as np

ENV_VAR = "TFGEN_DATA_DIR"
FILE_NAME = "mnist.npz"
SHIPPED_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets",
                            "mnist_small.npz")
EXPECTED_LAYOUT = (
    "expected a Keras-layout MNIST .npz (as keras.datasets.mnist writes it) with arrays "
    "`x_train` uint8 (N, 28, 28) and `x_test` uint8 (M, 28, 28) (plus `y_train`, `y_test`)")

_PROBE_HOST = "storage.googleapis.com"
_PROBE_PORT = 443
_PROBE_TIMEOUT_S = 2.0


class MnistArrays(NamedTuple):
  """MNIST as `load_mnist_with_labels` returns it.

  Attributes:
    x_train: uint8 `(N, 28, 28)`.
    y_train: uint8 `(N,)` digit labels 0-9 (None from `load_mnist`, which does not read them).
    x_test: uint8 `(M, 28, 28)`.
    y_test: uint8 `(M,)` (None from `load_mnist`).
    source: where they came from (see `load_mnist`).
  """
  x_train: np.ndarray
  y_train: Optional[np.ndarray]
  x_test: np.ndarray
  y_test: Optional[np.ndarray]
  source: str


def load_mnist(data_dir: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray, str]:
  """Loads the MNIST images from the first available source (module docstring).

  Args:
    data_dir: optional path to a Keras-layout `mnist.npz`, or to a directory holding
      one. When None, `$TFGEN_DATA_DIR` is used if set, then the Keras cache, a
      download, and finally the small subset shipped with tfgen.

  Returns:
    `(x_train, x_test, source)`: `x_train` uint8 `(N, 28, 28)`, `x_test` uint8
    `(M, 28, 28)`, and `source`, a short description of where they came from (the
    file path, "keras download (<path>)" or "shipped subset (<path>)").

  Raises:
    FileNotFoundError: `data_dir` (or `$TFGEN_DATA_DIR`) names no `mnist.npz`.
    ValueError: the file named by `data_dir` (or `$TFGEN_DATA_DIR`) is not a
      Keras-layout MNIST `.npz`.
  """
  arrays = _load(data_dir, with_labels=False)
  return arrays.x_train, arrays.x_test, arrays.source


def load_mnist_with_labels(data_dir: Optional[str] = None) -> MnistArrays:
  """Loads MNIST images and labels from the first available source (module docstring).

  As `load_mnist`, and the files must also hold `y_train` and `y_test`: integer
  `(N,)` and `(M,)` arrays of digits 0-9 (the Keras layout; the shipped subset has them).

  Returns:
    A `MnistArrays` (labels as uint8).

  Raises:
    FileNotFoundError: `data_dir` (or `$TFGEN_DATA_DIR`) names no `mnist.npz`.
    ValueError: the named file is not a Keras-layout MNIST `.npz` with labels.
  """
  return _load(data_dir, with_labels=True)


def _load(data_dir: Optional[str], with_labels: bool) -> MnistArrays:
  if data_dir:
    path = _resolve_explicit(data_dir, "data_dir")
    arrays = _read_npz(path, with_labels)
    logging.info("MNIST: using %s (from the data_dir argument).", path)
    return arrays._replace(source=path)

  env_dir = os.environ.get(ENV_VAR)
  if env_dir:
    path = _resolve_explicit(env_dir, f"${ENV_VAR}")
    arrays = _read_npz(path, with_labels)
    logging.info("MNIST: using %s (from $%s).", path, ENV_VAR)
    return arrays._replace(source=path)

  cache_path = _keras_cache_path()
  if os.path.isfile(cache_path):
    try:
      arrays = _read_npz(cache_path, with_labels)
    except ValueError as e:
      logging.warning("MNIST: ignoring the Keras cache: %s", e)
    else:
      logging.info("MNIST: using the Keras cache %s.", cache_path)
      return arrays._replace(source=cache_path)

  if _network_available():
    import keras  # pylint: disable=g-import-not-at-top
    logging.info("MNIST: downloading with keras.datasets.mnist.load_data().")
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    origin = "keras.datasets.mnist.load_data()"
    _check_arrays(x_train, x_test, origin)
    if with_labels:
      _check_labels(y_train, y_test, x_train, x_test, origin)
    else:
      y_train = y_test = None
    logging.info("MNIST: using the Keras download (%s).", cache_path)
    return MnistArrays(x_train, y_train, x_test, y_test, f"keras download ({cache_path})")

  arrays = _read_npz(SHIPPED_PATH, with_labels)
  logging.warning(
      "MNIST: no full MNIST found (no data_dir, no $%s, no Keras cache at %s, no "
      "network); using the small subset shipped with tfgen (%s: %d train, %d test "
      "digits). Results are NOT comparable to papers; pass data_dir or set $%s to a "
      "Keras-layout mnist.npz.", ENV_VAR, cache_path, SHIPPED_PATH, len(arrays.x_train),
      len(arrays.x_test), ENV_VAR)
  return arrays._replace(source=f"shipped subset ({SHIPPED_PATH})")


def _resolve_explicit(path: str, origin: str) -> str:
  """Maps a user-given file or directory to the `.npz` path; raises if missing."""
  path = os.path.expanduser(path)
  candidate = os.path.join(path, FILE_NAME) if os.path.isdir(path) else path
  if not os.path.isfile(candidate):
    raise FileNotFoundError(
        f"MNIST file {candidate!r} (from {origin}={path!r}) does not exist; {origin} "
        f"must be a path to {FILE_NAME} or a directory containing it; "
        f"{EXPECTED_LAYOUT}.")
  return candidate


def _read_npz(path: str, with_labels: bool = False) -> MnistArrays:
  """Reads and validates `x_train`, `x_test` (and the labels) from `path`.

  Raises ValueError if malformed; the labels are read and checked only `with_labels`.
  """
  try:
    contents = np.load(path, allow_pickle=False)
  except Exception as e:  # pylint: disable=broad-except
    # np.load raises many types for non-npz input (ValueError, OSError, EOFError, ...).
    raise ValueError(f"Malformed MNIST file {path!r}: {e}; {EXPECTED_LAYOUT}.") from e
  if not isinstance(contents, np.lib.npyio.NpzFile):
    raise ValueError(f"Malformed MNIST file {path!r}: it holds a single .npy array, "
                     f"not an .npz archive; {EXPECTED_LAYOUT}.")
  with contents:
    keys = ("x_train", "y_train", "x_test", "y_test") if with_labels else ("x_train",
                                                                          "x_test")
    missing = [key for key in keys if key not in contents.files]
    if missing:
      raise ValueError(
          f"Malformed MNIST file {path!r}: it has arrays {sorted(contents.files)}, "
          f"missing {missing}; {EXPECTED_LAYOUT}.")
    try:
      arrays = {key: contents[key] for key in keys}
    except Exception as e:  # pylint: disable=broad-except
      # A damaged archive member (zlib or zipfile errors) or a pickled object array.
      raise ValueError(f"Malformed MNIST file {path!r}: {e}; {EXPECTED_LAYOUT}.") from e
  _check_arrays(arrays["x_train"], arrays["x_test"], path)
  if with_labels:
    _check_labels(arrays["y_train"], arrays["y_test"], arrays["x_train"], arrays["x_test"],
                  path)
  return MnistArrays(arrays["x_train"], arrays.get("y_train"), arrays["x_test"],
                     arrays.get("y_test"), path)


def _check_arrays(x_train: np.ndarray, x_test: np.ndarray, path: str) -> None:
  for key, value in (("x_train", x_train), ("x_test", x_test)):
    if (value.dtype != np.uint8 or value.ndim != 3 or value.shape[1:] != (28, 28)
        or value.shape[0] == 0):
      raise ValueError(
          f"Malformed MNIST file {path!r}: `{key}` is {value.dtype} {value.shape}; "
          f"{EXPECTED_LAYOUT}.")


def _check_labels(y_train: np.ndarray, y_test: np.ndarray, x_train: np.ndarray,
                  x_test: np.ndarray, path: str) -> None:
  for key, labels, images in (("y_train", y_train, x_train), ("y_test", y_test, x_test)):
    if (not np.issubdtype(labels.dtype, np.integer) or labels.shape != (len(images),)
        or labels.min() < 0 or labels.max() > 9):
      raise ValueError(
          f"Malformed MNIST file {path!r}: `{key}` is {labels.dtype} {labels.shape} for "
          f"{len(images)} images; expected integer digits 0-9, one per image; "
          f"{EXPECTED_LAYOUT}.")


def _keras_cache_path() -> str:
  """Where `keras.datasets.mnist.load_data()` keeps its download."""
  keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"),
                                                            ".keras")
  return os.path.join(keras_home, "datasets", FILE_NAME)


def _network_available() -> bool:
  """True if storage.googleapis.com:443 accepts a TCP connection within ~2 s."""
  try:
    with socket.create_connection((_PROBE_HOST, _PROBE_PORT), timeout=_PROBE_TIMEOUT_S):
      return True
  except OSError:
    return False
