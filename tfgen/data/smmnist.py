"""Stochastic Moving MNIST (SM-MNIST), generated on the fly (thesis §6.3.1, SPEC §1.6).

The generative process is the one of the reference code (edenton/svg
`data/moving_mnist.py`), re-written vectorised over a batch of sequences:

- a `image_size` x `image_size` (64x64) canvas with one channel; each MNIST digit is
  resized from 28x28 to `digit_size` x `digit_size` (32x32) once per digit set, with
  PIL's bilinear filter reproduced bit-exactly in numpy (the reference resizes with
  torchvision `transforms.Scale(32)`, i.e. PIL bilinear on the uint8 image, then divides
  by 255);
- `num_digits` digits, each with a start position (y, x) uniform over the integers
  [0, image_size - digit_size - 1] = [0, 31] and a velocity (dy, dx) with integer
  components in -4..4 (uniform, or non-uniform, see below);
- at each step, before drawing, y is checked then x (the reference's order): a position
  below 0 is clamped to 0, one at or above 32 to 31, and the velocity is changed: the
  stochastic variant re-draws the component normal to the wall with magnitude 1..4
  pointing away from it and the other component in -4..4; the deterministic variant
  (`deterministic_bounce=True`, the reference's `deterministic` flag) negates the normal
  component. The digit is then added onto the canvas at (y, x) and the position advances
  by the velocity. Overlapping digits are summed and clipped to 1.

A quirk of the reference kept on purpose: when a digit hits a corner (both axes out at
the same step) in the stochastic uniform variant, the x re-draw overwrites the dy drawn by
the y re-draw with a value in -4..4, which may point into the y wall; the next step
clamps it again (and flags another collision).

Non-uniform variant (`velocity_distribution="nonuniform"`, thesis Fig. 6.6, 6.7): each
velocity component is drawn independently from P(v) ∝ |v| + 1 over v in -4..4, i.e.
probabilities (5, 4, 3, 2, 1, 2, 3, 4, 5) / 29 for v = -4..4: higher speeds are more
likely (mean |v| = 80/29 ≈ 2.76 against 20/9 ≈ 2.22 for the uniform one) while keeping
the uniform variant's support. After a collision the velocity is drawn from the same
distribution with the invalid directions given zero probability and the rest
renormalised: the normal component from {1..4} (or {-4..-1}) with probabilities
(2, 3, 4, 5) / 14 in order of increasing magnitude, the other component from the full
distribution, except at a corner, where it is also restricted to point away from the y
wall (the thesis makes every invalid direction impossible; the exact Fig. 6.6 weights
are not in the text, so the |v| + 1 shape is tfgen's choice).

Randomness: sequence number k of a split depends only on (seed, k): it is drawn from
`np.random.default_rng([seed, k])`, which draws, in this order, the digit indices, the
start positions, the initial velocities and one uniform number per possible re-draw
(so the amount of randomness used does not depend on the collisions). The registered
`smmnist` builder's test split ignores `seed` and uses `TEST_SEED`, so test sets are the
same for every training run.

References:
  E. Denton, R. Fergus. Stochastic Video Generation with a Learned Prior. ICML 2018.
  E. Denton. Deep Generative Models of Images and Video. PhD thesis, NYU 2018, §6.3.1.
"""

import functools
import os
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfgen.data import mnist
from tfgen.data import registry

SPLITS = ("train", "test")
VELOCITY_DISTRIBUTIONS = ("uniform", "nonuniform")
MAX_SPEED = 4
# Seed of the registered builder's test split, independent of the training seed.
TEST_SEED = 20180710
# Velocity component values and their unnormalised probabilities.
_VALUES = np.arange(-MAX_SPEED, MAX_SPEED + 1)
_WEIGHTS = {
    "uniform": np.ones(2 * MAX_SPEED + 1),
    "nonuniform": np.abs(_VALUES) + 1.0,  # P(v) ∝ |v| + 1.
}
_MNIST_SIZE = 28
# Sequence indices of the endless training stream run up to this bound.
_MAX_INDEX = 2**62
# The draws of `_draw_sequence` that `_integrate` takes, in its argument order.
_TRAJECTORY_DRAWS = ("start", "velocity", "noise")


class Trajectory(NamedTuple):
  """Digit trajectories of one sequence (or of a batch, with a leading batch axis).

  Attributes:
    positions: int64 `(time, num_digits, 2)`: (y, x) of each digit's top-left corner
      where it is drawn at step t (after clamping), in [0, image_size - digit_size - 1].
    velocities: int64 `(time, num_digits, 2)`: (dy, dx) after the bounce check of
      step t, i.e. the move from step t to step t + 1.
    collisions: bool `(time, num_digits)`: a wall collision (clamp and bounce) happened
      at step t, before drawing.
    bounces: bool `(time, num_digits, 2)`: the same per axis (y wall, x wall).
  """
  positions: np.ndarray
  velocities: np.ndarray
  collisions: np.ndarray
  bounces: np.ndarray


class StochasticMovingMNIST:
  """Generator of (Stochastic) Moving MNIST sequences in numpy (module docstring).

  Args:
    split: "train" (digits from MNIST train) or "test" (digits from MNIST test).
    num_digits: int, digits per sequence (reference `num_digits`, default 2).
    num_frames: int, frames per sequence (reference `seq_len`, default 20).
    deterministic_bounce: bool, negate the normal velocity at walls instead of
      re-drawing it (reference `deterministic`; default False, i.e. SM-MNIST).
    velocity_distribution: "uniform" (default, the reference) or "nonuniform"
      (thesis Fig. 6.6).
    seed: non-negative int; sequence k is drawn from `default_rng([seed, k])`.
    data_dir: optional path of a Keras-layout `mnist.npz` (or its directory), see
      `tfgen.data.mnist.load_mnist`. Ignored when `digits` is given.
    digits: optional uint8 `(num_source_digits, 28, 28)` MNIST images to use instead of
      loading the split.
    image_size: int, canvas height and width (default 64).
    digit_size: int, size the digits are resized to (default 32).

  Example:
    >>> source = StochasticMovingMNIST("train", num_frames=15, seed=1)
    >>> source.sequence(7)["frames"].shape
    (15, 64, 64, 1)
  """

  def __init__(self,
               split: str = "train",
               *,
               num_digits: int = 2,
               num_frames: int = 20,
               deterministic_bounce: bool = False,
               velocity_distribution: str = "uniform",
               seed: int = 0,
               data_dir: Optional[str] = None,
               digits: Optional[np.ndarray] = None,
               image_size: int = 64,
               digit_size: int = 32):
    if split not in SPLITS:
      raise ValueError(f"Unknown split {split!r}; valid splits: {', '.join(SPLITS)}.")
    if velocity_distribution not in VELOCITY_DISTRIBUTIONS:
      raise ValueError(
          f"Unknown velocity_distribution {velocity_distribution!r}; valid values: "
          f"{', '.join(VELOCITY_DISTRIBUTIONS)}.")
    _check_int("num_digits", num_digits, 1)
    _check_int("num_frames", num_frames, 1)
    _check_int("seed", seed, 0)
    _check_int("digit_size", digit_size, 1)
    _check_int("image_size", image_size, digit_size + 1)
    if not isinstance(deterministic_bounce, (bool, np.bool_)):
      raise ValueError(
          f"deterministic_bounce must be True or False, got {deterministic_bounce!r}.")
    self.split = split
    self.num_digits = num_digits
    self.num_frames = num_frames
    self.deterministic_bounce = bool(deterministic_bounce)
    self.velocity_distribution = velocity_distribution
    self.seed = seed
    self.image_size = image_size
    self.digit_size = digit_size
    # Positions live in [0, bound - 1]; a digit at bound would still fit, but the
    # reference clamps at image_size - 32 and we keep that.
    self.bound = image_size - digit_size
    if digits is None:
      self.digits = _resized_split(data_dir, os.environ.get(mnist.ENV_VAR), split,
                                   digit_size)
    else:
      digits = np.asarray(digits)
      if digits.dtype != np.uint8 or digits.ndim != 3 or digits.shape[1:] != (
          _MNIST_SIZE, _MNIST_SIZE) or not len(digits):
        raise ValueError(f"digits must be uint8 (N, 28, 28), got {digits.dtype} "
                         f"{digits.shape}.")
      self.digits = resize_digits(digits, digit_size)
    self._cdfs = _Cdfs(self._velocity_weights())

  @property
  def channels(self) -> int:
    """Channels of a frame (the canvas is greyscale)."""
    return 1

  def _velocity_weights(self) -> np.ndarray:
    """Unnormalised probabilities of a velocity component over -4..4 (`_VALUES`)."""
    return _WEIGHTS[self.velocity_distribution]

  @property
  def num_source_digits(self) -> int:
    """Number of MNIST digits sequences are drawn from."""
    return len(self.digits)

  def digit_images(self, indices) -> np.ndarray:
    """Resized digits as float32 in [0, 1].

    Args:
      indices: int array of any shape `S` of digit indices.

    Returns:
      float32 `S + (digit_size, digit_size)`.
    """
    # Division, as torchvision's ToTensor in the reference (not a product by 1/255).
    return self.digits[np.asarray(indices)].astype(np.float32) / np.float32(255)

  def sample_trajectory(self, rng: np.random.Generator) -> Trajectory:
    """Draws the trajectories of `num_digits` digits over `num_frames` steps.

    Args:
      rng: the numpy generator to draw from.

    Returns:
      A `Trajectory` with arrays `(num_frames, num_digits, ...)`.
    """
    start, velocity, noise = self._draw_trajectory_noise(rng)
    batched = self._integrate(start[None], velocity[None], noise[None])
    return Trajectory(*(a[0] for a in batched))

  def render(self, trajectory: Trajectory, digits: np.ndarray) -> np.ndarray:
    """Draws digits along a trajectory.

    One trajectory can be rendered with many digit sets (thesis Fig. 6.4).

    Args:
      trajectory: a `Trajectory` of one sequence, positions `(time, num_digits, 2)`.
      digits: float `(num_digits, digit_size, digit_size)` in [0, 1], digit d follows
        trajectory d.

    Returns:
      float32 `(time, image_size, image_size, 1)` frames in [0, 1].
    """
    positions = np.asarray(trajectory.positions)
    digits = np.asarray(digits, np.float32)
    if digits.shape != (positions.shape[1], self.digit_size, self.digit_size):
      raise ValueError(f"digits must be ({positions.shape[1]}, {self.digit_size}, "
                       f"{self.digit_size}), got {digits.shape}.")
    return self._render(positions[None], digits[None])[0]

  def sequence(self, index: int) -> Dict[str, np.ndarray]:
    """Generates sequence number `index`.

    Args:
      index: non-negative int; the sequence depends only on (seed, index).

    Returns:
      A dict with `frames` float32 `(num_frames, image_size, image_size, 1)`,
      `positions` int64 `(num_frames, num_digits, 2)` as (y, x), `velocities` int64
      `(num_frames, num_digits, 2)` as (dy, dx), `collisions` bool
      `(num_frames, num_digits)`, `bounces` bool `(num_frames, num_digits, 2)` and
      `digit_indices` int64 `(num_digits,)` into the split's MNIST images.
    """
    draws = self._draw_sequence(self._rng(index))
    batched = self._integrate(*(draws[key][None] for key in _TRAJECTORY_DRAWS))
    frames = self._frames(batched.positions, {k: v[None] for k, v in draws.items()})[0]
    trajectory = Trajectory(*(a[0] for a in batched))
    extras = {k: v for k, v in draws.items() if k not in _TRAJECTORY_DRAWS}
    return dict(frames=frames, **extras, **trajectory._asdict())

  def batch(self, indices: Sequence[int]) -> np.ndarray:
    """Generates the frames of several sequences (vectorised `sequence`).

    Args:
      indices: int `(batch,)` sequence numbers.

    Returns:
      float32 `(batch, num_frames, image_size, image_size, 1)`;
      `batch(indices)[i] == sequence(indices[i])["frames"]`.
    """
    indices = np.asarray(indices, np.int64).reshape(-1)
    if not len(indices):
      return np.zeros((0, self.num_frames, self.image_size, self.image_size, self.channels),
                      np.float32)
    draws = [self._draw_sequence(self._rng(index)) for index in indices]
    stacked = {key: np.stack([d[key] for d in draws]) for key in draws[0]}
    trajectory = self._integrate(*(stacked[key] for key in _TRAJECTORY_DRAWS))
    return self._frames(trajectory.positions, stacked)

  def _rng(self, index) -> np.random.Generator:
    index = int(index)
    if index < 0:
      raise ValueError(f"Sequence index must be >= 0, got {index}.")
    return np.random.default_rng([self.seed, index])

  def _draw_sequence(self, rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Every random draw of one sequence, in order: the digit images, then the trajectory.

    Returns a dict with `digit_indices` `(num_digits,)` and the `_TRAJECTORY_DRAWS`
    `start`, `velocity`, `noise` of `_draw_trajectory_noise`. Subclasses may draw more
    after these (keys of their own, passed on to `_frames`).
    """
    digit_indices = self._draw_digit_indices(rng)
    start, velocity, noise = self._draw_trajectory_noise(rng)
    return dict(digit_indices=digit_indices, start=start, velocity=velocity, noise=noise)

  def _frames(self, positions: np.ndarray, draws: Dict[str, np.ndarray]) -> np.ndarray:
    """Frames `(batch, time, H, W, channels)` of a batch of trajectories.

    Args:
      positions: int `(batch, time, num_digits, 2)` (a `Trajectory`'s positions).
      draws: the batch's `_draw_sequence` dicts, stacked (leading batch axis).
    """
    return self._render(positions, self.digit_images(draws["digit_indices"]))

  def _draw_digit_indices(self, rng: np.random.Generator) -> np.ndarray:
    # Independent draws, as the reference (two digits may be the same image).
    return rng.integers(self.num_source_digits, size=self.num_digits)

  def _draw_trajectory_noise(
      self, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draws start (D, 2), initial velocity (D, 2) and re-draw noise (T, D, 2, 2)."""
    start = rng.integers(self.bound, size=(self.num_digits, 2))
    velocity = self._cdfs.full(rng.random((self.num_digits, 2)))
    # One uniform per (step, digit, wall axis, [normal, tangential] component).
    noise = rng.random((self.num_frames, self.num_digits, 2, 2))
    return start, velocity, noise

  def _integrate(self, start: np.ndarray, velocity: np.ndarray,
                 noise: np.ndarray) -> Trajectory:
    """Runs the bounce dynamics on a batch.

    Args:
      start: int `(batch, num_digits, 2)` start positions (y, x).
      velocity: int `(batch, num_digits, 2)` initial velocities (dy, dx).
      noise: float `(batch, num_frames, num_digits, 2, 2)` uniforms in [0, 1) for the
        re-draws: [..., axis, 0] for the normal and [..., axis, 1] for the tangential
        component after a collision with the wall of `axis` (0: y, 1: x).

    Returns:
      A `Trajectory` with arrays `(batch, num_frames, num_digits, ...)`.
    """
    batch_size = start.shape[0]
    shape = (batch_size, self.num_frames, self.num_digits)
    positions = np.empty(shape + (2,), np.int64)
    velocities = np.empty(shape + (2,), np.int64)
    bounces = np.empty(shape + (2,), bool)
    position = start.astype(np.int64)
    velocity = velocity.astype(np.int64)
    corner_aware = self.velocity_distribution == "nonuniform"
    if not self.deterministic_bounce:
      # Every possible re-draw at once, (batch, time, digits, axis): the loop only selects.
      u_normal, u_tangential = noise[..., 0], noise[..., 1]
      normal_up = self._cdfs.positive(u_normal)
      normal_down = self._cdfs.negative(u_normal)
      tangential_any = self._cdfs.full(u_tangential)
      tangential_up = self._cdfs.positive(u_tangential)
      tangential_down = self._cdfs.negative(u_tangential)
    for t in range(self.num_frames):
      low_y = None
      for axis in (0, 1):  # y is checked before x, as in the reference.
        other = 1 - axis
        low = position[..., axis] < 0
        hit = low | (position[..., axis] >= self.bound)
        bounces[:, t, :, axis] = hit
        position[..., axis] = np.clip(position[..., axis], 0, self.bound - 1)
        if self.deterministic_bounce:
          velocity[..., axis] = np.where(hit, -velocity[..., axis], velocity[..., axis])
          continue
        normal = np.where(low, normal_up[:, t, :, axis], normal_down[:, t, :, axis])
        tangential = tangential_any[:, t, :, axis]
        if corner_aware and axis == 1:
          # At a corner dy must keep pointing away from the y wall hit this step.
          away_y = np.where(low_y, tangential_up[:, t, :, 1], tangential_down[:, t, :, 1])
          tangential = np.where(bounces[:, t, :, 0], away_y, tangential)
        velocity[..., axis] = np.where(hit, normal, velocity[..., axis])
        velocity[..., other] = np.where(hit, tangential, velocity[..., other])
        low_y = low
      positions[:, t] = position
      velocities[:, t] = velocity
      position = position + velocity
    return Trajectory(positions=positions, velocities=velocities,
                      collisions=bounces.any(axis=-1), bounces=bounces)

  def _render(self, positions: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Pastes digits at positions.

    Args:
      positions: int `(batch, time, num_digits, 2)` top-left corners (y, x).
      digits: float32 `(batch, num_digits, digit_size, digit_size)`.

    Returns:
      float32 `(batch, time, image_size, image_size, 1)`, summed and clipped to 1.
    """
    batch_size, num_frames, num_digits, _ = positions.shape
    if (positions.min(initial=0) < 0
        or positions.max(initial=0) > self.image_size - self.digit_size):
      raise ValueError("Digit positions must lie in [0, image_size - digit_size].")
    canvas = np.zeros((batch_size, num_frames, self.image_size, self.image_size),
                      np.float32)
    # windows[b, t, y, x] is the digit-sized view of frame (b, t) whose top-left corner
    # is (y, x): one fancy-indexed add pastes a digit into every frame of the batch.
    # Within one digit no two (b, t) pairs alias, so the buffered `+=` is exact.
    windows = np.lib.stride_tricks.sliding_window_view(
        canvas, (self.digit_size, self.digit_size), axis=(2, 3), writeable=True)
    batch_index = np.arange(batch_size)[:, None]
    time_index = np.arange(num_frames)[None, :]
    for d in range(num_digits):
      windows[batch_index, time_index, positions[:, :, d, 0],
              positions[:, :, d, 1]] += digits[:, d, None]
    np.minimum(canvas, 1.0, out=canvas)
    return canvas[..., None]  # (batch, time, height, width, 1)


class _Cdfs:
  """Inverse CDFs of one velocity-component distribution and its restrictions."""

  def __init__(self, weights: np.ndarray):
    self._tables = {
        name: (_VALUES[mask], np.cumsum(weights[mask]) / weights[mask].sum())
        for name, mask in (("full", np.ones_like(_VALUES, bool)),
                           ("positive", _VALUES > 0), ("negative", _VALUES < 0))
    }

  def _sample(self, name: str, u: np.ndarray) -> np.ndarray:
    values, cdf = self._tables[name]
    index = np.searchsorted(cdf, u, side="right")
    return values[np.minimum(index, len(values) - 1)]

  def full(self, u):
    """Component in -4..4."""
    return self._sample("full", u)

  def positive(self, u):
    """Component in 1..4 (moving away from a low wall)."""
    return self._sample("positive", u)

  def negative(self, u):
    """Component in -4..-1 (moving away from a high wall)."""
    return self._sample("negative", u)


def velocity_probabilities(velocity_distribution: str) -> Dict[int, float]:
  """Returns {v: P(v)} of one initial velocity component for v in -4..4."""
  if velocity_distribution not in VELOCITY_DISTRIBUTIONS:
    raise ValueError(
        f"Unknown velocity_distribution {velocity_distribution!r}; valid values: "
        f"{', '.join(VELOCITY_DISTRIBUTIONS)}.")
  weights = _WEIGHTS[velocity_distribution]
  return {int(v): float(w / weights.sum()) for v, w in zip(_VALUES, weights)}


def resize_digits(images: np.ndarray, size: int = 32) -> np.ndarray:
  """Resizes uint8 images exactly as PIL's `Image.resize(..., BILINEAR)` does.

  The reference resizes each MNIST digit with torchvision `transforms.Scale`, i.e.
  PIL bilinear on the uint8 image. PIL applies a separable triangle filter with
  22-bit fixed-point weights, horizontally then vertically, rounding to uint8 after
  each pass; this does the same for all images at once with two matrix products
  (float64 holds the integer sums exactly).

  Args:
    images: uint8 `(num_images, height, width)`.
    size: output height and width.

  Returns:
    uint8 `(num_images, size, size)`.
  """
  num_images, height, width = images.shape
  precision = 22
  half = float(1 << (precision - 1))
  scale = float(1 << precision)
  rows = np.floor(0.5 + _bilinear_weights(height, size) * scale)  # (size, height)
  cols = np.floor(0.5 + _bilinear_weights(width, size) * scale)  # (size, width)
  out = np.empty((num_images, size, size), np.uint8)
  chunk = 4096
  for begin in range(0, num_images, chunk):
    x = images[begin:begin + chunk].astype(np.float64)
    n = len(x)
    # Horizontal pass: (n * height, width) @ (width, size) -> (n, height, size).
    h = np.floor((x.reshape(n * height, width) @ cols.T + half) / scale)
    h = np.clip(h, 0, 255).reshape(n, height, size)
    # Vertical pass on the transposed rows: (n * size, height) @ (height, size)
    # -> (n, size [columns], size [rows]).
    v = np.floor((h.transpose(0, 2, 1).reshape(n * size, height) @ rows.T + half) / scale)
    out[begin:begin + n] = np.clip(v, 0, 255).reshape(n, size, size).transpose(0, 2, 1)
  return out


def _bilinear_weights(in_size: int, out_size: int) -> np.ndarray:
  """PIL's bilinear (triangle) filter weights, `(out_size, in_size)`, rows sum to 1."""
  scale = in_size / out_size
  support = max(scale, 1.0)  # PIL widens the filter when downsampling.
  centers = (np.arange(out_size) + 0.5) * scale
  distance = (np.arange(in_size)[None, :] + 0.5 - centers[:, None]) / support
  weights = np.maximum(0.0, 1.0 - np.abs(distance))
  return weights / weights.sum(axis=1, keepdims=True)


@functools.lru_cache(maxsize=None)
def _resized_split(data_dir: Optional[str], env_data_dir: Optional[str], split: str,
                   digit_size: int) -> np.ndarray:
  """MNIST images of `split` resized to `digit_size`, loaded once per process."""
  del env_data_dir  # Part of the cache key only: load_mnist reads the variable itself.
  x_train, x_test = _load_mnist(data_dir, os.environ.get(mnist.ENV_VAR))
  digits = resize_digits(x_train if split == "train" else x_test, digit_size)
  digits.setflags(write=False)
  return digits


@functools.lru_cache(maxsize=None)
def _load_mnist(data_dir: Optional[str],
                env_data_dir: Optional[str]) -> Tuple[np.ndarray, np.ndarray]:
  del env_data_dir  # Part of the cache key only.
  x_train, x_test, _ = mnist.load_mnist(data_dir)
  return x_train, x_test


def _check_int(name: str, value, minimum: int) -> None:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
    raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")


@registry.register("smmnist")
def build(split: str,
          *,
          batch_size: int,
          num_frames: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          num_digits: int = 2,
          deterministic_bounce: bool = False,
          velocity_distribution: str = "uniform",
          num_test_sequences: int = 256) -> tf.data.Dataset:
  """Builds SM-MNIST as a `tf.data.Dataset` (contract in `tfgen.data.registry`).

  Args:
    split: "train": an endless stream, sequence k drawn from `default_rng([seed, k])`
      with MNIST train digits; "test": the fixed set of sequences 0 ..
      `num_test_sequences` - 1 drawn with `TEST_SEED` (not `seed`) from MNIST test
      digits, identical for every run.
    batch_size: sequences per element.
    num_frames: frames per sequence.
    seed: non-negative int, seed of the training stream (unused by "test").
    data_dir: optional Keras-layout `mnist.npz` or its directory (`load_mnist`).
    start_index: number of the first sequence (resumes the stream exactly).
    drop_remainder: drop a last incomplete test batch.
    num_digits: digits per sequence.
    deterministic_bounce: negate velocities at walls instead of re-drawing them.
    velocity_distribution: "uniform" or "nonuniform".
    num_test_sequences: size of the test set.

  Returns:
    A dataset of float32 `(batch_size, num_frames, 64, 64, 1)` frames in [0, 1].
  """
  if split not in SPLITS:
    raise ValueError(f"Unknown split {split!r}; valid splits: {', '.join(SPLITS)}.")
  _check_int("batch_size", batch_size, 1)
  _check_int("start_index", start_index, 0)
  _check_int("num_test_sequences", num_test_sequences, 1)
  source = StochasticMovingMNIST(
      split,
      num_digits=num_digits,
      num_frames=num_frames,
      deterministic_bounce=deterministic_bounce,
      velocity_distribution=velocity_distribution,
      seed=seed if split == "train" else TEST_SEED,
      data_dir=data_dir)
  return source_dataset(source, split, batch_size=batch_size, start_index=start_index,
                        drop_remainder=drop_remainder, num_test_sequences=num_test_sequences)


def source_dataset(source: StochasticMovingMNIST, split: str, *, batch_size: int,
                   start_index: int = 0, drop_remainder: bool = True,
                   num_test_sequences: int = 256) -> tf.data.Dataset:
  """The registry-contract dataset of a generator (`StochasticMovingMNIST` or a subclass).

  "train": sequences `start_index`, `start_index` + 1, ... without end; "test":
  sequences `start_index` .. `num_test_sequences` - 1. Elements are float32
  `(batch_size, num_frames, image_size, image_size, source.channels)`.
  """
  end = _MAX_INDEX if split == "train" else num_test_sequences
  indices = tf.data.Dataset.range(start_index, end)
  dataset = indices.batch(batch_size, drop_remainder=drop_remainder)
  static_batch = batch_size if (drop_remainder or split == "train") else None

  def generate(batch_indices):
    frames = tf.numpy_function(source.batch, [batch_indices], tf.float32, stateful=False)
    frames.set_shape((static_batch, source.num_frames, source.image_size, source.image_size,
                      source.channels))
    return frames

  dataset = dataset.map(generate, num_parallel_calls=tf.data.AUTOTUNE,
                        deterministic=True)
  return dataset.prefetch(tf.data.AUTOTUNE)
