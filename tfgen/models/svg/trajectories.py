"""Trajectory distributions of single-digit SM-MNIST (thesis §6.3.3, Fig. 6.5 and 6.7, SPEC §1.5).

Does the model capture the distribution of digit motion, deterministic before a wall
collision and random after it? For each of `num_trajectories` trajectories:

1. Trajectory. One single-digit trajectory of T = context + future frames is drawn from
   `np.random.default_rng([seed, k])` with the run's bounce rule (`tfgen.data.smmnist`),
   re-drawn until there is NO collision during the context frames and the first collision
   falls in the future, at a frame followed by at least one more future frame (when
   `num_future_frames` >= 2), so the figure shows the spike before the collision and the
   spread after it. The context frames are then the same for every continuation.
2. Ground truth: the exact conditional distribution of the future. The start position and
   initial velocity are kept and the bounce noise is re-drawn, `num_digits_per_trajectory
   * num_samples` times (`_integrate` of the data module with fresh noise, so the bounce
   rule is the data's own); before the first collision every continuation moves exactly as
   the drawn trajectory, so all share its context frames. Continuation i is rendered with
   the trajectory's digit i // num_samples.
3. Model: the context frames are rendered with `num_digits_per_trajectory` different MNIST
   test digits, and `model.generate` draws `num_samples` futures of each (one future for a
   deterministic model, `prior="none"`: its histogram is a spike, the baseline).
4. Localisation, the same for ground-truth and generated frames, in-graph and batched: the
   frame is cross-correlated with the digit used in the context frames (the 32x32 resized
   MNIST image, known since we rendered it; "the digit used in the initial conditioning
   frames" in the thesis). The score of the VALID correlation at top-left corner (y, x),
   33x33 positions for a 64x64 frame, is the normalised cross-correlation (NCC) of the
   template with the 32x32 window: the zero-mean template's correlation with the window
   divided by both norms (the window's after subtracting its mean), in [-1, 1]; a blank
   window scores 0. The argmax is the digit's top-left corner. On clean frames NCC is 1
   exactly at the true position and below 1 elsewhere (tested on many sequences; plain
   correlation would also recover it there, but NCC ignores brightness and blur offsets
   of generated frames). The correlation is computed with FFTs (exact for VALID
   positions: the zero-padded template never wraps around).
5. Statistics per future step s = 1..F, the displacement (dy, dx) from frame C + s - 1 to
   frame C + s (frames numbered from 1; step 1 starts at the last context frame):
   - a 2-D histogram over integer bins -8..8 per axis (`HISTOGRAM_RADIUS`), values outside
     clipped into the edge bins (the fraction clipped is reported); stored as counts,
     normalised by their total for the comparisons and plots;
   - `tv`: total variation distance between the model's and the ground truth's normalised
     joint histograms, 0.5 * sum |p - q|, in [0, 1];
   - `emd_dx`, `emd_dy`: 1-D earth mover's (Wasserstein-1) distances, in pixels, between
     the model's and the ground truth's raw (unclipped) dx, and dy, values;
   - `tv_floor`, `emd_dx_floor`, `emd_dy_floor`: the same distances between the ground
     truth and an independent exact draw (true positions) of as many continuations as the
     model has samples: what a perfect model would score with this many samples;
   - means and standard deviations of dx and dy; `gt_collision_rate`, the fraction of
     ground-truth continuations that collide at the step's frame.
   Steps up to and including the first collision frame are "before the first collision":
   their ground truth is a spike (the displacement into the wall is still certain); the
   summaries average `tv` and the EMDs over those steps and over the later ones, per
   trajectory and over all trajectories.

Outputs (`output_dir`, default `<workdir>/trajectories`), written whole or not at all
(`evaluate.replace_directory`): `trajectories.json` (every number: settings, per
trajectory the start, velocity, drawn positions, collision frames, digits, and per step
the distances, moments and histograms), `trajectories.csv` (one row per trajectory and
step, `CSV_COLUMNS`), `trajectory_<k>.png` (like Fig. 6.5: model histograms on top, ground
truth below, one column per future step, collisions marked in the column titles, and the
context trajectory) and `tv_per_step.png` (TV per step of every trajectory, with the
floors and the collision frames).

References:
  E. Denton. Deep Generative Models of Images and Video. PhD thesis, NYU 2018, §6.3.3.
  E. Denton, R. Fergus. Stochastic Video Generation with a Learned Prior. ICML 2018.
"""

import json
import math
import os

from absl import logging
import numpy as np
import tensorflow as tf
import tqdm

from tfgen.data import smmnist
from tfgen.evaluation import evaluate
from tfgen.train import workdir as workdir_lib

RESULTS_FILE = "trajectories.json"
CSV_FILE = "trajectories.csv"
TV_PLOT_FILE = "tv_per_step.png"
# Frames predicted per trajectory unless asked otherwise: the thesis's SM-MNIST horizon
# (Fig. 6.5 shows collisions up to t = 16; Fig. 6.8 evaluates 5 -> 20).
DEFAULT_FUTURE_FRAMES = 20
# Histogram bins per axis: the integers -8..8 (true moves lie in -4..4).
HISTOGRAM_RADIUS = 8
# Default generated rows (digits x samples) per `generate` call.
ROWS_PER_BATCH = 256
# Re-draws allowed to find a trajectory with the required collisions.
MAX_TRAJECTORY_DRAWS = 100_000
LOCALIZERS = ("ncc", "zero_mean", "raw")
CSV_COLUMNS = (
    "trajectory", "step", "frame", "collision", "first_collision", "before_first_collision",
    "gt_collision_rate", "tv", "tv_floor", "emd_dx", "emd_dy", "emd_dx_floor", "emd_dy_floor",
    "model_mean_dx", "gt_mean_dx", "model_mean_dy", "gt_mean_dy", "model_std_dx", "gt_std_dx",
    "model_std_dy", "gt_std_dy", "model_clipped_fraction", "gt_clipped_fraction")


# ----------------------------------------------------------------------------- localisation


def correlation_scores(frames, templates, method="ncc"):
  """VALID cross-correlation scores of frames with per-example templates (FFT, in-graph).

  Args:
    frames: float `(batch, num_frames, H, W)`.
    templates: float `(batch, h, w)`; template b is matched against every frame of row b.
    method: "ncc" (normalised cross-correlation, module docstring), "zero_mean" (the
      zero-mean template's correlation) or "raw" (plain correlation).

  Returns:
    float32 `(batch, num_frames, H - h + 1, W - w + 1)`: the score of the template's
    top-left corner at each (y, x).
  """
  if method not in LOCALIZERS:
    raise ValueError(f"Unknown localiser {method!r}; valid: {', '.join(LOCALIZERS)}.")
  frames = tf.convert_to_tensor(frames, tf.float32)
  templates = tf.convert_to_tensor(templates, tf.float32)
  height, width = frames.shape[-2:]
  t_height, t_width = templates.shape[-2:]
  if None in (height, width, t_height, t_width) or t_height > height or t_width > width:
    raise ValueError(f"Need static frame and template sizes, template within the frame; got "
                     f"frames {frames.shape} and templates {templates.shape}.")
  if method != "raw":
    templates -= tf.reduce_mean(templates, axis=(1, 2), keepdims=True)
  # float64 throughout: the sums below cancel, and blank windows must score exactly 0.
  frames, templates = tf.cast(frames, tf.float64), tf.cast(templates, tf.float64)
  # Circular correlation via FFT: corr[y, x] = sum_ij frame[y + i, x + j] t[i, j]. With the
  # template zero-padded to the frame size, y + i <= H - 1 for every VALID y, so no term
  # wraps around and the VALID part equals the linear correlation.
  padded = tf.pad(templates, [[0, 0], [0, height - t_height], [0, width - t_width]])
  spectrum = tf.signal.rfft2d(frames) * tf.math.conj(tf.signal.rfft2d(padded))[:, None]
  scores = tf.signal.irfft2d(spectrum, fft_length=[height, width])
  scores = scores[:, :, :height - t_height + 1, :width - t_width + 1]  # (B, M, Y, X)
  if method != "ncc":
    return tf.cast(scores, tf.float32)
  # Sums of x and x^2 over every template-sized window, from integral images.
  area = float(t_height * t_width)
  window_sum = _window_sums(frames, t_height, t_width)
  window_squares = _window_sums(tf.square(frames), t_height, t_width)
  # The template sums to zero, so <window, t> = <window - mean(window), t>.
  variance = tf.maximum(window_squares - tf.square(window_sum) / area, 0.0)
  window_norm = tf.where(variance > 1e-9, tf.sqrt(variance), 0.0)  # Blank windows score 0.
  template_norm = tf.norm(tf.reshape(templates, [-1, t_height * t_width]), axis=1)
  ncc = tf.math.divide_no_nan(scores, window_norm * template_norm[:, None, None, None])
  return tf.cast(ncc, tf.float32)


def _window_sums(x, height, width):
  """Sums over every VALID `height` x `width` window of `x` `(..., H, W)`.

  Two products with 0/1 band matrices (window rows, then columns): exact in float64 and far
  faster on a CPU than integral images (`tf.cumsum`) or pooling with a 32x32 window.
  """
  def band(size, window):  # (size - window + 1, size): row y sums x[y .. y + window - 1].
    offset = tf.range(size)[None, :] - tf.range(size - window + 1)[:, None]
    return tf.cast((offset >= 0) & (offset < window), x.dtype)

  rows = band(x.shape[-2], height)  # (Y, H)
  columns = band(x.shape[-1], width)  # (X, W)
  return tf.einsum("bmhx,wx->bmhw", tf.einsum("yh,bmhw->bmyw", rows, x), columns)


def localize(frames, templates, method="ncc"):
  """Top-left corner (y, x) of each example's template in each of its frames (the argmax).

  Args:
    frames: float `(batch, ..., H, W, C)` (channels averaged).
    templates: float `(batch, h, w)`, the digit each row's frames show.
    method: a name from `LOCALIZERS` (see `correlation_scores`).

  Returns:
    int32 `(batch, ..., 2)` positions (y, x) in [0, H - h] x [0, W - w].
  """
  frames = tf.convert_to_tensor(frames, tf.float32)
  templates = tf.convert_to_tensor(templates, tf.float32)
  if frames.shape.rank is None or frames.shape.rank < 4:
    raise ValueError(f"frames must be (batch, ..., H, W, C), got {frames.shape}.")
  height, width = frames.shape[-3:-1]
  shape = tf.shape(frames)
  flat = tf.reshape(tf.reduce_mean(frames, axis=-1), [shape[0], -1, height, width])
  scores = correlation_scores(flat, templates, method)  # (B, M, Y, X)
  num_x = scores.shape[-1]
  best = tf.argmax(tf.reshape(scores, tf.concat([tf.shape(scores)[:2], [-1]], 0)), axis=-1,
                   output_type=tf.int32)  # (B, M): first maximum in raster order.
  positions = tf.stack([best // num_x, best % num_x], axis=-1)  # (B, M, 2) as (y, x)
  return tf.reshape(positions, tf.concat([shape[:-3], [2]], 0))


# ----------------------------------------------------------------------------- ground truth


def draw_trajectory(source, rng, num_context_frames, max_draws=MAX_TRAJECTORY_DRAWS):
  """Draws a single-digit trajectory with no context collision and a future one (docstring).

  Args:
    source: a `smmnist.StochasticMovingMNIST` with `num_digits=1`; its `num_frames` is T.
    rng: numpy generator.
    num_context_frames: C; frames 0..C-1 (0-based) must be collision-free.
    max_draws: give up after this many draws.

  Returns:
    `(trajectory, start, velocity)`: the `smmnist.Trajectory` (arrays `(T, 1, ...)`), and
    the int `(1, 2)` start position (y, x) and initial velocity (dy, dx).

  Raises:
    ValueError: the source is not single-digit, or T <= C.
    RuntimeError: no such trajectory within `max_draws` draws.
  """
  num_frames = source.num_frames
  if source.num_digits != 1 or num_frames <= num_context_frames:
    raise ValueError(f"Need a single-digit source with more than {num_context_frames} frames, "
                     f"got {source.num_digits} digits and {num_frames} frames.")
  # The first collision (0-based frame) must leave at least one future step after it.
  latest = max(num_context_frames, num_frames - 2)
  # The data's own draw and bounce rule (private there: no public API returns the noise).
  draw_noise = source._draw_trajectory_noise  # pylint: disable=protected-access
  integrate = source._integrate  # pylint: disable=protected-access
  for _ in range(max_draws):
    start, velocity, noise = draw_noise(rng)
    trajectory = integrate(start[None], velocity[None], noise[None])
    collisions = trajectory.collisions[0, :, 0]  # (T,)
    hits = np.flatnonzero(collisions)
    if len(hits) and num_context_frames <= hits[0] <= latest:
      return smmnist.Trajectory(*(a[0] for a in trajectory)), start, velocity
  raise RuntimeError(f"No trajectory of {num_frames} frames without collision in the "
                     f"{num_context_frames} context frames and with one at frames "
                     f"{num_context_frames}..{latest} (0-based) in {max_draws} draws.")


def conditional_trajectories(source, start, velocity, num_continuations, rng):
  """The exact conditional: same start and initial velocity, fresh bounce noise.

  Args:
    source: the `smmnist.StochasticMovingMNIST` the trajectory came from.
    start: int `(1, 2)` start position (y, x).
    velocity: int `(1, 2)` initial velocity (dy, dx).
    num_continuations: number of draws.
    rng: numpy generator of the noise.

  Returns:
    A `smmnist.Trajectory` with arrays `(num_continuations, T, 1, ...)`.
  """
  noise = rng.random((num_continuations, source.num_frames, 1, 2, 2))
  starts = np.repeat(np.asarray(start)[None], num_continuations, axis=0)
  velocities = np.repeat(np.asarray(velocity)[None], num_continuations, axis=0)
  return source._integrate(starts, velocities, noise)  # pylint: disable=protected-access


# ----------------------------------------------------------------------------- statistics


def displacements(positions):
  """(dy, dx) between consecutive frames: int `(..., T, 2)` -> `(..., T - 1, 2)`."""
  positions = np.asarray(positions, np.int64)
  return positions[..., 1:, :] - positions[..., :-1, :]


def displacement_histograms(moves, radius=HISTOGRAM_RADIUS):
  """Per-step 2-D histograms of integer displacements.

  Args:
    moves: int `(..., num_steps, 2)` displacements (dy, dx); all leading axes are pooled.
    radius: bins are the integers -radius..radius per axis; values beyond are clipped into
      the edge bins.

  Returns:
    int64 counts `(num_steps, 2 * radius + 1, 2 * radius + 1)` indexed [step, dy, dx]
    (bin i holds the value i - radius).
  """
  moves = np.asarray(moves, np.int64)
  num_steps, size = moves.shape[-2], 2 * radius + 1
  moves = np.clip(moves.reshape(-1, num_steps, 2), -radius, radius) + radius
  # One bincount over (step, dy, dx) cells.
  cells = (np.arange(num_steps) * size + moves[..., 0]) * size + moves[..., 1]
  counts = np.bincount(cells.ravel(), minlength=num_steps * size * size)
  return counts.reshape(num_steps, size, size)


def total_variation(p, q):
  """Total variation distance 0.5 * sum |p - q| of two histograms (normalised here).

  Args:
    p: non-negative array (counts or probabilities), any shape.
    q: the same shape as `p`.

  Returns:
    float in [0, 1].
  """
  p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
  if p.shape != q.shape:
    raise ValueError(f"Histograms of different shapes: {p.shape} and {q.shape}.")
  if p.sum() <= 0 or q.sum() <= 0 or p.min() < 0 or q.min() < 0:
    raise ValueError("Histograms must be non-negative with a positive total.")
  return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def wasserstein_1d(u_values, v_values):
  """Earth mover's (Wasserstein-1) distance of two 1-D empirical distributions.

  The integral of |F_u - F_v| over the real line, with F the empirical CDFs (as
  `scipy.stats.wasserstein_distance`); in the units of the values (pixels here).

  Args:
    u_values: samples of the first distribution, any shape (flattened).
    v_values: samples of the second.

  Returns:
    float >= 0.
  """
  u = np.sort(np.asarray(u_values, np.float64).ravel())
  v = np.sort(np.asarray(v_values, np.float64).ravel())
  if not len(u) or not len(v):
    raise ValueError("Need at least one value in each distribution.")
  support = np.sort(np.concatenate([u, v]))
  # F_u and F_v are constant on each [support[i], support[i + 1]).
  cdf_u = np.searchsorted(u, support[:-1], side="right") / len(u)
  cdf_v = np.searchsorted(v, support[:-1], side="right") / len(v)
  return float(np.sum(np.abs(cdf_u - cdf_v) * np.diff(support)))


def compare_steps(model_moves, gt_moves, radius=HISTOGRAM_RADIUS):
  """Per-step comparison of two sets of displacements.

  Args:
    model_moves: int `(..., F, 2)` (dy, dx) of the model (leading axes pooled).
    gt_moves: int `(..., F, 2)` of the ground truth.
    radius: histogram radius.

  Returns:
    dict with `tv`, `emd_dy`, `emd_dx` `(F,)` float64, and per source ("model", "gt")
    `<source>_histograms` `(F, 2r+1, 2r+1)` counts, `<source>_mean` and `<source>_std`
    `(F, 2)` as (dy, dx), `<source>_clipped_fraction` `(F,)`.
  """
  num_steps = np.shape(model_moves)[-2]
  flat = {"model": np.asarray(model_moves).reshape(-1, num_steps, 2),
          "gt": np.asarray(gt_moves).reshape(-1, num_steps, 2)}
  out = {}
  for name, moves in flat.items():
    out[f"{name}_histograms"] = displacement_histograms(moves, radius)
    out[f"{name}_mean"] = moves.mean(axis=0)
    out[f"{name}_std"] = moves.std(axis=0)
    out[f"{name}_clipped_fraction"] = (np.abs(moves) > radius).any(axis=-1).mean(axis=0)
  out["tv"] = np.array([total_variation(p, q) for p, q in zip(out["model_histograms"],
                                                                 out["gt_histograms"])])
  for axis, name in ((0, "emd_dy"), (1, "emd_dx")):
    out[name] = np.array([wasserstein_1d(flat["model"][:, s, axis], flat["gt"][:, s, axis])
                          for s in range(num_steps)])
  return out


# ----------------------------------------------------------------------------- running


def _check_count(name, value):
  if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
    raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")


def _check_run(workdir, config):
  """Raises ValueError unless the run is SVG-like on single-digit SM-MNIST."""
  name = config.data.name
  num_digits = dict(config.data.get("options", {})).get("num_digits", 2)
  if name != "smmnist" or num_digits != 1:
    raise ValueError(
        f"Trajectory distributions need a model trained on single-digit SM-MNIST "
        f"(config.data.name 'smmnist', config.data.options.num_digits 1); the run in "
        f"{workdir!r} has data {name!r} with num_digits {num_digits}.")


def _as_float(value):
  value = float(value)
  return value if math.isfinite(value) else None


def _mean_or_none(values):
  values = np.asarray(values, np.float64)
  return _as_float(values.mean()) if values.size else None


def _summary(steps, rows):
  """Mean distances over the steps before / after the first collision and over all."""
  summary = {}
  for group, keep in (("before_first_collision", lambda s: s["before_first_collision"]),
                      ("after_first_collision", lambda s: not s["before_first_collision"]),
                      ("all_steps", lambda s: True)):
    chosen = [s for s in steps if keep(s)]
    summary[group] = {"num_steps": len(chosen)}
    for key in rows:
      summary[group][f"mean_{key}"] = _mean_or_none([s[key] for s in chosen])
  return summary


def _sample_and_locate_fn(model, num_future_frames, num_samples, method):
  """A `tf.function(context, templates, seed)` -> model positions `(B, N, F + 1, 2)`."""

  @tf.function(reduce_retracing=True)
  def sample_and_locate(context, templates, seed):
    samples = model.generate(context, num_future_frames, num_samples, seed=seed)["samples"]
    samples = tf.cast(samples, tf.float32)  # (B, N, F, H, W, C)
    last = tf.repeat(context[:, None, -1:], num_samples, axis=1)  # (B, N, 1, H, W, C)
    return localize(tf.concat([last, samples], axis=2), templates, method)

  return sample_and_locate


def _trajectory_steps(k, trajectory, num_context, model_moves, gt_moves, floor_moves,
                      gt_collisions):
  """Per-step records of trajectory k (see the module docstring for the fields)."""
  stats = compare_steps(model_moves, gt_moves)
  floor = compare_steps(floor_moves, gt_moves)
  collisions = trajectory.collisions[:, 0]
  first = int(np.flatnonzero(collisions)[0])  # 0-based frame.
  steps = []
  for s in range(model_moves.shape[-2]):
    t = num_context + s  # 0-based frame the step arrives at.
    steps.append({
        "trajectory": k,
        "step": s + 1,
        "frame": t + 1,
        "collision": bool(collisions[t]),
        "first_collision": t == first,
        "before_first_collision": t <= first,
        "gt_collision_rate": float(gt_collisions[:, t].mean()),
        "tv": float(stats["tv"][s]),
        "tv_floor": float(floor["tv"][s]),
        "emd_dx": float(stats["emd_dx"][s]),
        "emd_dy": float(stats["emd_dy"][s]),
        "emd_dx_floor": float(floor["emd_dx"][s]),
        "emd_dy_floor": float(floor["emd_dy"][s]),
        "model_mean_dx": float(stats["model_mean"][s, 1]),
        "gt_mean_dx": float(stats["gt_mean"][s, 1]),
        "model_mean_dy": float(stats["model_mean"][s, 0]),
        "gt_mean_dy": float(stats["gt_mean"][s, 0]),
        "model_std_dx": float(stats["model_std"][s, 1]),
        "gt_std_dx": float(stats["gt_std"][s, 1]),
        "model_std_dy": float(stats["model_std"][s, 0]),
        "gt_std_dy": float(stats["gt_std"][s, 0]),
        "model_clipped_fraction": float(stats["model_clipped_fraction"][s]),
        "gt_clipped_fraction": float(stats["gt_clipped_fraction"][s]),
        "model_histogram": stats["model_histograms"][s].tolist(),
        "gt_histogram": stats["gt_histograms"][s].tolist(),
    })
  return steps


def csv_text(document):
  """One row per trajectory and future step, columns `CSV_COLUMNS`."""
  lines = [",".join(CSV_COLUMNS)]
  for entry in document["trajectories"]:
    for step in entry["steps"]:
      row = []
      for column in CSV_COLUMNS:
        value = step[column]
        row.append(str(int(value)) if isinstance(value, bool) else
                   ("" if value is None else str(value)))
      lines.append(",".join(row))
  return "\n".join(lines) + "\n"


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def plot_trajectory(document, entry, context_frame, path):
  """Fig. 6.5-style picture of one trajectory: model (top) and ground truth (bottom).

  Args:
    document: the results document (settings).
    entry: its trajectory record.
    context_frame: `(H, W)` last context frame (first digit), drawn under the path.
    path: PNG file to write.
  """
  plt = _pyplot()
  steps = entry["steps"]
  radius = document["histogram_radius"]
  num_steps = len(steps)
  figure = plt.figure(figsize=(2.8 + 1.05 * num_steps, 3.0))
  outer = figure.add_gridspec(1, 2, width_ratios=[2.4, 1.0 * num_steps], wspace=0.12)
  grid = outer[1].subgridspec(2, num_steps, wspace=0.08, hspace=0.15)
  # Context panel: the path of the digit's centre over the last context frame.
  axis = figure.add_subplot(outer[0])
  axis.imshow(context_frame, cmap="gray", vmin=0.0, vmax=1.0)
  positions = np.asarray(entry["positions"], np.float64) + document["digit_size"] / 2.0
  num_context = document["num_context_frames"]
  axis.plot(positions[:num_context, 1], positions[:num_context, 0], "o-", color="tab:green",
            markersize=3, label="context")
  axis.plot(positions[num_context - 1:, 1], positions[num_context - 1:, 0], "--",
            color="tab:orange", linewidth=1, label="drawn future")
  hits = [f - 1 for f in entry["collision_frames"]]
  axis.plot(positions[hits, 1], positions[hits, 0], "x", color="red", label="collision")
  axis.set_xticks([])
  axis.set_yticks([])
  axis.set_title(f"trajectory {entry['trajectory']}: v0 (dy, dx) = "
                 f"({entry['velocity'][0]}, {entry['velocity'][1]})", fontsize="small")
  axis.legend(fontsize="x-small", loc="lower left", framealpha=0.5)
  extent = [-radius - 0.5, radius + 0.5, radius + 0.5, -radius - 0.5]
  for s, step in enumerate(steps):
    model = np.asarray(step["model_histogram"], np.float64)
    truth = np.asarray(step["gt_histogram"], np.float64)
    model, truth = model / model.sum(), truth / truth.sum()
    for row, (histogram, label) in enumerate(((model, "model"), (truth, "ground truth"))):
      axis = figure.add_subplot(grid[row, s])
      # Each panel on its own colour scale (0 to its mode), as Fig. 6.5: shapes, not heights.
      axis.imshow(histogram, cmap="viridis", vmin=0.0, vmax=histogram.max(), extent=extent,
                  interpolation="nearest")
      axis.set_xticks([-4, 0, 4] if row == 1 else [])
      axis.set_yticks([-4, 0, 4] if s == 0 else [])
      axis.tick_params(labelsize="x-small")
      if s == 0:
        axis.set_ylabel(f"{label}\ndy", fontsize="small")
      if row == 1:
        axis.set_xlabel(f"dx  TV {step['tv']:.2f}", fontsize="x-small")
      if row == 0:
        title, color = f"t={step['frame']}", "black"
        if step["collision"]:
          title += "\ncollision"
          color = "red" if step["first_collision"] else "darkorange"
        axis.set_title(title, fontsize="small", color=color)
  figure.suptitle(f"{document['model_name']}: (dx, dy) per step, "
                  f"{document['velocity_distribution']} velocities; "
                  f"{document['num_digits_per_trajectory']} digits x "
                  f"{document['num_samples']} samples vs {document['num_gt_continuations']} "
                  "true continuations", fontsize="small")
  figure.savefig(path, dpi=80, bbox_inches="tight")
  plt.close(figure)


def plot_tv(document, path):
  """TV distance per step for every trajectory, with its floor and collision frames."""
  plt = _pyplot()
  figure, axis = plt.subplots(figsize=(7.0, 3.6))
  for entry in document["trajectories"]:
    color = f"C{entry['trajectory'] % 10}"
    frames = [s["frame"] for s in entry["steps"]]
    axis.plot(frames, [s["tv"] for s in entry["steps"]], "o-", color=color, markersize=3,
              label=f"trajectory {entry['trajectory']}")
    axis.plot(frames, [s["tv_floor"] for s in entry["steps"]], ":", color=color, linewidth=1)
    for frame in entry["collision_frames"]:
      if frame > document["num_context_frames"]:
        axis.axvline(frame, color=color, alpha=0.6,
                     linestyle="-" if frame == entry["first_collision_frame"] else "--",
                     linewidth=1)
  axis.set_ylim(0.0, 1.02)
  axis.set_xlabel("frame (vertical lines: collisions, solid the first)")
  axis.set_ylabel("TV(model, ground truth)")
  axis.set_title(f"{document['model_name']}: total variation of (dx, dy) per step "
                 "(dotted: sampling floor)", fontsize="small")
  axis.grid(alpha=0.3)
  axis.legend(fontsize="x-small")
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def write_outputs(output_dir, document, context_frames):
  """Writes the JSON, CSV and plots, whole or not at all (`evaluate.replace_directory`)."""

  def write(staging):
    with open(os.path.join(staging, RESULTS_FILE), "w") as f:
      json.dump(document, f, indent=1)
      f.write("\n")
    with open(os.path.join(staging, CSV_FILE), "w") as f:
      f.write(csv_text(document))
    for entry, frame in zip(document["trajectories"], context_frames):
      plot_trajectory(document, entry, frame,
                      os.path.join(staging, f"trajectory_{entry['trajectory']}.png"))
    plot_tv(document, os.path.join(staging, TV_PLOT_FILE))

  return evaluate.replace_directory(output_dir, write)


def analyze_trajectories(workdir, output_dir=None, num_trajectories=3, num_digits_per_trajectory=20,
                         num_samples=50, num_future_frames=None, seed=0, batch_size=None,
                         velocity_distribution=None, data_dir=None):
  """Measures the model's per-step distribution of digit motion against the truth (Fig. 6.5).

  Args:
    workdir: a training work directory of an SVG model (any prior, "none" included) trained
      on single-digit SM-MNIST.
    output_dir: where the outputs go (module docstring); default `<workdir>/trajectories`.
      Replaced wholesale; a directory with other files is refused.
    num_trajectories: trajectories analysed.
    num_digits_per_trajectory: MNIST test digits the context of each trajectory is
      rendered with.
    num_samples: futures drawn per digit (1 for a deterministic model); the ground truth
      has `num_digits_per_trajectory * num_samples` continuations per trajectory.
    num_future_frames: frames predicted; default `DEFAULT_FUTURE_FRAMES` (20). The
      context is the model's `num_context_frames`.
    seed: non-negative int; trajectory k, its digits and its ground truth come from
      `np.random.default_rng([seed, k, ...])`, the model's samples from stateless seeds
      `(seed, k * 65536 + batch)`.
    batch_size: digits per `generate` call (each gives `num_samples` rows); default
      `max(1, ROWS_PER_BATCH // num_samples)`.
    velocity_distribution: "uniform" or "nonuniform" velocities for the ground truth;
      default the run's `config.data.options.velocity_distribution`.
    data_dir: MNIST location (`tfgen.data.mnist.load_mnist`); default the run's.

  Returns:
    The document written to `trajectories.json`, with "output_dir" added.

  Raises:
    ValueError: a bad argument, a run that is not single-digit SM-MNIST, an output
      directory that is not ours (all before any sample is drawn).
    workdir_lib.WorkdirError: no config or no checkpoint in `workdir`.
  """
  for name, value in (("num_trajectories", num_trajectories),
                      ("num_digits_per_trajectory", num_digits_per_trajectory),
                      ("num_samples", num_samples)):
    _check_count(name, value)
  for name, value in (("num_future_frames", num_future_frames), ("batch_size", batch_size)):
    if value is not None:
      _check_count(name, value)
  if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f"seed must be an integer >= 0, got {seed!r}.")
  if velocity_distribution is not None and (
      velocity_distribution not in smmnist.VELOCITY_DISTRIBUTIONS):
    raise ValueError(f"Unknown velocity_distribution {velocity_distribution!r}; valid: "
                     f"{', '.join(smmnist.VELOCITY_DISTRIBUTIONS)}.")
  output_dir = output_dir or os.path.join(workdir, "trajectories")
  evaluate.check_output_dir(output_dir, marker=RESULTS_FILE)
  config = workdir_lib.load_config(workdir)
  _check_run(workdir, config)
  model, config, checkpoint_path = workdir_lib.load_model(workdir, config)
  if not hasattr(model, "generate") or not hasattr(model, "num_context_frames"):
    raise ValueError(f"The model of {workdir!r} ({config.model.name}) cannot generate "
                     "futures; trajectory distributions need an SVG model.")

  options = dict(config.data.get("options", {}))
  velocity_source = "argument" if velocity_distribution is not None else "run"
  velocity_distribution = velocity_distribution or options.get("velocity_distribution",
                                                                 "uniform")
  deterministic_bounce = bool(options.get("deterministic_bounce", False))
  num_context = model.num_context_frames
  num_future = num_future_frames or DEFAULT_FUTURE_FRAMES
  stochastic = bool(getattr(model, "stochastic", True))
  model_samples = num_samples if stochastic else 1
  batch_size = batch_size or max(1, ROWS_PER_BATCH // num_samples)
  num_gt = num_digits_per_trajectory * num_samples
  source = smmnist.StochasticMovingMNIST(
      "test", num_digits=1, num_frames=num_context + num_future,
      deterministic_bounce=deterministic_bounce, velocity_distribution=velocity_distribution,
      seed=seed, data_dir=data_dir or config.data.get("data_dir"))
  digit_size = source.digit_size
  logging.info("Trajectory distributions of %s (%s): %d trajectories x %d digits x %d "
               "samples, %d -> %d frames, %s velocities.", workdir, checkpoint_path,
               num_trajectories, num_digits_per_trajectory, model_samples, num_context,
               num_future, velocity_distribution)

  sample_and_locate = _sample_and_locate_fn(model, num_future, model_samples, "ncc")
  locate = tf.function(lambda frames, templates: localize(frames, templates, "ncc"),
                       reduce_retracing=True)
  num_batches = -(-num_digits_per_trajectory // batch_size)
  entries, context_frames = [], []
  with tqdm.tqdm(total=num_trajectories * num_batches, unit="batch", dynamic_ncols=True,
                 desc=f"trajectories N={model_samples}") as progress:
    for k in range(num_trajectories):
      rng = np.random.default_rng([seed, k])
      trajectory, start, velocity = draw_trajectory(source, rng, num_context)
      digit_indices = rng.choice(source.num_source_digits, num_digits_per_trajectory,
                                 replace=num_digits_per_trajectory > source.num_source_digits)
      templates = source.digit_images(digit_indices)  # (D, 32, 32)
      context = np.stack([source.render(trajectory, t[None])[:num_context]
                          for t in templates])  # (D, C, H, W, 1)
      truth = conditional_trajectories(source, start, velocity, num_gt,
                                       np.random.default_rng([seed, k, 1]))
      floor = conditional_trajectories(source, start, velocity,
                                       num_digits_per_trajectory * model_samples,
                                       np.random.default_rng([seed, k, 2]))
      # Frames C-1 .. T-1 (0-based) of every continuation: (D, N, F + 1, 1, 2).
      gt_true = truth.positions[:, num_context - 1:].reshape(
          num_digits_per_trajectory, num_samples, num_future + 1, 1, 2)
      model_positions, gt_positions = [], []
      for i, begin in enumerate(range(0, num_digits_per_trajectory, batch_size)):
        end = min(begin + batch_size, num_digits_per_trajectory)
        seed_pair = tf.constant([seed, k * 65536 + i], tf.int64)
        model_positions.append(
            sample_and_locate(tf.constant(context[begin:end]),
                              tf.constant(templates[begin:end]), seed_pair).numpy())
        rows = (end - begin) * num_samples
        digits = np.repeat(templates[begin:end], num_samples, axis=0)[:, None]
        frames = source._render(  # pylint: disable=protected-access
            gt_true[begin:end].reshape(rows, num_future + 1, 1, 2), digits)
        frames = frames.reshape((end - begin, num_samples) + frames.shape[1:])
        gt_positions.append(locate(frames, templates[begin:end]).numpy())
        progress.update(1)
      model_positions = np.concatenate(model_positions)  # (D, N_model, F + 1, 2)
      gt_positions = np.concatenate(gt_positions)  # (D, N, F + 1, 2)
      gt_exact = (gt_positions == gt_true[..., 0, :]).all(axis=-1).mean()
      floor_true = floor.positions[:, num_context - 1:, 0]  # (D * N_model, F + 1, 2)
      steps = _trajectory_steps(k, trajectory, num_context, displacements(model_positions),
                                displacements(gt_positions), displacements(floor_true),
                                truth.collisions[..., 0])
      collision_frames = [int(t) + 1 for t in np.flatnonzero(trajectory.collisions[:, 0])]
      entry = {
          "trajectory": k,
          "start": [int(v) for v in start[0]],
          "velocity": [int(v) for v in velocity[0]],
          "positions": trajectory.positions[:, 0].tolist(),
          "collision_frames": collision_frames,
          "first_collision_frame": collision_frames[0],
          "digit_indices": [int(i) for i in digit_indices],
          "gt_localization_accuracy": float(gt_exact),
          "model_clipped_fraction": _mean_or_none([s["model_clipped_fraction"] for s in steps]),
          "summary": _summary(steps, ("tv", "tv_floor", "emd_dx", "emd_dy")),
          "steps": steps,
      }
      if gt_exact < 1.0:
        logging.warning("Trajectory %d: the localiser recovered %.4f of the true positions "
                        "of the ground-truth frames.", k, gt_exact)
      entries.append(entry)
      context_frames.append(context[0, -1, ..., 0])

  all_steps = [s for entry in entries for s in entry["steps"]]
  document = {
      "workdir": workdir,
      "checkpoint": checkpoint_path,
      "model_name": config.get("model_name", config.model.name),
      "prior": getattr(model, "prior", None),
      "stochastic": stochastic,
      "velocity_distribution": velocity_distribution,
      "velocity_distribution_source": velocity_source,
      "deterministic_bounce": deterministic_bounce,
      "num_context_frames": num_context,
      "num_future_frames": num_future,
      "training_horizon": int(config.model.get("num_future_frames", 0)) or None,
      "num_trajectories": num_trajectories,
      "num_digits_per_trajectory": num_digits_per_trajectory,
      "num_samples": model_samples,
      "num_samples_requested": num_samples,
      "num_gt_continuations": num_gt,
      "seed": seed,
      "batch_size": batch_size,
      "digit_size": digit_size,
      "image_size": source.image_size,
      "mnist_split": "test",
      "histogram_radius": HISTOGRAM_RADIUS,
      "histogram": (f"counts over integer (dy, dx) bins -{HISTOGRAM_RADIUS}..{HISTOGRAM_RADIUS}"
                    " indexed [dy + r][dx + r]; values outside clipped into the edge bins; "
                    "normalised by their total for TV and plots"),
      "localizer": ("argmax of the normalised cross-correlation (zero-mean template, window "
                    "mean removed, both norms divided out) of each frame with the 32x32 "
                    "digit of the context frames over the 33x33 VALID top-left positions; "
                    "same for ground-truth and generated frames"),
      "ground_truth": ("exact conditional: the trajectory's start and initial velocity with "
                       "fresh bounce noise per continuation; continuation i rendered with "
                       "digit i // num_samples_requested"),
      "steps_definition": ("step s = 1..F is the move (dy, dx) from frame C + s - 1 to frame "
                           "C + s (frames numbered from 1); before_first_collision: frame <= "
                           "first collision frame (the true move is certain)"),
      "distances": ("tv = 0.5 sum |p - q| of the normalised joint histograms; emd_dx, emd_dy "
                    "= Wasserstein-1 of the raw values in pixels; *_floor = the same between "
                    "the ground truth and an independent exact draw as large as the model's"),
      "gt_localization_accuracy": _mean_or_none([e["gt_localization_accuracy"]
                                                 for e in entries]),
      "summary": _summary(all_steps, ("tv", "tv_floor", "emd_dx", "emd_dy")),
      "trajectories": entries,
  }
  summary = document["summary"]
  logging.info("Mean TV before the first collision %s, after %s (floor %s / %s).",
               summary["before_first_collision"]["mean_tv"],
               summary["after_first_collision"]["mean_tv"],
               summary["before_first_collision"]["mean_tv_floor"],
               summary["after_first_collision"]["mean_tv_floor"])
  document["output_dir"] = write_outputs(output_dir, document, context_frames)
  return document
