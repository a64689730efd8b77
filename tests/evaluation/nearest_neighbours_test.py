"""Tests of the nearest-neighbour search and figure against brute-force numpy."""

import numpy as np

from tests import test_case
from tfgen.evaluation import nearest_neighbours


def brute_force(queries, references, k):
  q = queries.reshape(len(queries), -1).astype(np.float64)
  r = references.reshape(len(references), -1).astype(np.float64)
  d = ((q[:, None, :] - r[None, :, :])**2).sum(-1)
  order = np.argsort(d, axis=1, kind="stable")[:, :k]
  return order, np.take_along_axis(d, order, axis=1)


class NearestNeighboursTest(test_case.TestCase):

  @test_case.parameterized.named_parameters(
      ("one_chunk", 1000, 3), ("chunks", 7, 4), ("chunk_smaller_than_k", 2, 5),
      ("k_is_all", 5, 37))
  def test_matches_brute_force(self, chunk_size, k):
    rng = np.random.default_rng(0)
    references = rng.random((37, 6, 5, 2))
    queries = rng.random((4, 6, 5, 2))
    queries[1] = references[20]  # An exact copy: distance 0, index 20 first.
    indices, distances = nearest_neighbours.nearest_neighbours(queries, references, k,
                                                               chunk_size=chunk_size)
    expected_indices, expected_distances = brute_force(queries, references, k)
    self.assertAllEqual(indices, expected_indices)
    self.assertAllClose(distances, expected_distances, atol=1e-10)
    self.assertEqual(indices[1, 0], 20)

  def test_ties_go_to_the_lower_index(self):
    references = np.zeros((6, 2, 2, 1))
    references[[1, 4]] = 1.0
    indices, _ = nearest_neighbours.nearest_neighbours(np.ones((1, 2, 2, 1)), references, 3,
                                                       chunk_size=3)
    self.assertAllEqual(indices, [[1, 4, 0]])

  @test_case.parameterized.named_parameters(
      ("shapes", np.zeros((2, 3)), np.zeros((4, 5)), 1, "same shape per row"),
      ("k_too_big", np.zeros((2, 3)), np.zeros((4, 3)), 5, r"k must be an integer in \[1, 4\]"),
      ("k_zero", np.zeros((2, 3)), np.zeros((4, 3)), 0, r"k must be an integer in \[1, 4\]"),
      ("nan", np.full((2, 3), np.nan), np.zeros((4, 3)), 1, "queries holds non-finite"),
      ("empty", np.zeros((0, 3)), np.zeros((4, 3)), 1, "queries must hold one image"),
  )
  def test_bad_input(self, queries, references, k, message):
    with self.assertRaisesRegex(ValueError, message):
      nearest_neighbours.nearest_neighbours(queries, references, k)

  def test_figure_rows(self):
    rng = np.random.default_rng(1)
    references = rng.random((9, 4, 5, 1))
    samples = rng.random((2, 4, 5, 1))
    picture = nearest_neighbours.figure(samples, references, np.array([[3, 1, 2], [0, 8, 7]]))
    # 2 rows x 4 columns of 4x5 frames with 1-pixel padding, RGB.
    self.assertEqual(picture.shape, (2 * 5 + 1, 4 * 6 + 1, 3))
    # Row 1, column 2 holds reference 8 (inside its 1-pixel border), grey -> RGB.
    inner = picture[1 + 5 + 1:1 + 5 + 3, 1 + 2 * 6 + 1:1 + 2 * 6 + 4]
    self.assertAllClose(inner, np.repeat(references[8, 1:3, 1:4], 3, axis=-1))


if __name__ == "__main__":
  test_case.tf.test.main()
