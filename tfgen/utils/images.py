"""Frame grids, PNG and GIF writing for samples (training strips, generation binaries)."""

import io

import numpy as np
from PIL import Image

from tfgen.utils import files

# Borders of sample pictures: ground-truth frames (context and true future) green,
# generated frames red.
GREEN = (0.0, 0.8, 0.0)
RED = (0.9, 0.0, 0.0)


def to_uint8(frames):
  """float frames in [0, 1] -> uint8, clipping."""
  return (np.clip(np.asarray(frames, np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def framed(frame, color, width=None):
  """`(H, W, C)` frame in [0, 1] -> RGB `(H, W, 3)` with a `width`-pixel `color` border."""
  frame = np.clip(np.asarray(frame, np.float32), 0.0, 1.0)
  if frame.shape[-1] == 1:
    frame = np.repeat(frame, 3, axis=-1)  # Grey -> RGB so the border can be coloured.
  elif frame.shape[-1] == 2:
    # Two colours (e.g. red and green digits): blue stays 0.
    frame = np.concatenate([frame, np.zeros_like(frame[..., :1])], axis=-1)
  frame = frame.copy()
  width = width or (2 if min(frame.shape[:2]) >= 48 else 1)
  color = np.asarray(color, np.float32)
  frame[:width], frame[-width:] = color, color
  frame[:, :width], frame[:, -width:] = color, color
  return frame


def grid(rows, padding=1, pad_value=1.0):
  """Tiles `rows[i][j]` (frames `(H, W, C)` in [0, 1], or None for blank) into one image.

  Returns a float `(rows * (H + p) + p, cols * (W + p) + p, C)` array; short rows are padded.
  """
  height, width, channels = next(np.shape(f) for row in rows for f in row if f is not None)
  num_columns = max(len(row) for row in rows)
  image = np.full((len(rows) * (height + padding) + padding,
                   num_columns * (width + padding) + padding, channels), pad_value, np.float32)
  for i, row in enumerate(rows):
    for j, frame in enumerate(row):
      if frame is None:
        continue
      top = padding + i * (height + padding)
      left = padding + j * (width + padding)
      image[top:top + height, left:left + width] = frame
  return image


def _pil(image):
  image = to_uint8(image)
  if image.ndim == 3 and image.shape[-1] == 1:
    image = image[..., 0]
  return Image.fromarray(image)


def png_bytes(image):
  buffer = io.BytesIO()
  _pil(image).save(buffer, format="PNG")
  return buffer.getvalue()


def save_png(path, image):
  """Writes a float image in [0, 1] as PNG, atomically."""
  files.atomic_write(path, png_bytes(image))


def save_gif(path, images, duration_ms=250):
  """Writes a list of float images in [0, 1] as a looping GIF, atomically."""
  frames = [_pil(image) for image in images]
  buffer = io.BytesIO()
  frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                 duration=duration_ms, loop=0)
  files.atomic_write(path, buffer.getvalue())
