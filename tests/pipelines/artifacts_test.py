"""Tests of `pipelines.artifacts`: fingerprints, reuse, atomic completion, resumption."""

import os
from unittest import mock

import tensorflow as tf

from pipelines import artifacts
from tests import test_case


class ArtifactsTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    self.root = self.make_temp_dir()

  def _produce(self, component="Comp", parameters=None, inputs=None, version="v1",
               content="x", **kwargs):
    with artifacts.execute(self.root, component, parameters or {"a": 1}, inputs or {},
                           run_id="r", version=version, **kwargs) as run:
      if not run.reused:
        with open(os.path.join(run.work_dir, "out.txt"), "w") as f:
          f.write(content)
    return run

  def test_same_inputs_reused_and_each_change_reruns(self):
    first = self._produce()
    self.assertFalse(first.reused)
    self.assertTrue(artifacts.is_complete(first.path))
    self.assertTrue(self._produce().reused)
    self.assertFalse(self._produce(parameters={"a": 2}).reused)
    self.assertFalse(self._produce(version="v2").reused)
    downstream = self._produce("Down", inputs={"up": first.path})
    self.assertTrue(self._produce("Down", inputs={"up": first.path}).reused)
    # The input's content changed on disk (same size): its readers run again.
    with open(os.path.join(first.path, "out.txt"), "w") as f:
      f.write("y")
    os.utime(os.path.join(first.path, "out.txt"), ns=(1, 1))
    again = self._produce("Down", inputs={"up": first.path})
    self.assertFalse(again.reused)
    self.assertNotEqual(again.path, downstream.path)
    events = artifacts.read_events(self.root, "r")
    self.assertEqual([e["status"] for e in events],
                     ["ran", "reused", "ran", "ran", "ran", "reused", "ran"])

  def test_failure_leaves_nothing_complete(self):
    with self.assertRaisesRegex(RuntimeError, "boom"):
      with artifacts.execute(self.root, "Comp", {}, {}, version="v") as run:
        with open(os.path.join(run.work_dir, "half.txt"), "w") as f:
          f.write("half")
        raise RuntimeError("boom")
    self.assertFalse(os.path.exists(run.path))
    self.assertEqual(os.listdir(os.path.dirname(run.path)), [])  # no temporary left

  def test_resumable_keeps_partial_work_until_complete(self):
    with self.assertRaisesRegex(RuntimeError, "killed"):
      with artifacts.execute(self.root, "Trainer", {}, {}, version="v", resumable=True) as run:
        with open(os.path.join(run.work_dir, "ckpt-1"), "w") as f:
          f.write("1")
        raise RuntimeError("killed")
    self.assertTrue(os.path.exists(os.path.join(run.path, "ckpt-1")))
    self.assertFalse(artifacts.is_complete(run.path))
    with artifacts.execute(self.root, "Trainer", {}, {}, version="v", resumable=True) as again:
      self.assertFalse(again.reused)
      self.assertEqual(again.path, run.path)
      self.assertTrue(os.path.exists(os.path.join(again.work_dir, "ckpt-1")))
    self.assertTrue(artifacts.is_complete(run.path))

  def test_changed_size_is_incomplete_and_not_an_input(self):
    run = self._produce()
    with open(os.path.join(run.path, "out.txt"), "a") as f:
      f.write("more")
    self.assertFalse(artifacts.is_complete(run.path))
    with self.assertRaisesRegex(ValueError, "not a complete artifact"):
      self._produce("Down", inputs={"up": run.path})

  def test_code_version_hashes_sources_and_can_be_overridden(self):
    os.environ.pop(artifacts.CODE_VERSION_ENV, None)
    version = artifacts.code_version()
    self.assertRegex(version, r"\+src\.[0-9a-f]{12}$")
    with mock.patch.dict(os.environ, {artifacts.CODE_VERSION_ENV: "image-7"}):
      self.assertEqual(artifacts.code_version(), "image-7")


if __name__ == "__main__":
  tf.test.main()
