"""Artifacts of the pipeline: content-addressed directories with a fingerprint, a completion
marker and their lineage; the caching and resumption that `kfp.local` does not give.

Every component writes its outputs into `ROOT/artifacts/<Component>/<fingerprint>/`, where
the fingerprint is a hash of what determines them: the component's name, its parameters,
the code version (`code_version()`), and each input artifact's fingerprint together with the
size and modification time of every file in it (so a shard changed on disk after it was
written makes its readers run again, and see the change). `ARTIFACT.json`, written last
and atomically, marks the directory complete and records its lineage: producer, inputs
(paths and fingerprints), parameters, code version, run id, start and end times, and the
files it holds with their sizes.

A directory without `ARTIFACT.json`, or whose files no longer have the recorded sizes, is
not complete, and no component takes it as input. Components are either:
- staged (the default): they write into a hidden temporary sibling, renamed into place
  before the marker is written; a failure leaves only the temporary directory, removed on
  the way out (or by the next run);
- resumable (Trainer): they work in the artifact directory itself, so a killed run leaves
  its checkpoints there, and a rerun with the same fingerprint continues from them. It is
  marked complete only at the end.
"""

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import time
import uuid
from typing import Dict, Optional

MARKER = "ARTIFACT.json"
ARTIFACTS_DIR = "artifacts"
EVENTS_DIR = "runs"
# Overrides the code version (the source hash) for a whole run, e.g. a container image tag
# on a cluster, or tests that must not see other people's concurrent edits.
CODE_VERSION_ENV = "TFGEN_PIPELINE_CODE_VERSION"
_SOURCE_PACKAGES = ("tfgen", "configs", "pipelines")


def code_version():
  """tfgen's version and a hash of its Python sources (tfgen/, configs/, pipelines/).

  A changed line of code is a new version: a rerun after an edit recomputes what the code
  produces instead of reusing outputs of the old code.
  """
  override = os.environ.get(CODE_VERSION_ENV)
  if override:
    return override
  import tfgen  # pylint: disable=g-import-not-at-top
  digest = hashlib.sha256()
  base = os.path.dirname(os.path.dirname(os.path.abspath(tfgen.__file__)))
  for package in _SOURCE_PACKAGES:
    for directory, dirs, names in sorted(os.walk(os.path.join(base, package))):
      dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
      for name in sorted(names):
        if name.endswith(".py"):
          path = os.path.join(directory, name)
          digest.update(os.path.relpath(path, base).encode())
          with open(path, "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
  return f"{_package_version()}+src.{digest.hexdigest()[:12]}"


def _package_version():
  try:
    from importlib import metadata  # pylint: disable=g-import-not-at-top
    return metadata.version("tfgen")
  except Exception:  # pylint: disable=broad-except  (not installed: a source checkout)
    return "0+unknown"


def _canonical(value):
  return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def file_listing(path):
  """`{relative path: size}` of every file under `path` except the marker."""
  listing = {}
  for directory, dirs, names in os.walk(path):
    dirs.sort()
    for name in sorted(names):
      full = os.path.join(directory, name)
      relative = os.path.relpath(full, path)
      if relative != MARKER:
        listing[relative] = os.path.getsize(full)
  return listing


def source_listing(path):
  """`[[name, size, mtime_ns]]` of the file `path`, or of every file under the directory
  (relative paths, sorted): a changed source file is new input to the component that reads
  it (raw data sets, an image set's `data_dir`)."""
  if os.path.isfile(path):
    stat = os.stat(path)
    return [[os.path.basename(path), stat.st_size, stat.st_mtime_ns]]
  listing = []
  for directory, dirs, names in os.walk(path):
    dirs.sort()
    for name in sorted(names):
      stat = os.stat(os.path.join(directory, name))
      listing.append([os.path.relpath(os.path.join(directory, name), path), stat.st_size,
                      stat.st_mtime_ns])
  return listing


def _content_signature(path):
  """Sizes and modification times of an artifact's files: changes when any file does."""
  digest = hashlib.sha256()
  for directory, dirs, names in os.walk(path):
    dirs.sort()
    for name in sorted(names):
      full = os.path.join(directory, name)
      stat = os.stat(full)
      digest.update(f"{os.path.relpath(full, path)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
  return digest.hexdigest()


def read_marker(path):
  """The lineage record of a complete artifact, None if `path` is not one."""
  try:
    with open(os.path.join(path, MARKER), encoding="utf-8") as f:
      marker = json.load(f)
  except (OSError, ValueError):
    return None
  return marker


def is_complete(path):
  """True if `path` has its marker and every recorded file with its recorded size."""
  marker = read_marker(path)
  if marker is None:
    return False
  for relative, size in marker.get("files", {}).items():
    full = os.path.join(path, relative)
    if not os.path.isfile(full) or os.path.getsize(full) != size:
      return False
  return True


def require_complete(path, name):
  """Raises `ValueError` unless `path` is a complete artifact (an input of a component)."""
  if not is_complete(path):
    raise ValueError(f"Input {name} at {path!r} is not a complete artifact (no {MARKER}, "
                     "or its files changed size): rerun the component that produces it.")
  return read_marker(path)


def fingerprint(component, parameters, inputs, version):
  """The fingerprint of a component's outputs (module docstring)."""
  described_inputs = {}
  for name, path in sorted(inputs.items()):
    marker = require_complete(path, name)
    described_inputs[name] = {"fingerprint": marker["fingerprint"],
                              "content": _content_signature(path)}
  text = _canonical({"component": component, "parameters": parameters,
                     "inputs": described_inputs, "code_version": version})
  return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclasses.dataclass
class Execution:
  """What `execute` hands to a component's body and reports back.

  Attributes:
    path: the artifact's final directory.
    work_dir: where the body writes (a temporary sibling, or `path` when resumable).
    reused: True when a complete artifact with this fingerprint existed (body not run).
    details: the body may add JSON-serialisable facts recorded in the marker (and shown in
      the run's summary).
  """
  path: str
  work_dir: str
  reused: bool
  fingerprint: str
  details: Dict = dataclasses.field(default_factory=dict)


def _append_event(root, run_id, event):
  if not run_id:
    return
  directory = os.path.join(root, EVENTS_DIR)
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, f"{run_id}.jsonl"), "a", encoding="utf-8") as f:
    f.write(json.dumps(event, sort_keys=True) + "\n")


def read_events(root, run_id):
  """The events components of run `run_id` appended (one dict per component)."""
  path = os.path.join(root, EVENTS_DIR, f"{run_id}.jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def progress(message):
  """One progress line on stdout (kfp.local streams a component's output)."""
  print(f"[tfgen pipeline] {message}", flush=True)


@contextlib.contextmanager
def execute(root, component, parameters, inputs, run_id=None, version=None, resumable=False):
  """Runs a component's body once per fingerprint (module docstring).

  Usage:
    with artifacts.execute(root, "StatisticsGen", params, {"examples": path}) as run:
      if not run.reused:
        ...write files into run.work_dir...
    return run.path

  Args:
    root: the pipeline root.
    component: the component's name (TFX's), also its folder under `ROOT/artifacts`.
    parameters: dict of JSON-serialisable parameters that determine the outputs.
    inputs: `{name: artifact path}`; each must be complete.
    run_id: the run's id, for its summary; None records nothing.
    version: the code version (default `code_version()`).
    resumable: work in the final directory and keep it on failure (module docstring).

  Yields:
    An `Execution`.
  """
  version = version or code_version()
  fp = fingerprint(component, parameters, inputs, version)
  path = os.path.join(root, ARTIFACTS_DIR, component, fp)
  started = time.time()
  if is_complete(path):
    execution = Execution(path, path, True, fp, dict(read_marker(path).get("details", {})))
    progress(f"{component}: reused {path}")
    yield execution
    _append_event(root, run_id, {"component": component, "status": "reused", "path": path,
                                 "seconds": time.time() - started,
                                 "details": execution.details})
    return
  os.makedirs(os.path.dirname(path), exist_ok=True)
  if resumable:
    resumed = os.path.isdir(path)
    os.makedirs(path, exist_ok=True)
    work_dir = path
    progress(f"{component}: {'resuming in' if resumed else 'running into'} {path}")
  else:
    work_dir = os.path.join(os.path.dirname(path), f".tmp-{fp}-{uuid.uuid4().hex[:8]}")
    os.makedirs(work_dir)
    progress(f"{component}: running (fingerprint {fp})")
  execution = Execution(path, work_dir, False, fp)
  try:
    yield execution
    if not resumable:
      if os.path.exists(path):  # an incomplete leftover of an older run of this fingerprint
        shutil.rmtree(path)
      os.rename(work_dir, path)
    marker = {
        "producer": component, "fingerprint": fp, "parameters": parameters,
        "inputs": {name: {"path": os.path.abspath(p), "fingerprint": read_marker(p)["fingerprint"]}
                   for name, p in sorted(inputs.items())},
        "code_version": version, "run_id": run_id, "started": started, "finished": time.time(),
        "details": execution.details, "files": file_listing(path)}
    _write_json_atomic(os.path.join(path, MARKER), marker)
  except BaseException as e:
    if not resumable:
      shutil.rmtree(work_dir, ignore_errors=True)
    _append_event(root, run_id, {"component": component, "status": "failed", "path": path,
                                 "seconds": time.time() - started,
                                 "error": f"{type(e).__name__}: {e}"})
    raise
  progress(f"{component}: done in {time.time() - started:.1f} s -> {path}")
  _append_event(root, run_id, {"component": component, "status": "ran", "path": path,
                               "seconds": time.time() - started, "details": execution.details})


def _write_json_atomic(path, value):
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  temporary = f"{path}.tmp-{uuid.uuid4().hex}"
  with open(temporary, "w", encoding="utf-8") as f:
    json.dump(value, f, indent=2, sort_keys=True, default=str)
    f.write("\n")
  os.replace(temporary, path)


write_json_atomic = _write_json_atomic


def read_json(path, default=None):
  try:
    with open(path, encoding="utf-8") as f:
      return json.load(f)
  except (OSError, ValueError):
    return default


def latest_complete(root, component) -> Optional[str]:
  """The most recently finished complete artifact of `component`, None if there is none."""
  directory = os.path.join(root, ARTIFACTS_DIR, component)
  if not os.path.isdir(directory):
    return None
  done = [os.path.join(directory, n) for n in os.listdir(directory) if not n.startswith(".")]
  done = [p for p in done if is_complete(p)]
  return max(done, key=lambda p: read_marker(p)["finished"]) if done else None
