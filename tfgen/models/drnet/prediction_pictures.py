"""Pictures of DrNET's pose LSTM and the AE-LSTM (`python -m tfgen.bin.generate --workdir=W`).

For the first `num_sequences` test clips, one batched prediction of `num_future_frames`
frames after `num_context_frames` observed ones (thesis Fig. 5.2 rolls out 500 frames on
MNIST, Fig. 5.7 100 on KTH; the config's `num_rollout_frames` is the default):

- `sequence_XXX.png`: the rollout wrapped into rows of `num_columns` time steps, each
  segment as two rows: the ground truth (green border; blank where the test data end) over
  the model's frames (context green, predicted red);
- `sequence_XXX.gif`: one GIF frame per time step, ground truth | prediction;
- `analogy.png` (thesis Fig. 5.3, 5.4): a header row with clip 0's frames, then per clip
  the content of its first frame rendered with clip 0's poses, frame by frame;
- `interpolation.png` (thesis Fig. 5.5, left): per clip, its first frame x_1, then the
  content of x_1 decoded with poses on the straight line from h_p(x_1) to h_p(x_2),
  x_2 the clip's last ground-truth frame, then x_2 itself;
- `prediction_pictures.txt`: what was drawn, from which checkpoint.

The AE-LSTM baseline has one encoder: its pictures are the rollouts only.

The directory (default `<workdir>/samples_generated`) is written whole or not at all.
"""

import os

import tensorflow as tf

from tfgen.evaluation import evaluate
from tfgen.utils import images

MARKER_FILE = "prediction_pictures.txt"
DEFAULT_ROLLOUT_FRAMES = 100


def rollout_rows(truth, predicted, num_context, num_columns):
  """Rows of framed frames for one clip's rollout, wrapped every `num_columns` steps.

  Args:
    truth: `(T_true, H, W, C)` ground truth from the first context frame (T_true may be
      shorter than the rollout).
    predicted: `(F, H, W, C)` predicted frames following the `num_context` context frames.
    num_context: context frames (the first `num_context` of `truth`).
    num_columns: time steps per row.

  Returns:
    list of rows: per segment of `num_columns` steps, the ground-truth row (None where
    there is none) then the model's row (context green, prediction red).
  """
  length = num_context + len(predicted)
  model_row = ([images.framed(f, images.GREEN) for f in truth[:num_context]]
               + [images.framed(f, images.RED) for f in predicted])
  truth_row = [images.framed(truth[t], images.GREEN) if t < len(truth) else None
               for t in range(length)]
  rows = []
  for start in range(0, length, num_columns):
    rows += [truth_row[start:start + num_columns], model_row[start:start + num_columns]]
  return rows


def interpolation_rows(model, video, num_steps):
  """Fig. 5.5: content of each clip's first frame decoded along a line in pose space.

  Args:
    model: a `PoseLSTM` (its frozen `drnet`).
    video: `(B, T, H, W, C)` clips; x_1 = frame 0, x_2 = frame T - 1.
    num_steps: interpolated poses, including both ends.

  Returns:
    list of rows `[x_1, D(h_c(x_1), (1 - a) h_p(x_1) + a h_p(x_2)) for a in
    linspace(0, 1, num_steps), x_2]`.
  """
  video = tf.convert_to_tensor(video, tf.float32)
  first, last = video[:, 0], video[:, -1]
  drnet = model.drnet
  content, skips = drnet.encode_content(first, training=False)
  pose_1 = drnet.encode_pose(first, training=False)  # (B, P)
  pose_2 = drnet.encode_pose(last, training=False)
  weights = tf.linspace(0.0, 1.0, num_steps)[None, :, None]  # (1, S, 1)
  poses = (1.0 - weights) * pose_1[:, None] + weights * pose_2[:, None]  # (B, S, P)
  frames = model.decode_poses(content, skips, poses).numpy()  # (B, S, H, W, C)
  first, last = first.numpy(), last.numpy()
  return [[first[b]] + list(frames[b]) + [last[b]] for b in range(frames.shape[0])]


def _test_video(config, num_frames, num_sequences):
  """Up to `num_sequences` test clips of `num_frames` frames, or the training length."""
  try:
    dataset = evaluate.test_dataset(config, num_frames, num_sequences, num_sequences)
  except ValueError:
    dataset = evaluate.test_dataset(config, config.data.num_frames, num_sequences,
                                    num_sequences)
  return next(iter(dataset)).numpy()


def write_samples(workdir, num_future_frames=None, num_sequences=4, num_context_frames=None,
                  output_dir=None, seed=0, num_columns=20, num_interpolation_steps=8):
  """Writes the pictures of the module docstring; returns the output directory.

  Args:
    workdir: a `drnet_lstm` training work directory.
    num_future_frames: frames predicted after the context; default the config's
      `num_rollout_frames` (500 MNIST, 100 KTH).
    num_sequences: test clips shown.
    num_context_frames: frames observed; default the model's.
    output_dir: default `<workdir>/samples_generated`; replaced wholesale.
    seed: unused (the prediction is deterministic); accepted like every family's.
    num_columns: time steps per row of the PNG grids.
    num_interpolation_steps: poses on each interpolation line.

  Raises:
    ValueError: bad counts, no config or checkpoint, or a mismatched checkpoint.
  """
  del seed
  config = evaluate.load_config(workdir)
  if num_future_frames is None:
    num_future_frames = int(config.get("num_rollout_frames", DEFAULT_ROLLOUT_FRAMES))
  for name, value in (("num_future_frames", num_future_frames),
                      ("num_sequences", num_sequences), ("num_columns", num_columns),
                      ("num_interpolation_steps", num_interpolation_steps)):
    if value < 1:
      raise ValueError(f"{name} must be >= 1, got {value}.")
  if num_context_frames is not None and num_context_frames < 1:
    raise ValueError(f"num_context_frames must be >= 1, got {num_context_frames}.")
  output_dir = output_dir or os.path.join(workdir, "samples_generated")
  evaluate.check_output_dir(output_dir, marker=MARKER_FILE)
  model, checkpoint_path = evaluate.load_model(workdir, config)
  num_context = num_context_frames or model.num_context_frames
  video = _test_video(config, num_context + num_future_frames, num_sequences)
  if video.shape[1] <= num_context:
    raise ValueError(f"The test data have {video.shape[1]} frames, not more than the "
                     f"{num_context} context frames.")
  # Every clip and step in one batched prediction.
  predicted = model.predict_future(video[:, :num_context], num_future_frames).numpy()
  # Analogies and pose interpolation need DrNET's two encoders (not the AE-LSTM's one).
  drnet = getattr(model, "drnet", None)
  analogy = interpolation = None
  if drnet is not None:
    analogy = drnet.picture_rows(video[:, :min(video.shape[1], num_columns)])[-1]
    interpolation = interpolation_rows(model, video, num_interpolation_steps)

  def write(staging):
    lines = [f"workdir: {os.path.abspath(workdir)}", f"checkpoint: {checkpoint_path}",
             f"num_context_frames: {num_context}", f"num_future_frames: {num_future_frames}",
             f"ground-truth frames: {video.shape[1]}",
             f"sequence_XXX: rows of {num_columns} steps, ground truth over prediction; "
             "green border: ground truth, red: predicted",
             "analogy.png: header clip 0; row i: content of clip i's first frame with clip "
             "0's poses",
             f"interpolation.png: x_1, {num_interpolation_steps} poses from h_p(x_1) to "
             "h_p(x_2) with x_1's content, x_2"]
    for b in range(video.shape[0]):
      rows = rollout_rows(video[b], predicted[b], num_context, num_columns)
      images.save_png(os.path.join(staging, f"sequence_{b:03d}.png"), images.grid(rows))
      length = num_context + num_future_frames
      model_frames = list(video[b, :num_context]) + list(predicted[b])
      gif = [images.grid([[images.framed(video[b, t], images.GREEN)
                           if t < video.shape[1] else None,
                           images.framed(model_frames[t],
                                         images.GREEN if t < num_context else images.RED)]])
             for t in range(length)]
      images.save_gif(os.path.join(staging, f"sequence_{b:03d}.gif"), gif)
    if drnet is not None:
      images.save_png(os.path.join(staging, "analogy.png"), images.grid(analogy))
      images.save_png(os.path.join(staging, "interpolation.png"), images.grid(interpolation))
    with open(os.path.join(staging, MARKER_FILE), "w") as f:
      f.write("\n".join(lines) + "\n")

  return evaluate.replace_directory(output_dir, write)
