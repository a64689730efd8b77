"""The whole local pipeline end to end (`python -m pipelines.run`, kfp.local, tiny SVG-LP).

One shared run (setUpClass) in the default suite; the reruns (cached, worse model, killed
Trainer) are marked slow.
"""

import glob
import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import tensorflow as tf

from pipelines import artifacts
from pipelines import components
from pipelines import run as run_lib
from tests import test_case

STEPS = 30
COMMON = ["--model=svg_lp", "--dataset=smmnist", "--quick", "--num_test_sequences=8",
          "--num_eval_samples=3", "--config.train.checkpoint_every=5",
          "--config.train.image_every=1000"]


def _env(code_version):
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
              # Fixed for the module: edits to the tree during the tests change nothing.
              **{artifacts.CODE_VERSION_ENV: code_version})


def _run(root, *extra, code_version, timeout=900, common=COMMON):
  return subprocess.run([sys.executable, "-m", "pipelines.run", f"--pipeline_root={root}",
                         *common, *extra], capture_output=True, text=True,
                        env=_env(code_version), timeout=timeout)


def _summary_rows(result):
  """`([(component, status, artifact path)], summary text)` of a run's final summary."""
  lines = result.stdout.splitlines()
  start = max(i for i, l in enumerate(lines) if l.startswith("Run "))
  rows = []
  for line in lines[start + 1:]:
    parts = line.split()
    if len(parts) >= 5 and parts[1] in ("ran", "reused", "failed"):
      rows.append((parts[0], parts[1], parts[4]))
  return rows, "\n".join(lines[start:])


def _summary(result):
  rows, text = _summary_rows(result)
  return {component: status for component, status, _ in rows}, text


def _serving_snapshot(root):
  return sorted((os.path.relpath(p, root), os.path.getsize(p))
                for p in glob.glob(os.path.join(root, "serving", "**"), recursive=True)
                if os.path.isfile(p))


class PipelineRunTest(test_case.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    import tempfile  # pylint: disable=g-import-not-at-top
    cls.root = tempfile.mkdtemp(prefix="pipeline_run_test_")
    cls.code_version = f"test-{uuid.uuid4().hex[:8]}"
    cls.first = _run(cls.root, f"--steps={STEPS}", code_version=cls.code_version)
    if cls.first.returncode:
      raise AssertionError(f"first run failed:\n{cls.first.stdout[-3000:]}\n"
                           f"{cls.first.stderr[-3000:]}")

  @classmethod
  def tearDownClass(cls):
    import shutil  # pylint: disable=g-import-not-at-top
    shutil.rmtree(cls.root, ignore_errors=True)
    super().tearDownClass()

  def test_first_run_runs_every_component_and_pushes(self):
    table, text = _summary(self.first)
    self.assertEqual(list(table), ["ExampleGen", "StatisticsGen", "SchemaGen",
                                   "ExampleValidator", "Trainer"] + sorted(
                                       ["Evaluator", "InfraValidator"], key=list(table).index) +
                     ["Pusher"])
    self.assertEqual(set(table.values()), {"ran"})
    self.assertIn("Pushed version 1 to " + os.path.join(self.root, "serving", "svg_lp", "1"), text)
    version_dir = os.path.join(self.root, "serving", "svg_lp", "1")
    lineage = artifacts.read_json(os.path.join(version_dir, components.SERVING_LINEAGE))
    self.assertEqual(lineage["version"], 1)
    self.assertTrue(artifacts.is_complete(lineage["model"]))
    blessing = artifacts.read_json(os.path.join(lineage["blessing"], "blessing.json"))
    self.assertTrue(blessing["blessed"])
    self.assertIsNone(blessing["baseline"])
    self.assertEqual(blessing["details"]["num_test_sequences"], 8)
    infra = artifacts.read_json(os.path.join(lineage["infra_blessing"], "infra_blessing.json"))
    self.assertTrue(infra["blessed"])
    self.assertNotIn("tfgen", infra["modules"])
    self.assertNotIn("tensorflow_probability", infra["modules"])
    self.assertEqual({r["signature"] for r in infra["requests"]},
                     {"serving_default", "reconstruct"})
    # The kept schema, and the ExampleGen record of the training stream's seed.
    self.assertTrue(os.path.exists(os.path.join(self.root, "schema.json")))
    example_gen = artifacts.latest_complete(self.root, "ExampleGen")
    self.assertEqual(artifacts.read_marker(example_gen)["details"]["training_stream"]["seed"], 1)
    # The pushed version loads in plain TensorFlow.
    loaded = tf.saved_model.load(version_dir)
    self.assertIn("serving_default", loaded.signatures)

  def test_lineage_prints_the_chain_to_the_data(self):
    result = subprocess.run([sys.executable, "-m", "pipelines.lineage",
                             f"--pipeline_root={self.root}", "--version=1", "--json"],
                            capture_output=True,
                            text=True, env=_env(self.code_version), timeout=120, check=True)
    (entry,) = json.loads(result.stdout)
    self.assertEqual((entry["model_name"], entry["version"]), ("svg_lp", 1))
    producers = []

    def walk(node):
      producers.append(node["producer"])
      for child in node["inputs"].values() if isinstance(node["inputs"], dict) else ():
        walk(child)

    walk(entry["chain"])
    self.assertEqual(producers[0], "Pusher")
    self.assertEqual(set(producers), {"Pusher", "Evaluator", "InfraValidator", "Trainer",
                                      "ExampleValidator", "SchemaGen", "StatisticsGen",
                                      "ExampleGen"})
    self.assertEqual(entry["chain"]["code_version"], self.code_version)

  def test_bad_input(self):
    root = self.make_temp_dir()
    with self.assertRaisesRegex(
        ValueError, "Unknown model 'svg_xx'.*valid models: drnet, drnet_lstm, lapgan, svg_det"):
      run_lib.pipeline_arguments("svg_xx", "smmnist", root)
    with self.assertRaisesRegex(ValueError, "Unknown dataset 'nope'; valid datasets: .*smmnist"):
      run_lib.pipeline_arguments("svg_lp", "nope", root)
    with self.assertRaisesRegex(FileNotFoundError, "(?s)--raw_dir is required.*KTH actions"):
      run_lib.pipeline_arguments("svg_lp", "kth", root)
    # Another pipeline's root is refused, a root that is no pipeline's too.
    with self.assertRaisesRegex(ValueError, "holds the runs of another pipeline "
                                "\\('tfgen-svg_lp-smmnist'; this is 'tfgen-svg_fp-smmnist'\\)"):
      run_lib.check_root(self.root, {"pipeline": "tfgen-svg_fp-smmnist"})
    with open(os.path.join(root, "notes.txt"), "w") as f:
      f.write("mine")
    with self.assertRaisesRegex(ValueError, "not empty and holds no pipeline.json"):
      run_lib.check_root(root, {"pipeline": "tfgen-svg_lp-smmnist"})
    with self.assertRaisesRegex(ValueError, "is not a writable directory"):
      run_lib.check_root(os.path.join(root, "notes.txt", "sub"), {"pipeline": "p"})
    # Through the binary: one line, exit status 1.
    result = test_case.run_binary("pipelines.run", "--model=gan_xx", "--dataset=smmnist",
                                  f"--pipeline_root={root}")
    self.assertEqual(result.returncode, 1)
    self.assertIn("Error: Unknown model 'gan_xx' for the pipeline; valid models:", result.stderr)

  @pytest.mark.slow
  def test_cached_rerun_runs_nothing(self):
    before = _serving_snapshot(self.root)
    result = _run(self.root, f"--steps={STEPS}", code_version=self.code_version)
    self.assertEqual(result.returncode, 0, result.stdout[-2000:])
    table, text = _summary(result)
    self.assertLen(table, 8)
    self.assertEqual(set(table.values()), {"reused"}, text)
    self.assertEqual(_serving_snapshot(self.root), before)

  @pytest.mark.slow
  def test_worse_model_is_not_blessed_and_nothing_is_pushed(self):
    before = _serving_snapshot(self.root)
    pushed = components.pushed_versions(os.path.join(self.root, "serving"), "svg_lp")[-1][0]
    # One step: the candidate has barely left its initial weights.
    result = _run(self.root, "--steps=1", code_version=self.code_version)
    self.assertEqual(result.returncode, 0, result.stdout[-2000:])
    table, text = _summary(result)
    for reused in ("ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator"):
      self.assertEqual(table[reused], "reused")
    for ran in ("Trainer", "Evaluator", "InfraValidator", "Pusher"):
      self.assertEqual(table[ran], "ran")
    self.assertRegex(text, r"Nothing pushed: not blessed by Evaluator: .*worse than the pushed "
                           rf"version {pushed}'s")
    blessing_dir = artifacts.latest_complete(self.root, "Evaluator")
    blessing = artifacts.read_json(os.path.join(blessing_dir, "blessing.json"))
    self.assertFalse(blessing["blessed"])
    self.assertEqual(blessing["baseline"]["version"], pushed)
    self.assertEqual(blessing["baseline"]["source"], "recorded at push (same test set and options)")
    self.assertLess(blessing["metrics"]["ssim"], blessing["baseline"]["metrics"]["ssim"])
    self.assertEqual(_serving_snapshot(self.root), before)

  @pytest.mark.slow
  def test_killed_trainer_resumes_and_reuses_what_came_before(self):
    before = _serving_snapshot(self.root)
    steps = STEPS + 25
    command = [sys.executable, "-m", "pipelines.run", f"--pipeline_root={self.root}", *COMMON,
               f"--steps={steps}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=_env(self.code_version), start_new_session=True)
    deadline, killed_at = time.time() + 600, None
    try:
      while time.time() < deadline and process.poll() is None:
        for directory in glob.glob(os.path.join(self.root, "artifacts", "Trainer", "*")):
          if artifacts.is_complete(directory):
            continue
          checkpoints = glob.glob(os.path.join(directory, "workdir", "checkpoints", "ckpt-*.index"))
          if checkpoints:
            killed_at = directory
            break
        if killed_at:
          break
        time.sleep(0.2)
    finally:
      os.killpg(process.pid, signal.SIGKILL)
      process.wait()
    self.assertIsNotNone(killed_at, "no checkpoint appeared before the run ended")
    self.assertFalse(artifacts.is_complete(killed_at))  # nothing a later run takes as done
    self.assertEqual(_serving_snapshot(self.root), before)  # nothing pushed touched
    result = _run(self.root, f"--steps={steps}", code_version=self.code_version)
    self.assertEqual(result.returncode, 0, result.stdout[-2000:])
    table, _ = _summary(result)
    for reused in ("ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator"):
      self.assertEqual(table[reused], "reused")
    self.assertEqual(table["Trainer"], "ran")
    marker = artifacts.read_marker(killed_at)
    self.assertGreaterEqual(marker["details"]["resumed_from_step"], 5)
    self.assertEqual(marker["details"]["steps"], steps)
    self.assertTrue(tf.train.latest_checkpoint(os.path.join(killed_at, "workdir", "checkpoints"))
                    .endswith(f"ckpt-{steps}"))


class DrNetPipelineTest(test_case.TestCase):

  @pytest.mark.slow
  def test_drnet_first_stage_end_to_end(self):
    root = self.make_temp_dir()
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.run", "--model=drnet", "--dataset=mnist", "--quick",
         "--steps=3", "--num_test_sequences=16", f"--pipeline_root={root}"],
        capture_output=True, text=True, env=_env("drnet-test"), timeout=900)
    self.assertEqual(result.returncode, 0, result.stdout[-2000:] + result.stderr[-2000:])
    table, text = _summary(result)
    self.assertEqual(set(table.values()), {"ran"})
    self.assertIn("Pushed version 1 to " + os.path.join(root, "serving", "drnet", "1"), text)
    blessing = artifacts.read_json(os.path.join(artifacts.latest_complete(root, "Evaluator"),
                                                "blessing.json"))
    self.assertEqual(set(blessing["thresholds"]), {"reconstruction_loss"})
    self.assertLess(blessing["metrics"]["reconstruction_loss"], 1.0)


def _blessing(root):
  return artifacts.read_json(os.path.join(artifacts.latest_complete(root, "Evaluator"),
                                          "blessing.json"))


class DrNetLSTMPipelineTest(test_case.TestCase):
  """DrNET, then its pose LSTM on DrNET's work directory, evaluated, exported, pushed."""

  @pytest.mark.slow
  def test_drnet_then_pose_lstm_end_to_end(self):
    root = self.make_temp_dir()
    result = _run(root, "--steps=1", "--num_test_sequences=8", code_version="drnet-lstm-test",
                  common=["--model=drnet_lstm", "--dataset=mnist", "--quick"], timeout=1800)
    self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-2000:])
    rows, text = _summary_rows(result)
    self.assertEqual([c for c, _, _ in rows[:6]],
                     ["ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator",
                      "Trainer-drnet", "Trainer-pose_lstm"])
    self.assertEqual({c for c, _, _ in rows[6:]}, {"Evaluator", "InfraValidator", "Pusher"})
    self.assertEqual({status for _, status, _ in rows}, {"ran"})
    paths = {c: path for c, _, path in rows}
    # The pose LSTM trained on the DrNET stage's artifact, whose work directory it read.
    lstm = artifacts.read_marker(paths["Trainer-pose_lstm"])
    self.assertEqual(lstm["inputs"]["upstream"]["path"], paths["Trainer-drnet"])
    self.assertEqual(lstm["parameters"]["config"]["drnet_workdir"],
                     os.path.join(paths["Trainer-drnet"], "workdir"))
    self.assertEqual(lstm["details"]["steps"], 1)
    blessing = _blessing(root)
    self.assertTrue(blessing["blessed"], blessing["reasons"])
    self.assertEqual(set(blessing["thresholds"]), {"ssim", "psnr"})
    self.assertEqual(blessing["details"]["num_test_sequences"], 8)
    self.assertEqual(blessing["details"]["checkpoint"],
                     os.path.join(paths["Trainer-pose_lstm"], "workdir", "checkpoints", "ckpt-1"))
    version_dir = os.path.join(root, "serving", "drnet_lstm", "1")
    self.assertIn(f"Pushed version 1 to {version_dir}.", text)
    lineage = artifacts.read_json(os.path.join(version_dir, components.SERVING_LINEAGE))
    self.assertEqual(lineage["model"], paths["Trainer-pose_lstm"])
    loaded = tf.saved_model.load(version_dir)
    self.assertIn("serving_default", loaded.signatures)


class LAPGANPipelineTest(test_case.TestCase):
  """LAPGAN on MNIST digits: image ExampleGen and validation, one Trainer per level, the
  assembling Trainer, Parzen Evaluator, InfraValidator, Pusher."""

  @pytest.mark.slow
  def test_levels_then_assembly_end_to_end(self):
    root = self.make_temp_dir()
    result = _run(root, "--steps=1", code_version="lapgan-test",
                  common=["--model=lapgan", "--dataset=mnist_digits", "--quick"], timeout=1800)
    self.assertEqual(result.returncode, 0, result.stdout[-3000:] + result.stderr[-2000:])
    rows, text = _summary_rows(result)
    self.assertEqual([c for c, _, _ in rows[:8]],
                     ["ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator"] +
                     ["Trainer-levels"] * 3 + ["Trainer-assemble"])
    self.assertEqual({c for c, _, _ in rows[8:]}, {"Evaluator", "InfraValidator", "Pusher"})
    self.assertEqual({status for _, status, _ in rows}, {"ran"})
    # Each level is its own Trainer artifact; the assembling Trainer gathered the three.
    levels = [path for c, _, path in rows if c == "Trainer-levels"]
    self.assertLen(set(levels), 3)
    trained = {}
    for path in levels:
      marker = artifacts.read_marker(path)
      level = marker["details"]["parallel"]["lapgan.level"]
      trained[level] = path
      self.assertEqual(marker["parameters"]["config"]["lapgan"]["level"], int(level))
      self.assertTrue(tf.train.latest_checkpoint(
          os.path.join(path, "workdir", f"level_{level}", "checkpoints")))
    self.assertEqual(sorted(trained), ["0", "1", "2"])
    assemble = artifacts.read_marker(
        next(path for c, _, path in rows if c == "Trainer-assemble"))
    self.assertEqual(sorted(v["path"] for k, v in assemble["inputs"].items()
                            if k.startswith("gathered_")), sorted(levels))
    # ExampleGen materialised the evaluation's images; StatisticsGen counted their classes.
    stats = artifacts.read_json(os.path.join(artifacts.latest_complete(root, "StatisticsGen"),
                                             "statistics.json"))
    self.assertEqual(stats["kind"], "image")
    for split in ("validation", "test"):
      self.assertEqual(stats["splits"][split]["examples"], 32)
      self.assertEqual(stats["splits"][split]["frame_shapes"], [[28, 28, 1]])
      self.assertEqual(sum(stats["splits"][split]["classes"].values()), 32)
    self.assertEqual(artifacts.read_json(os.path.join(root, "schema.json"))["kind"], "image")
    blessing = _blessing(root)
    self.assertTrue(blessing["blessed"], blessing["reasons"])
    self.assertEqual(set(blessing["thresholds"]), {"parzen_log_likelihood"})
    self.assertTrue(math.isfinite(blessing["metrics"]["parzen_log_likelihood"]))
    self.assertEqual((blessing["details"]["num_images"],
                      blessing["details"]["num_validation_images"],
                      blessing["details"]["num_samples"]), (32, 32, 200))
    results = artifacts.read_json(os.path.join(artifacts.latest_complete(root, "Evaluator"),
                                               "evaluation", "results.json"))
    self.assertEqual(results["results"]["parzen"]["num_images"], 32)
    version_dir = os.path.join(root, "serving", "lapgan", "1")
    self.assertIn(f"Pushed version 1 to {version_dir}.", text)
    infra = artifacts.read_json(os.path.join(artifacts.latest_complete(root, "InfraValidator"),
                                             "infra_blessing.json"))
    self.assertTrue(infra["blessed"])
    loaded = tf.saved_model.load(version_dir)
    self.assertEqual(set(loaded.signatures), {"serving_default", "from_coarse"})


class CorruptShardTest(test_case.TestCase):
  """A shard corrupted after ExampleGen wrote it stops the pipeline at ExampleValidator."""

  def test_corrupted_shard_is_caught(self):
    root = self.make_temp_dir()
    kwargs = dict(version="v")
    examples = components.example_gen(
        root, "r1", config_model="svg_lp", dataset="smmnist", variant="quick", overrides=[],
        raw_dir="", data_dir="", test_num_frames=6, num_test_sequences=8, num_shards=2,
        beam_args=[], image_size=64, **kwargs)
    stats = components.statistics_gen(root, "r1", examples, **kwargs)
    schema = components.schema_gen(root, "r1", stats, **kwargs)
    components.example_validator(root, "r1", stats, schema, **kwargs)  # clean data passes
    shard = sorted(glob.glob(os.path.join(examples, "data", "test-*.tfrecord")))[1]
    with open(shard, "r+b") as f:
      f.seek(100)
      f.write(b"\xff" * 16)  # (the frames are mostly black: zeros would change nothing)
    # ExampleGen is reused (its inputs did not change); its readers see the changed file.
    self.assertEqual(components.example_gen(
        root, "r2", config_model="svg_lp", dataset="smmnist", variant="quick", overrides=[],
        raw_dir="", data_dir="", test_num_frames=6, num_test_sequences=8, num_shards=2,
        beam_args=[], image_size=64, **kwargs), examples)
    stats2 = components.statistics_gen(root, "r2", examples, **kwargs)
    self.assertNotEqual(stats2, stats)
    schema2 = components.schema_gen(root, "r2", stats2, **kwargs)
    self.assertEqual(artifacts.read_json(os.path.join(schema2, "schema.json")),
                     artifacts.read_json(os.path.join(schema, "schema.json")))  # the kept one
    with self.assertRaisesRegex(components.AnomaliesError,
                                f"shard {os.path.basename(shard)} is corrupt \\(DataLossError"):
      components.example_validator(root, "r2", stats2, schema2, **kwargs)
    events = artifacts.read_events(root, "r2")
    self.assertEqual(events[-1]["status"], "failed")
    self.assertFalse(os.path.exists(events[-1]["path"]))
    self.assertLen(glob.glob(os.path.join(root, "reports", "anomalies-r2.json")), 1)


if __name__ == "__main__":
  tf.test.main()
