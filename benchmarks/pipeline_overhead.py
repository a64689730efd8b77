"""What the pipeline costs over plain commands, and ExampleGen's Beam scaling on KTH.

    python benchmarks/pipeline_overhead.py [--steps=20 --num_test_sequences=16 \
        --num_eval_samples=5 --num_videos=36 --skip_pipeline --skip_example_gen]
    python benchmarks/pipeline_overhead.py --skip_pipeline --skip_example_gen \
        --component_overhead [--repeats=3]

1. The local pipeline (`python -m pipelines.run --model=svg_lp --dataset=smmnist --quick`,
   kfp.local, eight components) against the same work as plain binaries
   (`tfgen.bin.train`, `tfgen.bin.evaluate`, `tfgen.bin.export`), the same quick config,
   steps, test clips and N. Prints both wall times, the difference, the difference per
   component, and the wall time of a cached rerun (everything reused).
2. ExampleGen on a KTH fixture of `--num_videos` small videos (160x120, 60 frames, like
   KTH's own files; persons 1-25) through Beam's DirectRunner with 1 and 2 worker
   processes, and `tfgen.bin.prepare`'s pool with 1 and 2 processes for comparison.

3. `--component_overhead`: where a component's fixed cost goes. Each component is a fresh
   process (`sh`, then `python -m kfp.dsl.executor_main`, then the component's own
   imports); this times, each in a fresh interpreter (median of `--repeats`), Python
   itself, KFP's per-component `pip install kfp==...` check (what components ran before
   `install_kfp_package=False`), the KFP executor's imports, TensorFlow's import, and the
   imports of a component that needs no TensorFlow (SchemaGen, ExampleValidator, Pusher,
   InfraValidator's own process, lineage) before and after they stopped importing it.
   CPU seconds (user + system of the child) are printed beside wall seconds: on a shared,
   loaded machine wall time measures the queue, CPU time the work.

The machine (CPU model, flags, load average) is printed first: the project's machines are
shared, and wall times on a loaded machine are not quiet figures.
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

_STEPS = flags.DEFINE_integer("steps", 20, "Training steps of both sides.")
_NUM_TEST = flags.DEFINE_integer("num_test_sequences", 16, "Test clips evaluated.")
_NUM_SAMPLES = flags.DEFINE_integer("num_eval_samples", 5, "Futures per test clip (N).")
_NUM_VIDEOS = flags.DEFINE_integer("num_videos", 36, "Videos of the KTH fixture.")
_SKIP_PIPELINE = flags.DEFINE_bool("skip_pipeline", False, "Skip part 1.")
_SKIP_EXAMPLE_GEN = flags.DEFINE_bool("skip_example_gen", False, "Skip part 2.")
_COMPONENT_OVERHEAD = flags.DEFINE_bool("component_overhead", False, "Run part 3 (alone "
                                        "with --skip_pipeline --skip_example_gen).")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Part 3: fresh interpreters per measurement.")

ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")


def _timed(command, env=None):
  started = time.perf_counter()
  result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
  seconds = time.perf_counter() - started
  if result.returncode:
    raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n"
                       f"{result.stderr[-2000:]}")
  return seconds, result


def pipeline_versus_plain(work):
  python = sys.executable
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  common = [f"--steps={_STEPS.value}"]
  root = os.path.join(work, "root")
  pipeline = [python, "-m", "pipelines.run", "--model=svg_lp", "--dataset=smmnist", "--quick",
              f"--pipeline_root={root}", f"--num_test_sequences={_NUM_TEST.value}",
              f"--num_eval_samples={_NUM_SAMPLES.value}"] + common
  pipeline_seconds, result = _timed(pipeline, env)
  summary = result.stdout[result.stdout.rindex("Run "):]
  cached_seconds, _ = _timed(pipeline, env)
  workdir = os.path.join(work, "plain")
  plain = [
      [python, "-m", "tfgen.bin.train", "--model=svg_lp", "--dataset=smmnist", "--quick",
       f"--workdir={workdir}"] + common,
      [python, "-m", "tfgen.bin.evaluate", f"--workdir={workdir}",
       f"--num_samples={_NUM_SAMPLES.value}", f"--num_test_sequences={_NUM_TEST.value}"],
      [python, "-m", "tfgen.bin.export", f"--workdir={workdir}",
       f"--export_dir={os.path.join(work, 'serving')}"],
  ]
  plain_seconds = [_timed(command, env)[0] for command in plain]
  print(summary.strip())
  print(f"plain binaries: train {plain_seconds[0]:.1f} s, evaluate {plain_seconds[1]:.1f} s, "
        f"export {plain_seconds[2]:.1f} s")
  total = sum(plain_seconds)
  print(f"pipeline_seconds={pipeline_seconds:.1f} plain_seconds={total:.1f} "
        f"overhead_seconds={pipeline_seconds - total:.1f} "
        f"overhead_per_component={(pipeline_seconds - total) / 8:.1f} "
        f"cached_rerun_seconds={cached_seconds:.1f}")


def write_kth_fixture(raw_dir, num_videos):
  import av  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  lines = []
  for i in range(num_videos):
    person, action = 1 + i % 25, ACTIONS[i % len(ACTIONS)]
    name = f"person{person:02d}_{action}_d{1 + (i // 25) % 4}"
    os.makedirs(os.path.join(raw_dir, action), exist_ok=True)
    with av.open(os.path.join(raw_dir, action, f"{name}_uncomp.avi"), "w",
                 format="avi") as container:
      stream = container.add_stream("mpeg4", rate=25)
      stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
      for t in range(60):
        image = np.full((120, 160), 30 + i, np.uint8)
        image[:, (2 * t) % 144:(2 * t) % 144 + 16] = 220
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="gray")):
          container.mux(packet)
      for packet in stream.encode():
        container.mux(packet)
    lines.append(f"{name}\t\tframes\t1-25, 26-60\r\n")
  with open(os.path.join(raw_dir, "00sequences.txt"), "w", newline="") as f:
    f.writelines(lines)


def example_gen_scaling(work):
  from pipelines import example_gen  # pylint: disable=g-import-not-at-top
  from tfgen.data import prepare  # pylint: disable=g-import-not-at-top
  raw = os.path.join(work, "kth_raw")
  write_kth_fixture(raw, _NUM_VIDEOS.value)
  for workers in (1, 2):
    started = time.perf_counter()
    summary = example_gen.kth(raw, os.path.join(work, f"beam_{workers}"), num_shards=4,
                              beam_args=list(example_gen.DEFAULT_BEAM_ARGS),
                              num_workers=workers)
    beam_seconds = time.perf_counter() - started
    started = time.perf_counter()
    prepare.prepare_dataset("kth", raw, os.path.join(work, f"pool_{workers}"), num_shards=4,
                            num_workers=workers, progress=False)
    pool_seconds = time.perf_counter() - started
    converted = summary["train"]["converted"] + summary["test"]["converted"]
    print(f"example_gen_kth videos={converted} workers={workers} "
          f"beam_seconds={beam_seconds:.1f} prepare_pool_seconds={pool_seconds:.1f}")


def _cpu_and_wall(command, env):
  """`(wall seconds, CPU seconds)` of running `command` to completion."""
  before = resource.getrusage(resource.RUSAGE_CHILDREN)
  started = time.perf_counter()
  result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
  wall = time.perf_counter() - started
  after = resource.getrusage(resource.RUSAGE_CHILDREN)
  if result.returncode:
    raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
  return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _imports(statement):
  """A fresh interpreter running `statement`, saying whether TensorFlow got imported."""
  return [sys.executable, "-c", f"{statement}\nimport sys\n"
          "assert ('tensorflow' in sys.modules) == TF, sys.modules.keys() & {'tensorflow'}"]


def component_overhead():
  from importlib import metadata  # pylint: disable=g-import-not-at-top
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PIP_DISABLE_PIP_VERSION_CHECK="1")
  base = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env["PYTHONPATH"] = base + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
  executor = "import kfp.dsl.executor_main"
  light = f"{executor}\nfrom pipelines import components\nfrom pipelines import lineage"
  measurements = [
      ("python -c pass", [sys.executable, "-c", "pass"]),
      ("kfp's per-component pip check (before)",
       [sys.executable, "-m", "pip", "install", "--quiet", "--no-warn-script-location",
        f"kfp=={metadata.version('kfp')}", "--no-deps"]),
      ("KFP executor imports", _imports(f"TF = False\n{executor}")),
      ("import tensorflow", _imports("TF = True\nimport tensorflow")),
      ("KFP executor + tensorflow (Trainer, Evaluator, ExampleGen, StatisticsGen)",
       _imports(f"TF = True\n{executor}\nimport tensorflow")),
      ("light component, Pusher with tfgen.export.exporter (before)",
       _imports(f"TF = True\n{light}\nfrom tfgen.export import exporter")),
      ("light component: SchemaGen, ExampleValidator, Pusher, lineage (after)",
       _imports(f"TF = False\n{light}\nfrom tfgen.export import versions")),
  ]
  print(f"component_overhead repeats={_REPEATS.value} (median; CPU = user + system)")
  for name, command in measurements:
    runs = [_cpu_and_wall(command, env) for _ in range(_REPEATS.value)]
    print(f"  {name:<78} wall {statistics.median(r[0] for r in runs):6.2f} s  "
          f"cpu {statistics.median(r[1] for r in runs):6.2f} s")


def main(argv):
  del argv
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  print(machine.describe())
  print(f"load average before: {os.getloadavg()}")
  with tempfile.TemporaryDirectory() as work:
    if not _SKIP_PIPELINE.value:
      pipeline_versus_plain(work)
    if not _SKIP_EXAMPLE_GEN.value:
      example_gen_scaling(work)
    if _COMPONENT_OVERHEAD.value:
      component_overhead()
  print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
  app.run(main)
