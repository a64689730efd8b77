"""Tiny stimuli for the human-evaluation tests: smooth "real" pictures, noisy "generated" ones."""

import os
import shutil
import tempfile

import numpy as np
from PIL import Image

from tfgen.human_eval import study as study_lib


def tempdir(test):
  """A temporary folder removed after `test`."""
  path = tempfile.mkdtemp()
  test.addCleanup(shutil.rmtree, path, ignore_errors=True)
  return path


def pictures(num, size=(24, 32), seed=0, noisy=False):
  """`num` uint8 RGB pictures: coloured discs on a gradient; `noisy` adds blocky noise."""
  rng = np.random.default_rng(seed)
  height, width = size
  y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
  images = []
  for _ in range(num):
    colour = rng.uniform(0.2, 1.0, 3)
    image = (0.3 + 0.5 * y[..., None] * colour + 0.2 * x[..., None])
    cy, cx, r = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.15, 0.3)
    disc = ((y - cy) ** 2 + (x - cx) ** 2) < r ** 2
    image[disc] = rng.uniform(0, 1, 3)
    if noisy:
      noise = rng.normal(0, 0.25, (height // 4 + 1, width // 4 + 1, 3))
      image = image + np.kron(noise, np.ones((4, 4, 1)))[:height, :width]
    images.append((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8))
  return np.stack(images)


def write_image_folder(path, images, extension=".png"):
  os.makedirs(path, exist_ok=True)
  for i, image in enumerate(images):
    Image.fromarray(image).save(os.path.join(path, f"item_{i:03d}{extension}"))
  return path


def make_study(root, num_items=4, durations_ms=(50, 500, 1000), trials_per_subject=None,
               **kwargs):
  """A study of two sources ("real": a PNG folder, "lapgan": a .npz in [0, 1]) in root/study."""
  real = write_image_folder(os.path.join(root, "real"), pictures(num_items, seed=1))
  fake = os.path.join(root, "lapgan.npz")
  np.savez(fake, images=pictures(num_items, seed=2, noisy=True).astype(np.float32) / 255.0)
  return study_lib.prepare_study(os.path.join(root, "study"), [f"real={real}",
                                                              f"lapgan={fake}"],
                                 durations_ms=list(durations_ms),
                                 trials_per_subject=trials_per_subject, **kwargs)
