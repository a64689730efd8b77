r"""Prints the lineage of what a pipeline pushed: `python -m pipelines.lineage --pipeline_root=R`.

For each pushed version (or `--version`), the chain from the served directory back to the
data: Pusher <- Evaluator / InfraValidator <- Trainer <- ExampleValidator <- SchemaGen <-
StatisticsGen <- ExampleGen, each artifact with its producer, fingerprint, code version,
parameters and run. `--json` prints the same as one JSON document.
"""

import json
import os
import sys

from absl import app
from absl import flags

from pipelines import artifacts
from pipelines import components

flags.DEFINE_string("pipeline_root", None, "The pipeline root.")
flags.DEFINE_string("serving_dir", None, "Pusher's directory (default PIPELINE_ROOT/serving).")
flags.DEFINE_integer("version", None, "Only this pushed version (default: every one).")
flags.DEFINE_bool("json", False, "Print JSON instead of text.")
FLAGS = flags.FLAGS


def chain(path, seen=None):
  """The lineage tree of the artifact at `path`: its marker and its inputs' trees."""
  seen = set() if seen is None else seen
  marker = artifacts.read_marker(path)
  if marker is None:
    return {"path": path, "missing": True}
  node = {"path": path, "producer": marker["producer"], "fingerprint": marker["fingerprint"],
          "code_version": marker["code_version"], "run_id": marker.get("run_id"),
          "parameters": marker["parameters"], "inputs": {}}
  if path in seen:
    return dict(node, inputs="(shown above)")
  seen.add(path)
  for name, described in marker["inputs"].items():
    node["inputs"][name] = chain(described["path"], seen)
  return node


def pushed_lineage(serving_dir, version=None):
  """`[{"version", "path", "push": lineage record, "chain": tree}]` of every pushed version."""
  found = []
  if not os.path.isdir(serving_dir):
    return found
  for model_name in sorted(os.listdir(serving_dir)):
    for number, path, record in components.pushed_versions(serving_dir, model_name):
      if version is not None and number != version:
        continue
      entry = {"model_name": model_name, "version": number, "path": path, "push": record}
      if record.get("pusher"):
        entry["chain"] = chain(record["pusher"])
      found.append(entry)
  return found


def format_chain(node, indent=2, label=""):
  pad = " " * indent
  if node.get("missing"):
    return [f"{pad}{label}{node['path']} (gone)"]
  params = node["parameters"]
  brief = ", ".join(f"{k}={v}" for k, v in params.items() if not isinstance(v, (dict, list)))
  lines = [f"{pad}{label}{node['producer']} {node['fingerprint']} (code {node['code_version']}, "
           f"run {node['run_id']}){': ' + brief if brief else ''}", f"{pad}  {node['path']}"]
  if isinstance(node["inputs"], str):
    lines[-1] += f"  {node['inputs']}"
    return lines
  for name, child in node["inputs"].items():
    lines.extend(format_chain(child, indent + 4, f"{name} <- "))
  return lines


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not FLAGS.pipeline_root or not os.path.isdir(FLAGS.pipeline_root):
    sys.stderr.write(f"Error: --pipeline_root={FLAGS.pipeline_root} is not a directory.\n")
    sys.exit(1)
  serving_dir = FLAGS.serving_dir or os.path.join(FLAGS.pipeline_root, "serving")
  found = pushed_lineage(serving_dir, FLAGS.version)
  if FLAGS.json:
    print(json.dumps(found, indent=2, sort_keys=True, default=str))
    return
  if not found:
    print(f"Nothing pushed under {serving_dir}.")
    return
  for entry in found:
    metrics = entry["push"].get("evaluation", {}).get("metrics", {})
    print(f"{entry['model_name']} version {entry['version']}: {entry['path']}")
    print("  metrics: " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items())))
    if "chain" in entry:
      print("\n".join(format_chain(entry["chain"])))


if __name__ == "__main__":
  app.run(main)
