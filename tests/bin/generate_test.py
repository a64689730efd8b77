"""End-to-end tests of `python -m tfgen.bin.generate` and of its picture rows."""

import os
import shutil
import tempfile

import numpy as np
from PIL import Image

from tests import test_case
from tests.evaluation import evaluate_test
from tfgen.models.svg import sample_pictures


def run_binary(*args):
  return test_case.run_binary("tfgen.bin.generate", *args)


class PictureRowsTest(test_case.TestCase):

  def test_borders_and_rows(self):
    frame = np.full((8, 10, 1), 0.5, np.float32)
    boxed = sample_pictures.framed(frame, sample_pictures.GREEN, width=1)
    self.assertEqual(boxed.shape, (8, 10, 3))
    self.assertAllClose(boxed[0, 0], sample_pictures.GREEN)
    self.assertAllClose(boxed[4, 5], [0.5, 0.5, 0.5])
    # 3 true frames (2 context), 4 generated, 5 samples: blanks past the ground truth.
    truth = np.zeros((3, 8, 10, 1), np.float32)
    rows = sample_pictures.picture_rows(truth, truth[1:], np.ones((5, 4, 8, 10, 1)), best=2,
                                        random_indices=[0, 4], num_context=2)
    self.assertLen(rows, 2 + 1 + 2)
    self.assertTrue(all(len(row) == 6 for row in rows))
    self.assertIsNone(rows[0][3])
    self.assertIsNone(rows[1][3])
    self.assertAllClose(rows[2][1][0, 0], sample_pictures.GREEN)  # Context: green.
    self.assertAllClose(rows[2][2][0, 0], sample_pictures.RED)  # Generated: red.


class GenerateBinaryTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.workdir = os.path.join(cls.root, "lp")
    evaluate_test.untrained_workdir("svg_lp", cls.workdir)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_long_rollout_pictures(self):
    output_dir = os.path.join(self.make_temp_dir(), "pictures")
    result = run_binary(f"--workdir={self.workdir}", "--num_samples=3",
                        "--num_future_frames=12", "--num_sequences=2", "--num_random=2",
                        f"--output_dir={output_dir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["sample_pictures.txt", "sequence_000.gif", "sequence_000.png",
                      "sequence_001.gif", "sequence_001.png"])
    grid = Image.open(os.path.join(output_dir, "sequence_000.png"))
    # 5 rows (truth, posterior, best, 2 random) x 14 frames of 64 + 1 px padding, RGB.
    self.assertEqual(grid.size, (14 * 65 + 1, 5 * 65 + 1))
    self.assertEqual(grid.mode, "RGB")
    gif = Image.open(os.path.join(output_dir, "sequence_000.gif"))
    self.assertEqual(gif.n_frames, 14)
    # A rerun replaces the directory; a non-picture directory is refused.
    result = run_binary(f"--workdir={self.workdir}", "--num_samples=2",
                        "--num_future_frames=3", "--num_sequences=1", "--num_random=0",
                        f"--output_dir={output_dir}")
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(sorted(os.listdir(output_dir)),
                     ["sample_pictures.txt", "sequence_000.gif", "sequence_000.png"])


if __name__ == "__main__":
  test_case.tf.test.main()
