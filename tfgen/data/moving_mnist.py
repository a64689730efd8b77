"""Two-colour Moving MNIST for DrNET (thesis §5.3.2, SPEC §2.4, DRNET_FACTS §5).

drnet-py's generator (`data/moving_mnist.py`), re-written on tfgen's SM-MNIST generator
(`tfgen.data.smmnist`, whose motion it shares):

- a 64x64 canvas with 3 channels; each MNIST digit resized from 28x28 to 32x32 (PIL
  bilinear, as drnet-py's `transforms.Scale(32)`), in [0, 1];
- `num_digits` (default 2, at most 3) digits; **digit n is drawn in channel n** (red, green;
  with two digits the blue channel stays 0): "we found it to be necessary to use a
  different color for the two digits" (thesis §5.3.2);
- per digit a start position (y, x) uniform over the integers [0, 31] and a constant-speed
  motion with **deterministic bounces**: before drawing, a coordinate below 0 is clamped to
  0, one at or above 32 to 31, and that velocity component is negated (y checked before x,
  as drnet-py);
- one digit, drawn uniformly per sequence, is **in front**: where it is non-zero the other
  digits' channels are zeroed in every frame (drnet-py l.72-75);
- velocity components uniform over the integers -4..4 (`velocities="symmetric"`, default,
  the thesis's and SPEC's "-4..4") or over -4..3 (`velocities="reference"`, what drnet-py's
  `np.random.randint(-4, 4)` draws; 0 is possible in both).

Deviations from drnet-py, on purpose: the symmetric default (above); the random numbers
(drnet-py seeds numpy's global generator once per loader worker, so its clips are not
reproducible; here clip k depends only on (seed, k), drawn from `default_rng([seed, k])` in
the order digit indices, start positions, velocities, SM-MNIST's unused re-draw noise, then
the front digit); `num_digits` above 3 is refused (drnet-py would index a fourth channel).
The test split is the fixed set of clips 0 .. `num_test_sequences` - 1 drawn with
`TEST_SEED` from MNIST test digits, whatever the training seed.

MNIST comes from the same sources as SM-MNIST (`tfgen.data.mnist.load_mnist`: `data_dir`,
`$TFGEN_DATA_DIR`, the Keras cache, a download, or the small subset shipped with tfgen).
"""

from typing import Dict, Optional

import numpy as np
import tensorflow as tf

from tfgen.data import registry
from tfgen.data import smmnist

CHANNELS = 3
VELOCITIES = ("symmetric", "reference")
# Seed of the registered builder's test split, independent of the training seed.
TEST_SEED = 20171204


class MovingMNIST(smmnist.StochasticMovingMNIST):
  """Two-colour deterministic Moving MNIST in numpy (module docstring).

  Args:
    split: "train" (digits from MNIST train) or "test" (digits from MNIST test).
    num_digits: int in 1..3, digits per sequence; digit n is drawn in channel n.
    num_frames: int, frames per sequence (drnet-py `--max_step`, 20).
    velocities: "symmetric" (components in -4..4, default) or "reference" (drnet-py's
      -4..3).
    seed: non-negative int; sequence k is drawn from `default_rng([seed, k])`.
    data_dir: optional Keras-layout `mnist.npz` or its directory (`load_mnist`).
    digits: optional uint8 `(N, 28, 28)` MNIST images instead of the split's.
    image_size: int, canvas size (64).
    digit_size: int, size the digits are resized to (32).

  Example:
    >>> source = MovingMNIST("train", num_frames=20, seed=1)
    >>> source.sequence(7)["frames"].shape
    (20, 64, 64, 3)
  """

  def __init__(self, split: str = "train", *, num_digits: int = 2, num_frames: int = 20,
               velocities: str = "symmetric", seed: int = 0,
               data_dir: Optional[str] = None, digits: Optional[np.ndarray] = None,
               image_size: int = 64, digit_size: int = 32):
    if velocities not in VELOCITIES:
      raise ValueError(f"Unknown velocities {velocities!r}; valid values: "
                       f"{', '.join(VELOCITIES)}.")
    if isinstance(num_digits, bool) or not isinstance(num_digits, (int, np.integer)) or not (
        1 <= num_digits <= CHANNELS):
      raise ValueError(f"num_digits must be an int in 1..{CHANNELS} (digit n is drawn in "
                       f"channel n), got {num_digits!r}.")
    self.velocities = velocities
    super().__init__(split, num_digits=num_digits, num_frames=num_frames,
                     deterministic_bounce=True, velocity_distribution="uniform", seed=seed,
                     data_dir=data_dir, digits=digits, image_size=image_size,
                     digit_size=digit_size)

  @property
  def channels(self) -> int:
    return CHANNELS

  def _velocity_weights(self) -> np.ndarray:
    weights = super()._velocity_weights().copy()  # uniform over -4..4
    if self.velocities == "reference":
      values = np.arange(-smmnist.MAX_SPEED, smmnist.MAX_SPEED + 1)
      weights[values == smmnist.MAX_SPEED] = 0.0  # -4..3, as np.random.randint(-4, 4)
    return weights

  def _draw_sequence(self, rng: np.random.Generator) -> Dict[str, np.ndarray]:
    draws = super()._draw_sequence(rng)
    draws["front"] = rng.integers(self.num_digits)  # the digit drawn over the others
    return draws

  def _frames(self, positions: np.ndarray, draws: Dict[str, np.ndarray]) -> np.ndarray:
    return self.colour(positions, self.digit_images(draws["digit_indices"]), draws["front"])

  def render(self, trajectory: smmnist.Trajectory, digits: np.ndarray,
             front: int = 0) -> np.ndarray:
    """Draws one sequence's digits along its trajectory, digit `front` in front.

    Returns:
      float32 `(time, image_size, image_size, 3)` frames in [0, 1].
    """
    positions = np.asarray(trajectory.positions)
    return self.colour(positions[None], np.asarray(digits, np.float32)[None], [front])[0]

  def colour(self, positions: np.ndarray, digits: np.ndarray, front) -> np.ndarray:
    """Draws digit n into channel n, the `front` digit over the others.

    Args:
      positions: int `(batch, time, num_digits, 2)` top-left corners (y, x).
      digits: float32 `(batch, num_digits, digit_size, digit_size)` in [0, 1].
      front: int `(batch,)`, the digit in front in each sequence.

    Returns:
      float32 `(batch, time, image_size, image_size, 3)` in [0, 1].
    """
    # One greyscale canvas per digit: (batch, time, H, W, 1) each.
    layers = [self._render(positions[:, :, d:d + 1], digits[:, d:d + 1])
              for d in range(self.num_digits)]
    frames = np.concatenate(layers, axis=-1)  # (B, T, H, W, num_digits)
    front = np.asarray(front, np.int64).reshape(-1)
    in_front = np.take_along_axis(frames, front[:, None, None, None, None], axis=-1) > 0
    is_front = np.arange(self.num_digits) == front[:, None, None, None, None]
    frames = np.where(in_front & ~is_front, np.float32(0), frames)
    padding = np.zeros(frames.shape[:-1] + (CHANNELS - self.num_digits,), np.float32)
    return np.concatenate([frames, padding], axis=-1)


@registry.register("mnist")
def build(split: str,
          *,
          batch_size: int,
          num_frames: int,
          seed: int,
          data_dir: Optional[str] = None,
          start_index: int = 0,
          drop_remainder: bool = True,
          num_digits: int = 2,
          velocities: str = "symmetric",
          num_test_sequences: int = 256) -> tf.data.Dataset:
  """Builds two-colour Moving MNIST as a `tf.data.Dataset` (contract in `tfgen.data.registry`).

  Args:
    split: "train": an endless stream, clip k drawn from `default_rng([seed, k])` with
      MNIST train digits; "test": the fixed clips 0 .. `num_test_sequences` - 1 drawn with
      `TEST_SEED` (not `seed`) from MNIST test digits.
    batch_size: clips per element.
    num_frames: frames per clip.
    seed: non-negative int, seed of the training stream (unused by "test").
    data_dir: optional Keras-layout `mnist.npz` or its directory (`load_mnist`).
    start_index: number of the first clip (resumes the stream exactly).
    drop_remainder: drop a last incomplete test batch.
    num_digits: digits per clip, 1..3.
    velocities: "symmetric" (-4..4) or "reference" (drnet-py's -4..3).
    num_test_sequences: size of the test set.

  Returns:
    A dataset of float32 `(batch_size, num_frames, 64, 64, 3)` frames in [0, 1].
  """
  if split not in smmnist.SPLITS:
    raise ValueError(f"Unknown split {split!r}; valid splits: {', '.join(smmnist.SPLITS)}.")
  for name, value, minimum in (("batch_size", batch_size, 1), ("start_index", start_index, 0),
                               ("num_test_sequences", num_test_sequences, 1)):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
      raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}.")
  source = MovingMNIST(split, num_digits=num_digits, num_frames=num_frames,
                       velocities=velocities, seed=seed if split == "train" else TEST_SEED,
                       data_dir=data_dir)
  return smmnist.source_dataset(source, split, batch_size=batch_size, start_index=start_index,
                                drop_remainder=drop_remainder,
                                num_test_sequences=num_test_sequences)
