"""Tests of the before/after-first-collision comparison of two evaluated runs."""

import json
import os
import shutil
import tempfile

import numpy as np

from tests import test_case
from tests.evaluation import evaluate_test
from tfgen.models.svg import collision_comparison
from tfgen.evaluation import evaluate
from tfgen.train import workdir as workdir_lib


class CompareTest(test_case.TestCase):

  def test_after_collision_mask(self):
    # Context 3, future 4: predicted frames 3, 4, 5, 6.
    first = np.array([3, 5, -1, 6])
    mask = collision_comparison.after_collision_mask(first, 3, 4)
    np.testing.assert_array_equal(mask, [[False, True, True, True],
                                         [False, False, False, True],
                                         [False, False, False, False],
                                         [False, False, False, False]])

  def test_compare_by_hand(self):
    model = np.array([[0.9, 0.8, 0.7], [0.9, 0.9, 0.9]])
    baseline = np.array([[0.9, 0.5, 0.4], [0.8, 0.8, 0.8]])
    # Context 2: predicted frames 2, 3, 4. Sequence 0 collides at frame 2 (after: 3, 4);
    # sequence 1 never.
    result = collision_comparison.compare(model, baseline, np.array([2, -1]), 2)
    self.assertEqual(result["num_sequences_with_collision"], 1)
    self.assertEqual(result["num_steps_after"], 2)
    self.assertAlmostEqual(result["model_mean_after"], 0.75)
    self.assertAlmostEqual(result["baseline_mean_after"], 0.45)
    self.assertAlmostEqual(result["model_mean_before"], (0.9 + 0.9 * 3) / 4)
    self.assertAlmostEqual(result["baseline_mean_before"], (0.9 + 0.8 * 3) / 4)
    self.assertAlmostEqual(result["paired_difference_after_mean"], 0.3)
    self.assertEqual(result["paired_difference_after_num_sequences"], 1)
    self.assertTrue(np.isnan(result["paired_difference_after_ci95_halfwidth"]))
    aligned = {r["frames_since_collision"]: r for r in result["aligned"]}
    self.assertEqual(sorted(aligned), [0, 1, 2])
    self.assertAlmostEqual(aligned[1]["model_mean"], 0.8)
    self.assertAlmostEqual(aligned[2]["baseline_mean"], 0.4)


class CompareRunsTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.root = tempfile.mkdtemp()
    cls.lp = evaluate_test.untrained_workdir("svg_lp", os.path.join(cls.root, "lp"))
    cls.det = evaluate_test.untrained_workdir("svg_det", os.path.join(cls.root, "det"))
    for workdir in (cls.lp, cls.det):
      evaluate.evaluate(workdir, num_samples=2, num_future_frames=8, num_test_sequences=6,
                        batch_size=3)

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_regenerated_test_set_is_the_evaluated_one(self):
    config = workdir_lib.load_config(self.lp)
    num_frames = config.model.num_context_frames + 8
    video = next(iter(evaluate.test_dataset(config, num_frames, 6, 6))).numpy()
    source = collision_comparison.test_source(config.data.to_dict(), num_frames)
    for i in range(6):
      np.testing.assert_array_equal(source.sequence(i)["frames"], video[i])

  def test_end_to_end(self):
    document = collision_comparison.compare_runs(self.lp, self.det)
    output_dir = document["output_dir"]
    with open(os.path.join(output_dir, collision_comparison.RESULT_FILE)) as f:
      written = json.load(f)
    self.assertEqual(written["model"]["name"], "svg_lp")
    self.assertEqual(written["baseline"]["name"], "svg_det")
    config = workdir_lib.load_config(self.lp)
    first = collision_comparison.first_collision_frames(
        config.data.to_dict(), config.model.num_context_frames + 8, 6,
        config.model.num_context_frames)
    self.assertEqual(written["first_collision_frames"], first.tolist())
    # Recompute the model's after-collision mean from the evaluation's own scores.
    with np.load(os.path.join(self.lp, "evaluation", "scores.npz")) as arrays:
      values = arrays["scores_ssim_legacy"]
      chosen = values[np.arange(6), arrays["selected_reference_ssim_legacy"]]
    mask = collision_comparison.after_collision_mask(first, config.model.num_context_frames, 8)
    self.assertGreater(written["comparison"]["num_sequences_with_collision"], 0)
    self.assertAlmostEqual(written["comparison"]["model_mean_after"], chosen[mask].mean(),
                           places=6)
    for name in ("collision_comparison.csv", "collision_comparison.png"):
      self.assertTrue(os.path.exists(os.path.join(output_dir, name)), name)

  def test_errors(self):
    unevaluated = evaluate_test.untrained_workdir("svg_det",
                                                  os.path.join(self.make_temp_dir(), "det"))
    with self.assertRaisesRegex(ValueError, "evaluate the run first"):
      collision_comparison.compare_runs(self.lp, unevaluated)
    other = os.path.join(self.make_temp_dir(), "other_eval")
    evaluate.evaluate(self.det, num_samples=1, num_future_frames=6, num_test_sequences=6,
                      output_dir=other)
    with self.assertRaisesRegex(ValueError, "differ in num_future_frames"):
      collision_comparison.compare_runs(self.lp, self.det, baseline_evaluation_dir=other)


if __name__ == "__main__":
  test_case.tf.test.main()
