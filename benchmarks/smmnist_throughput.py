"""Throughput of the SM-MNIST training pipeline (`tfgen.data.smmnist`).

    python benchmarks/smmnist_throughput.py [--data_dir=/path/to/mnist_dir] \
        [--batch_size=16 --num_frames=15 --num_digits=2 --num_batches=200 --repeats=5]

Builds the training split through the registry (the shipped MNIST subset unless
`--data_dir` is given; the generator's cost does not depend on how many digits there
are), warms it up, then times `--num_batches` batches `--repeats` times. Prints every
repeat and, as the last line, `sequences_per_second=<median>`. Takes ~10 s on 2 CPUs.
"""

import statistics
import time

from absl import app
from absl import flags
from absl import logging

from tfgen.data import mnist
from tfgen.data import registry

_DATA_DIR = flags.DEFINE_string(
    "data_dir", None, "Keras-layout mnist.npz or its directory; default: the subset "
    "shipped with tfgen.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Sequences per batch.")
_NUM_FRAMES = flags.DEFINE_integer("num_frames", 15, "Frames per sequence.")
_NUM_DIGITS = flags.DEFINE_integer("num_digits", 2, "Digits per sequence.")
_NUM_BATCHES = flags.DEFINE_integer("num_batches", 200, "Batches timed per repeat.")
_WARMUP_BATCHES = flags.DEFINE_integer("warmup_batches", 20, "Batches before timing.")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repeats; the median is reported.")


def main(argv):
  del argv
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  machine.print_header()
  data_dir = _DATA_DIR.value or mnist.SHIPPED_PATH
  dataset = registry.build(
      "smmnist", "train", batch_size=_BATCH_SIZE.value, num_frames=_NUM_FRAMES.value,
      seed=0, data_dir=data_dir, num_digits=_NUM_DIGITS.value)
  iterator = iter(dataset)
  for _ in range(_WARMUP_BATCHES.value):
    next(iterator)
  rates = []
  for repeat in range(_REPEATS.value):
    start = time.perf_counter()
    for _ in range(_NUM_BATCHES.value):
      next(iterator)
    elapsed = time.perf_counter() - start
    rates.append(_NUM_BATCHES.value * _BATCH_SIZE.value / elapsed)
    print(f"repeat {repeat}: {rates[-1]:.1f} sequences/s "
          f"({_NUM_BATCHES.value} batches of {_BATCH_SIZE.value} in {elapsed:.3f} s)")
  logging.info("data: %s", data_dir)
  print(f"sequences_per_second={statistics.median(rates):.1f}")


if __name__ == "__main__":
  app.run(main)
