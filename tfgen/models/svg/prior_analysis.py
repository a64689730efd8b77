"""The learned prior's uncertainty along one shared trajectory (thesis Fig. 6.4, SPEC §1.5).

Thesis §6.3.1: "Five hundred test video sequences with different MNIST test digits but
synchronized motion were fed into the learned prior. The mean (± one standard deviation)
of sigma_psi(x_{1:t-1}) is plotted for t = 1..100. The true points of uncertainty, i.e.
when a digit hits a wall, are marked by vertical lines." A good prior is confident while
the digits fly straight and uncertain right after a wall collision, where SM-MNIST draws a
new random velocity.

Procedure: ONE trajectory of `num_digits` digits over `num_steps` frames is drawn from
`StochasticMovingMNIST("test", seed=seed).sample_trajectory(default_rng([seed, 0]))`, and
rendered `num_sequences` times with different MNIST test digits (indices from
`default_rng([seed, 1])`: all distinct when the test set has `num_sequences * num_digits`
digits, otherwise drawn with replacement, which the results say). Every clip goes through
the encoder and the learned prior LSTM_psi in batches (teacher forcing: the prior reads the
true frames, exactly as in training and during the context of `SVG.generate`).

Time convention (1-based frame numbers, as in the thesis):
- step t = 2..T is frame t; sigma at step t is sigma_psi(x_{1:t-1}), the standard deviation
  of the prior of z_t, the latent that generates frame t (`SVG.generate` draws z_t from
  exactly this distribution). Step 1 has no prior (nothing has been seen yet), so the
  outputs have T - 1 steps.
- The sigma of a step is the mean of the z_dim standard deviations of the diagonal
  Gaussian; per step, its mean and standard deviation (ddof = 0) over the sequences are
  reported, and the per-dimension means are kept too.
- A collision of digit d at frame c (`Trajectory.collisions[c - 1, d]`: the digit was
  clamped at a wall before frame c was drawn and its velocity re-drawn) makes frame c
  predictable (the clamped position follows from the past) but frame c + 1 random. The
  vertical line of that collision is therefore drawn at step s = c + 1, the first step
  whose frame shows the new velocity and whose prior (which has seen x_{1:c}, the digit
  at the wall) should be uncertain. Collisions at the last frame T mark no step.

Summary (`collision_ratio`): the collision steps are the window {s, s + 1} of every marked
step s (the first unpredictable frame and the one after it, where the model may still be
settling), the warm-up steps are t = 2 and 3 (the initial velocity is as random as a
re-drawn one until two frames have been seen), and the baseline steps are all others.
`collision_ratio` = mean over collision steps of the per-step mean sigma / the same mean over
the baseline steps (a collision window that overlaps the warm-up counts as collision). It is
> 1 when the prior is more uncertain right after collisions; null when either set of steps
is empty. Per collision, the sigma at its marked step and the peak over its window are
reported, with the mean sigma profile around marked steps (offsets -2..+3).

Outputs (`output_dir`, default `<workdir>/prior_analysis`), written whole or not at all
(`evaluate.replace_directory`):
- `prior_sigma.csv`: one row per step t = 2..T with columns `step, sigma_mean, sigma_std,
  collision_digit_<d>` (1 at the marked steps of digit d, else 0);
- `prior_sigma.png`: mean with a +-1 std band, a vertical line per marked step (red
  solid for digit 0, blue dashed for digit 1, other colours beyond);
- `prior_sigma.json`: every number (module docstring conventions included);
- `prior_sigma.npz`: `sigma` `(num_sequences, T - 1)`, `sigma_per_dim`
  `(num_sequences, T - 1, z_dim)`, `steps`, `digit_indices` `(num_sequences, num_digits)`
  and the trajectory arrays.
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

JSON_FILE = "prior_sigma.json"
CSV_FILE = "prior_sigma.csv"
PNG_FILE = "prior_sigma.png"
NPZ_FILE = "prior_sigma.npz"
DEFAULT_OUTPUT_SUBDIR = "prior_analysis"
# Sigma at step t is the prior of z_t given x_{1:t-1}: the first step with a prior is 2.
FIRST_STEP = 2
# Steps counted as "collision" after a marked step s: s, s + 1.
COLLISION_WINDOW = 2
# Steps 2 and 3 are left out of the baseline: the initial velocity is unknown until two
# frames have been seen.
WARMUP_STEPS = 2
# Offsets around marked steps of the mean sigma profile in the summary.
PROFILE_OFFSETS = tuple(range(-2, 4))
DIGIT_COLORS = ("red", "blue", "green", "orange", "purple", "brown")
# Lines of different digits at the same step stay visible: solid under dashed.
DIGIT_LINESTYLES = ("-", "--", ":", "-.")

TIME_CONVENTION = (
    "step t = 2..T is frame t (1-based); sigma at step t is sigma_psi(x_{1:t-1}), the "
    "std of the learned prior of z_t, averaged over the z dimensions. A collision of a digit "
    "at frame c (trajectory.collisions[c - 1]) is marked at step c + 1, the first frame "
    "that shows the re-drawn velocity.")
COLLISION_WINDOW_RULE = (
    f"collision steps: s .. s + {COLLISION_WINDOW - 1} for every marked step s; warm-up steps "
    f"{FIRST_STEP} .. {FIRST_STEP + WARMUP_STEPS - 1} excluded from the baseline (unless in a "
    "collision window); baseline: all other steps. collision_ratio = mean sigma over "
    "collision steps / mean sigma over baseline steps.")


# ----------------------------------------------------------------------------- pure maths


def marked_steps(collisions):
  """Steps whose frame is the first unpredictable one after a collision.

  Args:
    collisions: bool `(T, num_digits)`, `Trajectory.collisions` (row i is frame i + 1).

  Returns:
    bool `(T - 1, num_digits)` over steps t = 2..T: row i (step i + 2) is True for digit d
    when d collided at frame i + 1 = t - 1 (a collision at the last frame marks nothing).
  """
  collisions = np.asarray(collisions, bool)
  return collisions[:-1].copy()


def collision_statistics(sigma_mean, marks, window=COLLISION_WINDOW, warmup=WARMUP_STEPS):
  """The collision / baseline contrast of the per-step mean sigma (module docstring).

  Args:
    sigma_mean: float `(T - 1,)` mean sigma over sequences at steps t = 2..T.
    marks: bool `(T - 1, num_digits)` marked steps (`marked_steps`).
    window: collision steps per marked step s: s .. s + window - 1.
    warmup: the first `warmup` steps (t = 2 ..) are left out of the baseline.

  Returns:
    dict with `collision_ratio` (NaN when there is no collision or no baseline step),
    `collision_sigma_mean`, `baseline_sigma_mean`, `collision_steps`, `baseline_steps`,
    `warmup_steps` (lists of steps t), `collisions` (one dict per marked step and digit:
    `digit`, `collision_frame`, `step`, `sigma_at_step`, `window_peak`, `window_peak_step`,
    `peak_to_baseline`) and `profile` (offset -> mean sigma at s + offset over the marked
    steps s where it exists).
  """
  sigma_mean = np.asarray(sigma_mean, np.float64)
  marks = np.asarray(marks, bool)
  num = sigma_mean.shape[0]
  if marks.shape[0] != num:
    raise ValueError(f"marks has {marks.shape[0]} steps, sigma_mean {num}.")
  steps = np.arange(FIRST_STEP, FIRST_STEP + num)
  in_window = np.zeros(num, bool)
  marked = [(int(i), int(d)) for i, d in zip(*np.nonzero(marks))]
  for i, _ in marked:
    in_window[i:i + window] = True
  in_warmup = np.arange(num) < warmup
  baseline = ~in_window & ~in_warmup
  collision_mean = sigma_mean[in_window].mean() if in_window.any() else math.nan
  baseline_mean = sigma_mean[baseline].mean() if baseline.any() else math.nan
  per_collision = []
  for i, d in sorted(marked, key=lambda x: (x[1], x[0])):
    values = sigma_mean[i:i + window]
    peak = int(np.argmax(values))
    per_collision.append({
        "digit": d,
        "collision_frame": int(steps[i] - 1),
        "step": int(steps[i]),
        "sigma_at_step": float(sigma_mean[i]),
        "window_peak": float(values[peak]),
        "window_peak_step": int(steps[i + peak]),
        "peak_to_baseline": float(values[peak] / baseline_mean),
    })
  profile = {}
  for offset in PROFILE_OFFSETS:
    values = [sigma_mean[i + offset] for i in sorted({i for i, _ in marked})
              if 0 <= i + offset < num]
    profile[offset] = float(np.mean(values)) if values else math.nan
  return {
      "collision_ratio": float(collision_mean / baseline_mean),
      "collision_sigma_mean": float(collision_mean),
      "baseline_sigma_mean": float(baseline_mean),
      "collision_steps": steps[in_window].tolist(),
      "baseline_steps": steps[baseline].tolist(),
      "warmup_steps": steps[in_warmup & ~in_window].tolist(),
      "collisions": per_collision,
      "profile": profile,
  }


def draw_digit_indices(num_source_digits, num_sequences, num_digits, seed):
  """Digit sets of the clips: `(num_sequences, num_digits)` int indices, and replacement.

  All `num_sequences * num_digits` digits are distinct when the split has that many (so
  every set differs); otherwise they are drawn with replacement.
  """
  rng = np.random.default_rng([seed, 1])
  needed = num_sequences * num_digits
  with_replacement = needed > num_source_digits
  if with_replacement:
    indices = rng.integers(num_source_digits, size=needed)
  else:
    indices = rng.choice(num_source_digits, size=needed, replace=False)
  return indices.reshape(num_sequences, num_digits).astype(np.int64), with_replacement


# ----------------------------------------------------------------------------- model


def make_prior_scale_fn(model, num_frames, frame_shape):
  """A `tf.function(video)` -> sigma_psi `(B, T - 1, z_dim)` for steps t = 2..T.

  Args:
    model: an `SVG` with `prior="learned"`.
    num_frames: T, frames per clip.
    frame_shape: `(H, W, C)`.

  Returns:
    fn(video float32 `(B, T, H, W, C)`) -> float32 `(B, T - 1, z_dim)`; entry t - 2 is the
    std of p_psi(z_t | x_{1:t-1}).
  """
  signature = [tf.TensorSpec((None, num_frames) + tuple(frame_shape), tf.float32)]

  @tf.function(input_signature=signature, reduce_retracing=True)
  def prior_scale(video):
    h, _ = model.encode(video, training=False)  # (B, T, g)
    # The prior of z_t reads h_{t-1}: inputs h_1..h_{T-1} give the priors of z_2..z_T.
    distribution, _ = model.learned_prior(h[:, :-1], training=False)
    return tf.cast(distribution.stddev(), tf.float32)  # (B, T - 1, z)

  return prior_scale


# ----------------------------------------------------------------------------- outputs


def _json_float(value):
  value = float(value)
  return value if math.isfinite(value) else None


def _json_floats(values):
  return [_json_float(v) for v in np.asarray(values).reshape(-1)]


def csv_text(document):
  """`step, sigma_mean, sigma_std, collision_digit_<d>...`, one row per step t = 2..T."""
  num_digits = len(document["collision_steps"])
  header = ["step", "sigma_mean", "sigma_std"] + [
      f"collision_digit_{d}" for d in range(num_digits)]
  marked = [set(steps) for steps in document["collision_steps"]]
  lines = [",".join(header)]
  for step, mean, std in zip(document["steps"], document["sigma_mean"],
                             document["sigma_std"]):
    row = [str(step), repr(mean), repr(std)] + [
        str(int(step in marked[d])) for d in range(num_digits)]
    lines.append(",".join(row))
  return "\n".join(lines) + "\n"


def plot(document, path):
  """Mean sigma with a +-1 std band and the collision lines (thesis Fig. 6.4)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  from matplotlib import ticker  # pylint: disable=g-import-not-at-top

  steps = np.asarray(document["steps"])
  mean = np.asarray(document["sigma_mean"], np.float64)
  std = np.asarray(document["sigma_std"], np.float64)
  figure, axis = plt.subplots(figsize=(9, 3.6))
  axis.plot(steps, mean, color="k", linewidth=1.2, label="mean sigma")
  axis.fill_between(steps, mean - std, mean + std, color="0.6", alpha=0.4, linewidth=0,
                    label="+-1 std")
  for d, marked in enumerate(document["collision_steps"]):
    color = DIGIT_COLORS[d % len(DIGIT_COLORS)]
    linestyle = DIGIT_LINESTYLES[d % len(DIGIT_LINESTYLES)]
    for i, step in enumerate(marked):
      axis.axvline(step, color=color, linestyle=linestyle, linewidth=1.2, alpha=0.8,
                   label=f"digit {d}: first frame after a collision" if i == 0 else None)
  axis.set_xlabel("t")
  axis.set_ylabel(r"$\sigma_\psi(x_{1:t-1})$ (mean over z)")
  axis.set_xlim(1, steps[-1] + 1)
  axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
  axis.grid(alpha=0.3)
  axis.legend(fontsize="small", loc="upper right")
  ratio = document["collision_ratio"]
  ratio_text = "n/a" if ratio is None else f"{ratio:.2f}"
  axis.set_title(f"{document['model_name']}: learned prior, {document['num_sequences']} "
                 f"sequences x {document['num_frames']} frames, {document['num_digits']} "
                 f"digit(s); collision ratio {ratio_text}", fontsize="medium")
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)


def write_outputs(output_dir, document, arrays):
  """Writes the JSON, CSV, PNG and NPZ files, whole or not at all."""

  def write(staging):
    with open(os.path.join(staging, JSON_FILE), "w") as f:
      json.dump(document, f, indent=2)
      f.write("\n")
    with open(os.path.join(staging, CSV_FILE), "w") as f:
      f.write(csv_text(document))
    np.savez(os.path.join(staging, NPZ_FILE), **arrays)
    plot(document, os.path.join(staging, PNG_FILE))

  return evaluate.replace_directory(output_dir, write)


# ----------------------------------------------------------------------------- running


def _check_int(name, value, minimum):
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _check_learned_prior(workdir, config):
  model_name = config.get("model_name", config.model.get("name"))
  family, prior = config.model.get("name"), config.model.get("prior")
  if family != "svg" or prior != "learned":
    raise ValueError(
        f"{workdir!r} holds a {model_name} run (model {family!r}, prior {prior!r}): the "
        "learned-prior analysis needs an svg_lp run (SVG with prior='learned').")
  if config.data.name != "smmnist":
    raise ValueError(f"{workdir!r} was trained on {config.data.name!r}: the learned-prior "
                     "analysis (thesis Fig. 6.4) needs an SM-MNIST run (data 'smmnist').")


def analyze_prior(workdir, output_dir=None, num_sequences=500, num_steps=100, seed=0,
                  batch_size=50, num_digits=None, data_dir=None):
  """Runs the Fig. 6.4 analysis of an SVG-LP run and writes its outputs (module docstring).

  Args:
    workdir: a training work directory of an SVG-LP model on SM-MNIST.
    output_dir: where the outputs go; default `<workdir>/prior_analysis`. Replaced
      wholesale (refused if it holds other files or is a training work directory).
    num_sequences: clips sharing the trajectory, each with other digits (thesis: 500).
    num_steps: frames T per clip (thesis: 100); the outputs cover steps t = 2..T.
    seed: non-negative int: trajectory from `default_rng([seed, 0])` of a test-split
      `StochasticMovingMNIST(seed=seed)`, digits from `default_rng([seed, 1])`.
    batch_size: clips per encoder / prior call.
    num_digits: digits per clip; default the run's `config.data.options.num_digits`.
    data_dir: MNIST location; default the run's `config.data.data_dir`.

  Returns:
    The document written to `prior_sigma.json`, with `output_dir` added.

  Raises:
    ValueError: a bad argument, a run that is not SVG-LP on SM-MNIST, or an output
      directory that is not ours; `workdir_lib.WorkdirError` (a ValueError): no config or
      no checkpoint. All raised before any clip is rendered.
  """
  _check_int("num_sequences", num_sequences, 1)
  _check_int("num_steps", num_steps, 2)
  _check_int("batch_size", batch_size, 1)
  _check_int("seed", seed, 0)
  if num_digits is not None:
    _check_int("num_digits", num_digits, 1)
  output_dir = output_dir or os.path.join(workdir, DEFAULT_OUTPUT_SUBDIR)
  evaluate.check_output_dir(output_dir, marker=JSON_FILE)
  config = workdir_lib.load_config(workdir)
  _check_learned_prior(workdir, config)
  model, config, checkpoint_path = workdir_lib.load_model(workdir, config)
  if getattr(model, "prior", None) != "learned" or model.learned_prior is None:
    raise ValueError(f"{workdir!r} holds a {config.get('model_name')} model without a "
                     "learned prior: the analysis needs an svg_lp run.")

  options = dict(config.data.get("options", {}))
  num_digits = num_digits or int(options.get("num_digits", 2))
  source = smmnist.StochasticMovingMNIST(
      "test", num_digits=num_digits, num_frames=num_steps,
      deterministic_bounce=bool(options.get("deterministic_bounce", False)),
      velocity_distribution=options.get("velocity_distribution", "uniform"),
      seed=seed, data_dir=data_dir or config.data.get("data_dir"))
  frame_shape = (source.image_size, source.image_size, 1)
  if (model.image_size, model.image_size, model.channels) != frame_shape:
    raise ValueError(f"The model takes {model.image_size}x{model.image_size}x"
                     f"{model.channels} frames, SM-MNIST gives {frame_shape}.")
  trajectory = source.sample_trajectory(np.random.default_rng([seed, 0]))
  digit_indices, with_replacement = draw_digit_indices(
      source.num_source_digits, num_sequences, num_digits, seed)
  if with_replacement:
    logging.warning("Only %d test digits for %d sequences x %d digits: digits are drawn "
                    "with replacement.", source.num_source_digits, num_sequences, num_digits)
  model_name = config.get("model_name", config.model.name)
  logging.info("Learned-prior analysis of %s (%s): %d sequences x %d frames, %d digit(s).",
               workdir, checkpoint_path, num_sequences, num_steps, num_digits)

  prior_scale = make_prior_scale_fn(model, num_steps, frame_shape)
  chunks = []
  num_batches = -(-num_sequences // batch_size)
  for begin in tqdm.tqdm(range(0, num_sequences, batch_size), total=num_batches,
                         unit="batch", desc="prior sigma", dynamic_ncols=True):
    video = np.stack([source.render(trajectory, source.digit_images(indices))
                      for indices in digit_indices[begin:begin + batch_size]])
    chunks.append(prior_scale(tf.constant(video)).numpy())  # (B, T - 1, z)
  sigma_per_dim = np.concatenate(chunks, axis=0)  # (S, T - 1, z)
  sigma = sigma_per_dim.mean(axis=-1)  # (S, T - 1)

  steps = np.arange(FIRST_STEP, num_steps + 1)
  sigma_mean, sigma_std = sigma.mean(axis=0), sigma.std(axis=0)
  marks = marked_steps(trajectory.collisions)
  summary = collision_statistics(sigma_mean, marks)
  collision_frames = [(np.nonzero(trajectory.collisions[:, d])[0] + 1).tolist()
                      for d in range(num_digits)]
  document = {
      "model_name": model_name,
      "workdir": os.path.abspath(workdir),
      "checkpoint": checkpoint_path,
      "seed": seed,
      "num_sequences": num_sequences,
      "num_frames": num_steps,
      "num_digits": num_digits,
      "z_dim": int(sigma_per_dim.shape[-1]),
      "batch_size": batch_size,
      "num_source_digits": source.num_source_digits,
      "digits_with_replacement": with_replacement,
      "data": {"data_dir": data_dir or config.data.get("data_dir"),
               "deterministic_bounce": source.deterministic_bounce,
               "velocity_distribution": source.velocity_distribution},
      "time_convention": TIME_CONVENTION,
      "collision_window": COLLISION_WINDOW_RULE,
      "std_over_sequences": "population std (ddof=0) over sequences of the per-sequence "
                            "mean sigma",
      "steps": steps.tolist(),
      "sigma_mean": _json_floats(sigma_mean),
      "sigma_std": _json_floats(sigma_std),
      "sigma_mean_per_dim": [_json_floats(row) for row in sigma_per_dim.mean(axis=0)],
      "collision_frames": collision_frames,
      "collision_steps": [(steps[marks[:, d]]).tolist() for d in range(num_digits)],
      "collision_ratio": _json_float(summary["collision_ratio"]),
      "summary": {
          "collision_ratio": _json_float(summary["collision_ratio"]),
          "collision_sigma_mean": _json_float(summary["collision_sigma_mean"]),
          "baseline_sigma_mean": _json_float(summary["baseline_sigma_mean"]),
          "collision_steps": summary["collision_steps"],
          "baseline_steps": summary["baseline_steps"],
          "warmup_steps": summary["warmup_steps"],
          "collisions": [{k: (_json_float(v) if isinstance(v, float) else v)
                          for k, v in c.items()} for c in summary["collisions"]],
          "profile_around_marked_steps": {
              str(offset): _json_float(v) for offset, v in summary["profile"].items()},
      },
      "trajectory": {
          "positions_yx": trajectory.positions.tolist(),
          "velocities_yx": trajectory.velocities.tolist(),
          "collisions": trajectory.collisions.astype(int).tolist(),
      },
  }
  arrays = {
      "steps": steps,
      "sigma": sigma.astype(np.float32),
      "sigma_per_dim": sigma_per_dim.astype(np.float32),
      "digit_indices": digit_indices,
      "positions": trajectory.positions,
      "velocities": trajectory.velocities,
      "collisions": trajectory.collisions,
  }
  document["output_dir"] = write_outputs(output_dir, document, arrays)
  logging.info("Prior sigma written to %s; collision ratio %s.", document["output_dir"],
               document["collision_ratio"])
  return document
