"""The four frames of a DrNET training example, picked from each clip of a data stream.

A DrNET step sees four frames per clip, in `DrNet`'s `FRAME_KEYS` order (drnet-py's
x[0..3]): `content` (its content and skips are decoded), `content_target` (its content is
the similarity target), `pose` (its pose is decoded; the reconstruction target) and
`pose_partner` (its pose is `pose`'s same-clip partner in E_p's adversarial loss). C's own
step pairs the poses of `content` and `content_target`. Frame numbers start at 0 in a clip
of `num_frames` frames:

- "thesis" (thesis §5.2, eq. 5.1-5.4; SPEC §2.2): an offset k uniform over the integers
  [0, K] (K = `max_offset`), then t uniform over [0, num_frames - 1 - k]; the frames are
  content = t, content_target = t + k, pose = t + k, pose_partner = t. So the decoder
  renders x^{t+k} from the content of x^t and the pose of x^{t+k} (eq. 5.1), the
  similarity loss compares the contents of x^t and x^{t+k} (eq. 5.2), and both adversarial
  losses see the same-clip pose pair (h_p^t, h_p^{t+k}) (eq. 5.3, 5.4). k = 0 is allowed,
  as in the thesis (all four frames are then one frame).
- "consecutive" (drnet-py on Moving MNIST and SUNCG, DRNET_FACTS §5): frames 0, 1, 2, 3,
  i.e. content 0, content_target 1, pose 2, pose_partner 3; nothing random.
- "independent" (drnet-py on KTH): four independent uniform draws from [0, num_frames - 1],
  with replacement, in `FRAME_KEYS` order.

The draws for clip number i of a stream come from `numpy.random.default_rng([SALT, seed,
i])`, so they depend only on (seed, i), like the clip itself (`tfgen.data.registry`): a run
resumed at clip `start_index` picks exactly the frames the uninterrupted run would have.
"""

import numpy as np
import tensorflow as tf

FRAME_SAMPLINGS = ("thesis", "consecutive", "independent")
NUM_FRAMES_PER_EXAMPLE = 4
# Separates these draws from the data set's own `default_rng([seed, i])` streams.
SALT = 0x0D12E7


def check(frame_sampling, num_frames, max_offset=None):
  """Raises `ValueError` unless clips of `num_frames` frames suit `frame_sampling`."""
  if frame_sampling not in FRAME_SAMPLINGS:
    raise ValueError(f"Unknown config.data.frame_sampling {frame_sampling!r}; valid: "
                     f"{', '.join(FRAME_SAMPLINGS)}.")
  if frame_sampling == "thesis":
    if (isinstance(max_offset, bool) or not isinstance(max_offset, (int, np.integer))
        or max_offset < 0):
      raise ValueError(f"frame_sampling 'thesis' needs config.data.max_offset, an int >= 0 "
                       f"(the thesis's K), got {max_offset!r}.")
    if num_frames < max_offset + 1:
      raise ValueError(f"config.data.num_frames ({num_frames}) must be >= max_offset + 1 "
                       f"({max_offset + 1}) for frame_sampling 'thesis'.")
  elif frame_sampling == "consecutive" and num_frames < NUM_FRAMES_PER_EXAMPLE:
    raise ValueError(f"config.data.num_frames ({num_frames}) must be >= 4 for "
                     "frame_sampling 'consecutive' (frames 0, 1, 2, 3).")
  elif num_frames < 1:
    raise ValueError(f"config.data.num_frames must be >= 1, got {num_frames}.")


def frame_indices(frame_sampling, num_frames, clip_indices, seed, max_offset=None):
  """The frames each clip contributes, in `FRAME_KEYS` order (module docstring).

  Args:
    frame_sampling: "thesis", "consecutive" or "independent".
    num_frames: int, frames per clip.
    clip_indices: int `(batch,)`, the clips' numbers in their stream.
    seed: non-negative int, the stream's seed.
    max_offset: int, the thesis's K ("thesis" only).

  Returns:
    int64 `(batch, 4)`: row b holds the frame numbers of content, content_target, pose,
    pose_partner of clip `clip_indices[b]`.
  """
  check(frame_sampling, num_frames, max_offset)
  clip_indices = np.asarray(clip_indices, np.int64).reshape(-1)
  if frame_sampling == "consecutive":
    return np.tile(np.arange(NUM_FRAMES_PER_EXAMPLE, dtype=np.int64), (len(clip_indices), 1))
  rows = []
  for index in clip_indices:
    rng = np.random.default_rng([SALT, int(seed), int(index)])
    if frame_sampling == "thesis":
      k = rng.integers(max_offset + 1)
      t = rng.integers(num_frames - k)
      rows.append((t, t + k, t + k, t))
    else:  # "independent"
      rows.append(rng.integers(num_frames, size=NUM_FRAMES_PER_EXAMPLE))
  return np.asarray(rows, np.int64).reshape(len(clip_indices), NUM_FRAMES_PER_EXAMPLE)


def sample_frames(dataset, frame_sampling, *, batch_size, num_frames, seed, start_index=0,
                  max_offset=None):
  """Maps a stream of clip batches to DrNET examples.

  Args:
    dataset: a registered data set's training stream (`tfgen.data.registry`) of float
      `(batch_size, num_frames, H, W, C)` batches whose first clip is number `start_index`
      and whose batches are all full.
    frame_sampling: "thesis", "consecutive" or "independent" (module docstring).
    batch_size: int, clips per batch.
    num_frames: int, frames per clip.
    seed: the stream's seed (`config.train.seed`).
    start_index: number of the stream's first clip.
    max_offset: the thesis's K ("thesis" only).

  Returns:
    A dataset of `(batch_size, 4, H, W, C)` batches, frames in `FRAME_KEYS` order, which
    `DrNet.train_step` takes as they are.
  """
  check(frame_sampling, num_frames, max_offset)

  def draw(first):
    return frame_indices(frame_sampling, num_frames, np.arange(first, first + batch_size),
                         seed, max_offset)

  def pick(batch_number, clips):
    first = tf.cast(start_index, tf.int64) + batch_number * batch_size
    indices = tf.numpy_function(draw, [first], tf.int64, stateful=False)
    indices.set_shape((batch_size, NUM_FRAMES_PER_EXAMPLE))
    # (B, T, H, W, C) gathered along time per clip -> (B, 4, H, W, C).
    return tf.gather(clips, indices, axis=1, batch_dims=1)

  return dataset.enumerate().map(pick, num_parallel_calls=tf.data.AUTOTUNE,
                                 deterministic=True).prefetch(tf.data.AUTOTUNE)
