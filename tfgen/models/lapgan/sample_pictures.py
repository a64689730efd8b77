"""LAPGAN pictures of a trained work directory (`python -m tfgen.bin.generate --workdir=W`).

Written into `--output_dir` (default `W/samples_generated`, replaced wholesale, built in a
staging directory and swapped in, so a failure leaves the previous pictures), PNG in
display units ([0, 1]: the z-scoring undone, then clipped), all images shown at the
finest size (nearest neighbour for coarser ones):
- `samples.png`: `num_sequences` x `num_samples` coarse-to-fine samples (eq. 4.7); for a
  class-conditional model one row per class instead, and `samples_class_<c>.png` per class;
- `chains.png`: coarse-to-fine generation chains (Fig. 4.8b), one per row:
  x~_K, u(x~_K), x~_{K-1}, u(x~_{K-1}), ..., x~_0;
- `redraws.png`: per row one fixed coarsest sample, then `num_samples` finest images
  drawn from it with new noise at every finer level (Fig. 4.12-4.14);
- `interpolation.png`: per row, two coarsest samples linearly interpolated in
  `num_samples` steps, the finer levels' noise fixed along the row (Fig. 4.15);
- `sample_pictures.txt`: what was drawn from which checkpoint.
"""

import os

import numpy as np
import tensorflow as tf

from tfgen.evaluation import evaluate
from tfgen.utils import images

MARKER_FILE = "sample_pictures.txt"


def _display(model, x, size):
  """z-scored images of any level -> `(B, size, size, C)` numpy in [0, 1]."""
  shown = model.to_display(x)
  if shown.shape[1] != size:
    shown = tf.image.resize(shown, (size, size), method="nearest")
  return np.asarray(shown)


def pictures(model, num_samples=8, num_sequences=4, seed=0):
  """`{file name: grid image}` of the module docstring, for a built `LAPGAN`."""
  size = model.sizes[0]
  base = tf.constant([seed, 0], tf.int64)
  result = {}
  if model.num_classes:
    rows = []
    for c in range(model.num_classes):
      labels = tf.fill([num_samples], c)
      x = model.sample(num_samples, base + [0, 1 + c], labels=labels)
      row = list(_display(model, x, size))
      result[f"samples_class_{c}.png"] = images.grid([row])
      rows.append(row)
    result["samples.png"] = images.grid(rows)
  else:
    rows = [list(_display(model, model.sample(num_samples, base + [1, i]), size))
            for i in range(num_sequences)]
    result["samples.png"] = images.grid(rows)

  chain = model.sample(num_sequences, base + [2, 0], return_chain=True)
  chain_rows = [[] for _ in range(num_sequences)]
  for k, x in enumerate(chain):
    level = model.num_levels - 1 - k
    shown = [_display(model, x, size)]
    if level > 0:
      shown.append(_display(model, model.levels[level - 1].pyramid.enlarge(
          x, model.sizes[level - 1]), size))
    for picture in shown:
      for i in range(num_sequences):
        chain_rows[i].append(picture[i])
  result["chains.png"] = images.grid(chain_rows)

  labels = model.random_labels(num_sequences, base + [3, 0]) if model.num_classes else None
  coarse = model.sample(num_sequences, base + [3, 0], labels=labels, return_chain=True)[0]
  redraws = [[] for _ in range(num_sequences)]
  for j in range(num_samples):
    x = model.sample(num_sequences, base + [4, j], labels=labels, coarse=coarse)
    for i, image in enumerate(_display(model, x, size)):
      redraws[i].append(image)
  result["redraws.png"] = images.grid([[_display(model, coarse, size)[i]] + redraws[i]
                                       for i in range(num_sequences)])

  ends = [model.sample(num_sequences, base + [5, e], labels=labels, return_chain=True)[0]
          for e in range(2)]
  noises = {k: model.level_noise(k, num_sequences, base + [6, 0])
            for k in range(model.num_levels - 1)}
  interpolation = [[] for _ in range(num_sequences)]
  for alpha in np.linspace(0.0, 1.0, max(num_samples, 2)):
    coarse = (1.0 - alpha) * ends[0] + alpha * ends[1]
    x = model.chain(coarse, noises, labels)[-1]
    for i, image in enumerate(_display(model, x, size)):
      interpolation[i].append(image)
  result["interpolation.png"] = images.grid(interpolation)
  return result


def write_samples(workdir, output_dir=None, num_samples=8, num_sequences=4, seed=0):
  """Writes the LAPGAN pictures of `workdir` (module docstring); returns the directory.

  Args:
    workdir: a LAPGAN training work directory (its levels assembled, see
      `tfgen.models.lapgan.training`).
    output_dir: default `<workdir>/samples_generated`; replaced wholesale.
    num_samples: columns: samples per row, redraws per coarse image, interpolation steps.
    num_sequences: rows (chains, coarse images, interpolated pairs).
    seed: seed of every draw.

  Raises:
    ValueError: bad counts, no config or checkpoint, a mismatched checkpoint.
  """
  for name, value in (("num_samples", num_samples), ("num_sequences", num_sequences)):
    if value < 1:
      raise ValueError(f"{name} must be >= 1, got {value}.")
  output_dir = output_dir or os.path.join(workdir, "samples_generated")
  evaluate.check_output_dir(output_dir, marker=MARKER_FILE)
  config = evaluate.load_config(workdir)
  model, checkpoint_path = evaluate.load_model(workdir, config)
  grids = pictures(model, num_samples, num_sequences, seed)

  def write(staging):
    for name, grid in grids.items():
      images.save_png(os.path.join(staging, name), grid)
    lines = [f"workdir: {os.path.abspath(workdir)}", f"checkpoint: {checkpoint_path}",
             f"sizes: {tuple(model.sizes)}", f"num_samples: {num_samples}",
             f"num_sequences: {num_sequences}", f"seed: {seed}",
             "display units: z-scoring undone with the training statistics, clipped to "
             "[0, 1]"] + sorted(grids)
    with open(os.path.join(staging, MARKER_FILE), "w") as f:
      f.write("\n".join(lines) + "\n")

  return evaluate.replace_directory(output_dir, write)
