"""Torch's `image.scale` (bilinear mode) as 1-D resampling matrices.

One definition for the data sets (`tfgen.data.image_sets`: STL-10 and LSUN resized as
eyescream resizes them) and the Laplacian pyramid (`tfgen.layers.pyramid`: the released
code's shrink and enlarge operators).
"""

import numpy as np


def torch_scale_matrix(in_size: int, out_size: int) -> np.ndarray:
  """1-D weights of Torch `image.scale` (bilinear mode), float64 `(out_size, in_size)`.

  Shrinking: output i averages input cells [i r, (i + 1) r), r = in / out, each weighted by
  its overlap (a box filter; `tf.image.resize(method="area")`). Enlarging: linear
  interpolation at positions i (in - 1) / (out - 1) (align corners; an input of size 1 is
  replicated). Same size: identity. (torch/image generic/image.c `scaleLinear_rowcol`.)
  """
  if out_size == in_size:
    return np.eye(in_size)
  if out_size < in_size:
    scale = in_size / out_size
    low = np.arange(out_size)[:, None] * scale
    pixel = np.arange(in_size)[None, :]
    overlap = np.clip(np.minimum(low + scale, pixel + 1) - np.maximum(low, pixel), 0, None)
    return overlap / scale
  if in_size == 1:
    return np.ones((out_size, 1))
  position = np.arange(out_size) * ((in_size - 1) / (out_size - 1))
  left = np.minimum(np.floor(position).astype(np.int64), in_size - 2)
  weight = position - left
  matrix = np.zeros((out_size, in_size))
  matrix[np.arange(out_size), left] = 1 - weight
  matrix[np.arange(out_size), left + 1] += weight
  return matrix
