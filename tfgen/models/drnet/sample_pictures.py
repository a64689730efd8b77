"""Pictures of a trained DrNET (`python -m tfgen.bin.generate --workdir=W_drnet`).

For the first `num_sequences` test clips (the training clip length), in inference mode:

- `reconstructions.png`: per clip, its frames over D(E_c(x^0), E_p(x^k)) for every frame
  k (`DrNet.picture_rows`, the training pictures' rows);
- `analogy.png` (thesis Fig. 5.3, 5.4): a header row with clip 0's frames, then per clip
  the content of its first frame rendered with clip 0's poses, frame by frame;
- `analogy.gif`: the analogy grid's columns as an animation (one GIF frame per pose);
- `sample_pictures.txt`: what was drawn, from which checkpoint.

The directory (default `<workdir>/samples_generated`) is written whole or not at all.
Predicting future frames needs the pose LSTM (`--model=drnet_lstm`).
"""

import os

from tfgen.evaluation import evaluate
from tfgen.utils import images

MARKER_FILE = "sample_pictures.txt"


def write_samples(workdir, num_sequences=4, output_dir=None, seed=0):
  """Writes the pictures of the module docstring; returns the output directory.

  Args:
    workdir: a `drnet` training work directory.
    num_sequences: test clips shown (>= 1).
    output_dir: default `<workdir>/samples_generated`; replaced wholesale.
    seed: unused (DrNET is deterministic); accepted like every family's.

  Raises:
    ValueError: a bad count, no config or checkpoint, or a mismatched checkpoint.
  """
  del seed
  if num_sequences < 1:
    raise ValueError(f"num_sequences must be >= 1, got {num_sequences}.")
  output_dir = output_dir or os.path.join(workdir, "samples_generated")
  evaluate.check_output_dir(output_dir, marker=MARKER_FILE)
  config = evaluate.load_config(workdir)
  model, checkpoint_path = evaluate.load_model(workdir, config)
  video = next(iter(evaluate.test_dataset(config, config.data.num_frames, num_sequences,
                                          num_sequences))).numpy()
  groups = model.picture_rows(video)
  reconstructions, analogy = groups[:-1], groups[-1]

  def write(staging):
    images.save_png(os.path.join(staging, "reconstructions.png"),
                    images.grid([row for group in reconstructions for row in group]))
    images.save_png(os.path.join(staging, "analogy.png"), images.grid(analogy))
    # Column 0 is the content frame; columns 1.. follow clip 0's poses.
    frames = [images.grid([[row[0], row[t]] for row in analogy])
              for t in range(1, len(analogy[0]))]
    images.save_gif(os.path.join(staging, "analogy.gif"), frames)
    with open(os.path.join(staging, MARKER_FILE), "w") as f:
      f.write(f"workdir: {os.path.abspath(workdir)}\ncheckpoint: {checkpoint_path}\n"
              f"clips: {video.shape[0]} of {video.shape[1]} frames\n"
              "reconstructions.png: per clip its frames over D(E_c(x^0), E_p(x^k))\n"
              "analogy.png: header clip 0; row i: content of clip i's first frame with "
              "clip 0's poses\n")

  return evaluate.replace_directory(output_dir, write)
