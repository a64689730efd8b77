"""GIFs and PNG grids of generated futures, like the reference's `generate_svg_lp.py`.

For each test sequence the pictures show, one row each (one column per time step in the
PNG; side by side, one GIF frame per time step, in the GIF):
- the ground truth (context and future, blank where the data set has no more frames);
- the posterior reconstruction (frame 1 is ground truth; blank beyond the ground truth);
- the best of N samples: highest mean legacy SSIM to the ground truth over the frames
  where the ground truth exists (the reference picks by SSIM);
- `num_random` other samples drawn at random (seeded).
Frames are shown in RGB with a coloured border: green for ground-truth frames (the
context the model sees, and the true future), red for generated ones. Long rollouts
(e.g. 100 frames, far beyond the training horizon) work for any data set; the ground
truth is shown as far as the test data provide it (SM-MNIST: any length).
"""

import os

from absl import logging
import numpy as np
import tqdm

from tfgen.evaluation import evaluate
from tfgen.utils import images

MARKER_FILE = "sample_pictures.txt"
# Shared with every family's pictures (`tfgen.utils.images`).
GREEN = images.GREEN
RED = images.RED
framed = images.framed


def picture_rows(truth, reconstruction, samples, best, random_indices, num_context):
  """Rows of framed frames for one sequence.

  Args:
    truth: `(T_true, H, W, C)` ground truth (context first; T_true may be shorter than the
      rollout).
    reconstruction: `(T_true - 1, H, W, C)` posterior reconstruction of frames 2..T_true.
    samples: `(N, F, H, W, C)` generated futures.
    best: int, index of the best sample.
    random_indices: sample indices of the random rows.
    num_context: context frames.

  Returns:
    list of rows (ground truth, posterior, best, random...), each `num_context + F` frames
    (`None` where there is nothing to show).
  """
  length = num_context + samples.shape[1]
  pad = lambda row: row + [None] * (length - len(row))
  context = [framed(f, GREEN) for f in truth[:num_context]]
  rows = [pad([framed(f, GREEN) for f in truth[:length]]),
          pad([framed(truth[0], GREEN)] + [framed(f, RED) for f in reconstruction[:length - 1]])]
  for index in [best] + list(random_indices):
    rows.append(context + [framed(f, RED) for f in samples[index]])
  return rows


def _test_video(config, num_frames, num_sequences):
  """`num_sequences` test clips as long as possible up to `num_frames` frames."""
  try:
    dataset = evaluate.test_dataset(config, num_frames, num_sequences, num_sequences)
  except ValueError as e:
    logging.warning("%s; showing the ground truth of the training length (%d frames) only.",
                    e, config.data.num_frames)
    dataset = evaluate.test_dataset(config, config.data.num_frames, num_sequences,
                                    num_sequences)
  return next(iter(dataset)).numpy()


def write_samples(workdir, num_samples=20, num_future_frames=100, num_sequences=4,
                  num_random=3, num_context_frames=None, output_dir=None, seed=0):
  """Writes `sequence_XXX.png` and `sequence_XXX.gif` per test sequence (module docstring).

  Args:
    workdir: a training work directory.
    num_samples: futures drawn per sequence (the best is picked among them); 1 for a
      deterministic model.
    num_future_frames: frames generated after the context.
    num_sequences: test sequences shown.
    num_random: random samples shown besides the best.
    num_context_frames: frames conditioned on; default the model's.
    output_dir: default `<workdir>/samples_generated`; replaced wholesale.
    seed: seed of the samples and of the random choice.

  Returns:
    The output directory.

  Raises:
    ValueError: bad counts, no config or checkpoint, or a mismatched checkpoint.
  """
  for name, value in (("num_samples", num_samples), ("num_future_frames", num_future_frames),
                      ("num_sequences", num_sequences)):
    if value < 1:
      raise ValueError(f"{name} must be >= 1, got {value}.")
  if num_random < 0:
    raise ValueError(f"num_random must be >= 0, got {num_random}.")
  output_dir = output_dir or os.path.join(workdir, "samples_generated")
  evaluate.check_output_dir(output_dir, marker=MARKER_FILE)
  config = evaluate.load_config(workdir)
  model, checkpoint_path = evaluate.load_model(workdir, config)
  num_context = num_context_frames or model.num_context_frames
  if not getattr(model, "stochastic", True):
    num_samples = 1
  num_random = min(num_random, num_samples - 1)
  video = _test_video(config, num_context + num_future_frames, num_sequences)
  if video.shape[1] <= num_context:
    raise ValueError(f"The test data have {video.shape[1]} frames, not more than the "
                     f"{num_context} context frames.")
  samples = model.generate(video[:, :num_context], num_future_frames, num_samples,
                           seed=(seed, 0))["samples"].numpy()  # (B, N, F, H, W, C)
  reconstruction = model.reconstruct(video, seed=(seed, 1)).numpy()  # (B, T - 1, ...)
  # Best by mean legacy SSIM over the future frames that have a ground truth.
  known = min(video.shape[1] - num_context, num_future_frames)
  ssim = evaluate.score_frames(video[:, num_context:num_context + known],
                               samples[:, :, :known], ("ssim_legacy",))
  ssim = ssim["ssim_legacy"].numpy()  # (B, N, known)
  best = ssim.mean(axis=2).argmax(axis=1)  # (B,)
  rng = np.random.default_rng(seed)

  def write(staging):
    lines = [f"workdir: {os.path.abspath(workdir)}", f"checkpoint: {checkpoint_path}",
             f"num_samples: {num_samples}", f"num_context_frames: {num_context}",
             f"num_future_frames: {num_future_frames}",
             f"ground-truth frames: {video.shape[1]}",
             "rows: ground truth | posterior reconstruction | best (legacy SSIM) | random "
             "samples; green border: ground truth, red: generated"]
    for b in tqdm.trange(video.shape[0], desc="pictures", unit="seq"):
      others = [i for i in range(num_samples) if i != best[b]]
      chosen = sorted(rng.choice(others, size=num_random, replace=False)) if num_random else []
      rows = picture_rows(video[b], reconstruction[b], samples[b], best[b], chosen,
                          num_context)
      images.save_png(os.path.join(staging, f"sequence_{b:03d}.png"), images.grid(rows))
      gif_frames = [images.grid([[row[t] for row in rows]]) for t in range(len(rows[0]))]
      images.save_gif(os.path.join(staging, f"sequence_{b:03d}.gif"), gif_frames)
      lines.append(f"sequence_{b:03d}: best sample {best[b]} (mean legacy SSIM "
                   f"{ssim[b, best[b]].mean():.4f}), random samples {list(map(int, chosen))}")
    with open(os.path.join(staging, MARKER_FILE), "w") as f:
      f.write("\n".join(lines) + "\n")

  return evaluate.replace_directory(output_dir, write)
