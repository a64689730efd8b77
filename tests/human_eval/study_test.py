"""Tests of study preparation: sources, resizing, the protocol file, trial schedules."""

import collections
import json
import os

import numpy as np
from PIL import Image

from tests import test_case
from tests.human_eval import testdata
from tfgen.human_eval import sources
from tfgen.human_eval import study as study_lib


class DurationsTest(test_case.TestCase):

  def test_thesis_durations_are_log_spaced_from_50_to_2000_ms(self):
    durations = study_lib.log_spaced_durations()
    # 50 * 40 ** (k / 10), k = 0..10, rounded to 1 ms.
    self.assertEqual(durations, [50, 72, 105, 151, 219, 316, 457, 661, 956, 1383, 2000])
    ratios = np.diff(np.log(durations))
    self.assertAllClose(ratios, np.full(10, np.log(40) / 10), atol=0.01)

  def test_bad_durations(self):
    with self.assertRaisesRegex(ValueError, "collide"):
      study_lib.log_spaced_durations(50, 52, 11)
    with self.assertRaisesRegex(ValueError, "0 < min"):
      study_lib.log_spaced_durations(0, 2000, 11)


class PrepareStudyTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.root = testdata.tempdir(self)

  def test_images_from_a_folder_and_an_npz(self):
    study = testdata.make_study(self.root, num_items=3, trials_per_subject=10, seed=7)
    directory = os.path.join(self.root, "study")
    with open(os.path.join(directory, "study.json")) as f:
      self.assertEqual(json.load(f), study)
    self.assertEqual([s["name"] for s in study["sources"]], ["real", "lapgan"])
    self.assertEqual([s["loader"] for s in study["sources"]], ["image_folder", "npz"])
    self.assertEqual(study["durations_ms"], [50, 500, 1000])
    self.assertEqual((study["trials_per_subject"], study["seed"], study["kind"]),
                     (10, 7, "image"))
    self.assertEqual(study["notes"], [])  # Same size everywhere.
    self.assertLen(study["stimuli"], 6)
    self.assertLen(study["examples"], 3)
    for name, info in study["stimuli"].items():
      self.assertNotIn(info["source"], name)  # Opaque names.
      with Image.open(os.path.join(directory, "stimuli", name)) as image:
        self.assertEqual((image.format, image.size, image.mode), ("PNG", (32, 24), "RGB"))
    real = testdata.pictures(3, seed=1)
    first = next(n for n, v in study["stimuli"].items() if v == {"source": "real", "index": 0})
    self.assertAllEqual(np.asarray(Image.open(os.path.join(directory, "stimuli", first))),
                        real[0])
    mask = np.asarray(Image.open(os.path.join(directory, "mask.png")))
    self.assertEqual(mask.shape, (24, 32, 3))
    self.assertTrue(np.all(mask == 128))

  def test_sizes_are_unified_with_a_note(self):
    real = testdata.write_image_folder(os.path.join(self.root, "real"),
                                       testdata.pictures(2, size=(24, 32)))
    big = testdata.write_image_folder(os.path.join(self.root, "big"),
                                      testdata.pictures(2, size=(48, 48)), ".jpg")
    study = study_lib.prepare_study(os.path.join(self.root, "study"),
                                    [f"real={real}", f"big={big}"])
    self.assertEqual(study["image_size"], [24, 32])
    self.assertLen(study["notes"], 1)
    self.assertIn("big: 48x48", study["notes"][0])
    self.assertIn("resized to 24x32", study["notes"][0])
    for name in study["stimuli"]:
      with Image.open(os.path.join(self.root, "study", "stimuli", name)) as image:
        self.assertEqual(image.size, (32, 24))

  def test_clips_from_an_npz_and_a_gif_folder(self):
    clips = np.stack([testdata.pictures(5, seed=s) for s in range(3)])  # (3, 5, 24, 32, 3)
    np.savez(os.path.join(self.root, "real.npz"), clips=clips)
    gif_dir = os.path.join(self.root, "gifs")
    os.makedirs(gif_dir)
    for i in range(3):
      frames = [Image.fromarray(f) for f in testdata.pictures(4, seed=10 + i, noisy=True)]
      frames[0].save(os.path.join(gif_dir, f"{i}.gif"), save_all=True,
                     append_images=frames[1:], duration=80, loop=0)
    study = study_lib.prepare_study(
        os.path.join(self.root, "study"),
        [f"real={self.root}/real.npz", f"svg={gif_dir}"], clip_frame_ms=120)
    self.assertEqual(study["kind"], "clip")
    self.assertEqual([s["loader"] for s in study["sources"]], ["npz", "gif_folder"])
    lengths = collections.Counter()
    for name, info in study["stimuli"].items():
      self.assertTrue(name.endswith(".gif"))
      with Image.open(os.path.join(self.root, "study", "stimuli", name)) as gif:
        lengths[info["source"], gif.n_frames] += 1
        self.assertEqual((gif.info["duration"], gif.info["loop"]), (120, 0))
    self.assertEqual(lengths, {("real", 5): 3, ("svg", 4): 3})

  def test_items_per_source_takes_a_prefix(self):
    real = testdata.write_image_folder(os.path.join(self.root, "real"),
                                       testdata.pictures(5, seed=1))
    np.savez(os.path.join(self.root, "g.npz"), testdata.pictures(3, seed=2))
    specs = [f"real={real}", f"gan={self.root}/g.npz"]
    with self.assertRaisesRegex(ValueError, r"different numbers of items.*--items_per_source"):
      study_lib.prepare_study(os.path.join(self.root, "s1"), specs)
    self.assertFalse(os.path.exists(os.path.join(self.root, "s1", "study.json")))
    with self.assertRaisesRegex(ValueError, "must be in 1..3"):
      study_lib.prepare_study(os.path.join(self.root, "s2"), specs, items_per_source=4)
    study = study_lib.prepare_study(os.path.join(self.root, "s3"), specs, items_per_source=2)
    self.assertEqual(sorted(v["index"] for v in study["stimuli"].values()), [0, 0, 1, 1])

  def test_bad_sources(self):
    empty = os.path.join(self.root, "empty")
    os.makedirs(empty)
    real = testdata.write_image_folder(os.path.join(self.root, "real"), testdata.pictures(2))
    np.savez(os.path.join(self.root, "wide.npz"), images=np.full((2, 4, 4, 3), 2.0))
    np.savez(os.path.join(self.root, "clips.npz"), np.zeros((2, 3, 4, 4, 3), np.uint8))
    cases = [
        ([f"real={real}", f"gan={empty}"], ValueError, "no images"),
        ([f"real={real}", f"gan={self.root}/missing"], FileNotFoundError, "does not exist"),
        ([f"real={real}", f"gan={self.root}/wide.npz"], ValueError, r"must lie in \[0, 1\]"),
        ([f"real={real}", f"gan={self.root}/clips.npz"], ValueError, "mix images and clips"),
        ([f"real={real}", f"real={real}"], ValueError, "distinct"),
        ([f"{real}"], ValueError, "NAME=PATH"),
        ([], ValueError, "at least one"),
    ]
    for i, (specs, error, message) in enumerate(cases):
      with self.assertRaisesRegex(error, message, msg=str(specs)):
        study_lib.prepare_study(os.path.join(self.root, f"s{i}"), specs)
      self.assertFalse(os.path.exists(os.path.join(self.root, f"s{i}", "study.json")))

  def test_an_existing_study_is_never_overwritten(self):
    testdata.make_study(self.root)
    with self.assertRaisesRegex(ValueError, "already holds a study"):
      testdata.make_study(self.root)

  def test_a_registered_loader_plugs_in(self):
    calls = []

    @sources.register_loader("test_constant", accepts=lambda path: False)
    def _load(path):  # pylint: disable=unused-variable
      calls.append(path)
      return sources.Stimuli("image", list(testdata.pictures(2, seed=3)))

    real = testdata.write_image_folder(os.path.join(self.root, "real"), testdata.pictures(2))
    study = study_lib.prepare_study(os.path.join(self.root, "study"),
                                    [f"real={real}", "run=test_constant:/some/workdir"])
    self.assertEqual(calls, ["/some/workdir"])
    self.assertEqual(study["sources"][1]["loader"], "test_constant")
    with self.assertRaisesRegex(ValueError, "already registered"):
      sources.register_loader("test_constant", accepts=lambda path: False)(_load)


class WorkdirSourceTest(test_case.TestCase):

  def test_generated_and_real_clips_of_a_work_directory(self):
    from tests.evaluation import evaluate_test  # pylint: disable=g-import-not-at-top
    workdir = evaluate_test.untrained_workdir(
        "svg_lp", os.path.join(self.make_temp_dir(), "run"))
    name, generated = sources.load_source(workdir)  # Found without naming the loader.
    self.assertEqual(name, "workdir")
    _, real = sources.load_source(workdir, loader="workdir_real")
    self.assertEqual((generated.kind, real.kind), ("clip", "clip"))
    self.assertEqual(len(generated.items), len(real.items))
    self.assertGreater(len(real.items), 1)
    # Tiny config: 2 context + 2 future frames of 64x64 grey, shown as RGB.
    self.assertEqual(generated.items[0].shape, (4, 64, 64, 3))
    self.assertEqual(generated.items[0].dtype, np.uint8)
    for fake, true in zip(generated.items, real.items):
      np.testing.assert_array_equal(fake[:2], true[:2])  # The same context frames,
      self.assertFalse(np.array_equal(fake[2:], true[2:]))  # then the model's future.
    study = study_lib.prepare_study(os.path.join(self.root, "study"),
                                    [f"real=workdir_real:{workdir}", f"svg={workdir}"])
    self.assertEqual([s["loader"] for s in study["sources"]], ["workdir_real", "workdir"])

  def test_a_folder_that_is_not_a_work_directory(self):
    with self.assertRaisesRegex(ValueError, "not a tfgen training work directory"):
      sources.load_source(self.make_temp_dir(), loader="workdir_real")

  def setUp(self):
    super().setUp()
    self.root = self.make_temp_dir()


class ScheduleTest(test_case.TestCase):

  def test_blocks_hold_every_cell_once_and_stimuli_repeat_only_after_all(self):
    study = testdata.make_study(testdata.tempdir(self), num_items=4,
                                trials_per_subject=15)
    trials = study_lib.schedule(study, 0)
    self.assertLen(trials, 15)
    block = study["block_size"]
    self.assertEqual(block, 6)
    cells = {(s, d) for s in ("real", "lapgan") for d in (50, 500, 1000)}
    for start in (0, 6):
      self.assertEqual({(s, d) for s, _, d in trials[start:start + block]}, cells)
    for source in ("real", "lapgan"):
      shown = [stimulus for s, stimulus, _ in trials if s == source]
      self.assertLen(set(shown[:4]), 4)  # Without replacement within a cycle.
      self.assertTrue(all(study["stimuli"][f]["source"] == source for f in shown))
    self.assertEqual(study_lib.schedule(study, 0), trials)  # Deterministic.
    self.assertNotEqual(study_lib.schedule(study, 1), trials)


if __name__ == "__main__":
  test_case.tf.test.main()
