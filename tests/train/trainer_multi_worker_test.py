"""The trainer under MultiWorkerMirroredStrategy: two local worker processes on loopback.

Each worker is a separate Python process with its own `TF_CONFIG` (127.0.0.1 ports), as on
a cluster. Checked: the chief's weights equal a one-worker run on the same global batch
(test_case.float_tolerance), only the chief writes checkpoints, summaries and pictures,
and killing both workers after a checkpoint and restarting them resumes from it (every
worker from the chief's checkpoint) to the weights of an uninterrupted two-worker run.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests import test_case
from tests.train import trainer_test
from tfgen.train import trainer as trainer_lib

# Runs one worker: TF_CONFIG comes from the environment (set before TensorFlow starts).
_WORKER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import tensorflow as tf
from tests.train import trainer_test
from tfgen.train import trainer as trainer_lib
from tfgen.utils import config_loader
config = config_loader.from_json(open(sys.argv[2]).read())
strategy = tf.distribute.MultiWorkerMirroredStrategy()
assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
trainer = trainer_lib.Trainer(config, sys.argv[3], strategy)
trainer.train()
print("WORKER_DONE", json.dumps({"is_chief": trainer.is_chief, "workdir": trainer.workdir}))
"""


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _config(steps):
  config = trainer_test.tiny_config(steps=steps, batch_size=4)
  # SGD: a mis-scaled replica gradient would change the weights (Adam normalises it).
  config.train.optimizer = "sgd"
  config.train.learning_rate = 0.5
  config.train.image_every = steps  # pictures at the end
  return config


class MultiWorkerTest(test_case.TestCase):

  def _start_workers(self, config, workdir):
    config_path = os.path.join(self.make_temp_dir(), "config.json")
    with open(config_path, "w") as f:
      f.write(trainer_lib.config_loader.to_json(config))
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    processes = []
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for index in range(2):
      env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="",
                 TF_CONFIG=json.dumps({"cluster": cluster,
                                       "task": {"type": "worker", "index": index}}))
      processes.append(subprocess.Popen(
          [sys.executable, "-c", _WORKER, root, config_path, workdir], env=env,
          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True))
    return processes

  def _finish(self, processes, timeout=600):
    reports = []
    for process in processes:
      output, _ = process.communicate(timeout=timeout)
      self.assertEqual(process.returncode, 0, output[-3000:])
      line = [l for l in output.splitlines() if l.startswith("WORKER_DONE ")][-1]
      reports.append(json.loads(line[len("WORKER_DONE "):]))
    return reports

  @pytest.mark.slow  # ~1-2 min: two extra TensorFlow processes
  def test_two_workers_equal_one_and_only_the_chief_writes(self):
    config = _config(steps=2)
    single = self.make_temp_dir()
    trainer_lib.train(config, single)
    workdir = self.make_temp_dir()
    chief, other = self._finish(self._start_workers(config, workdir))
    self.assertEqual((chief["is_chief"], other["is_chief"]), (True, False))
    self.assertEqual(chief["workdir"], workdir)
    self.assertNotEqual(other["workdir"], workdir)
    # Only the chief's directory has checkpoints, summaries, pictures: the other worker
    # wrote its checkpoints to a throw-away directory and nothing else.
    self.assertTrue(tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")))
    self.assertTrue(trainer_test.event_tags(workdir))
    self.assertTrue(os.listdir(os.path.join(workdir, "samples")))
    self.assertFalse(trainer_test.event_tags(other["workdir"]))
    self.assertFalse(os.path.exists(os.path.join(other["workdir"], "samples")))
    self.assertFalse(os.path.exists(os.path.join(other["workdir"], trainer_lib.SUMMARY_FILE)))
    a, _ = trainer_test.restore_weights(config, single)
    b, _ = trainer_test.restore_weights(config, workdir)
    initial = trainer_lib.Trainer(config, self.make_temp_dir())._build()[0].get_weights()  # pylint: disable=protected-access
    step = max(float(np.max(np.abs(x - x0))) for x, x0 in zip(a, initial))
    n = 4 * 4 * 32 * 32  # the longest reduction (test_distributed_loss_equals_single_device)
    for x, y in zip(a, b):
      self.assertCloseForAccumulation(y, x, n, scale=step)
    self.assertFalse(all(np.allclose(x, x0) for x, x0 in zip(a, initial)))

  @pytest.mark.slow
  def test_killed_workers_resume(self):
    steps = 6
    config = _config(steps)
    config.train.checkpoint_every = 2
    uninterrupted = self.make_temp_dir()
    self._finish(self._start_workers(config, uninterrupted))
    workdir = self.make_temp_dir()
    processes = self._start_workers(config, workdir)
    deadline, latest = time.time() + 600, None
    try:
      while time.time() < deadline and all(p.poll() is None for p in processes):
        latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
        if latest:
          break
        time.sleep(0.2)
    finally:
      for process in processes:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    self.assertIsNotNone(latest, "no checkpoint before the workers ended")
    killed_at = int(latest.rsplit("-", 1)[1])
    self.assertLess(killed_at, steps, "the run ended before it could be killed")
    restarted = time.time()
    self._finish(self._start_workers(config, workdir))
    self.assertTrue(tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
                    .endswith(f"ckpt-{steps}"))
    # Resumed, not restarted: the checkpoint it was killed after was not written again.
    self.assertLess(os.path.getmtime(latest + ".index"), restarted)
    a, _ = trainer_test.restore_weights(config, uninterrupted)
    b, _ = trainer_test.restore_weights(config, workdir)
    n = 4 * 4 * 32 * 32
    scale = max(float(np.max(np.abs(x))) for x in a)
    for x, y in zip(a, b):
      self.assertCloseForAccumulation(y, x, n * steps, scale=scale)

if __name__ == "__main__":
  tf.test.main()
