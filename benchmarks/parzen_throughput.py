r"""Parzen-window throughput: 10,000 images against 10,000 samples, 784-d and 3072-d.

    python benchmarks/parzen_throughput.py [--num_images=10000] [--num_samples=10000] \
        [--dimensions=784,3072] [--batch_sizes=100,1000] [--chunk_size=10000] \
        [--check_images=1000]

Times `tfgen.evaluation.parzen.log_likelihoods` (one sigma, the test pass of
parzen_ll.py), end to end: centring, norms, the block products, the log-sum-exps and
the running log-sum-exp over chunks. The data are uniform in [0, 1] (float32; MNIST's
784 = 28x28x1 and CIFAR's 3072 = 32x32x3 values per image), sigma 0.2; throughput does
not depend on the values.

Work: the squared distances come from one (images x D) by (D x samples) product per
block, 2 x images x samples x D FLOP; that nominal count over the measured time, against
the machine's float32 matmul peak (`tfgen.utils.machine`), is the yardstick (the rest,
O(images x samples), is ~10% of the time at 784-d).

Precision: the default float32 path (product and block log-sum-exp in float32, norms in
float64, data centred on the samples' mean) is compared with the float64 path on the
first `check_images` images: `max_abs_diff_nats` and `mean_abs_diff_nats` per image.

Prints the machine and its measured peaks first, then one line per (dimension, batch
size), and as the LAST line `fraction_of_float32_peak=<float>`: the best fraction reached
at the largest dimension. The machine may be shared: the peak and the Parzen runs are
measured back to back, best of `--repeats`.
"""

import os
import sys
import time

from absl import app
from absl import flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

flags.DEFINE_integer("num_images", 10_000, "Images evaluated.")
flags.DEFINE_integer("num_samples", 10_000, "Model samples (mixture centres).")
flags.DEFINE_list("dimensions", ["784", "3072"], "Values per image.")
flags.DEFINE_list("batch_sizes", ["100", "1000"],
                  "Images per block (100: parzen_ll.py's -b; 1000: the library default).")
flags.DEFINE_integer("chunk_size", 10_000, "Samples per block.")
flags.DEFINE_integer("check_images", 1000, "Images of the float32 vs float64 comparison.")
flags.DEFINE_integer("repeats", 2, "Timed runs per setting (best kept).")
flags.DEFINE_float("sigma", 0.2, "Bandwidth.")
flags.DEFINE_integer("peak_size", 2048, "Matrix size of the peak-FLOP/s measurement.")
FLAGS = flags.FLAGS


def run(num_images, num_samples, dimensions, batch_sizes, chunk_size, check_images,
        repeats=2, sigma=0.2, peak_size=2048, out=print):
  """Runs the benchmark; returns `{(dimension, batch_size): fraction_of_float32_peak}`."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tfgen.evaluation import parzen  # pylint: disable=g-import-not-at-top
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top

  peaks = machine.print_header(out=out, size=peak_size)
  rng = np.random.default_rng(0)
  fractions = {}
  for dimension in dimensions:
    samples = rng.random((num_samples, dimension), dtype=np.float32)
    images = rng.random((num_images, dimension), dtype=np.float32)
    flop = 2.0 * num_images * num_samples * dimension
    for batch_size in batch_sizes:
      kwargs = dict(batch_size=batch_size, chunk_size=chunk_size)
      # Warm-up: traces the block function for this block shape.
      parzen.log_likelihoods(images[:batch_size], samples, sigma, **kwargs)
      best = float("inf")
      for _ in range(repeats):
        start = time.perf_counter()
        values = parzen.log_likelihoods(images, samples, sigma, **kwargs)
        best = min(best, time.perf_counter() - start)
      fraction = machine.fraction_of_peak(flop / best, peaks)
      fractions[(dimension, batch_size)] = fraction
      out(f"dimension={dimension} images={num_images} samples={num_samples} "
          f"batch_size={batch_size} chunk_size={chunk_size} seconds={best:.3f} "
          f"images_per_second={num_images / best:.1f} gflop_per_second={flop / best / 1e9:.1f} "
          f"fraction_of_float32_peak={fraction:.3f}")
    check = min(check_images, num_images)
    if check:
      exact = parzen.log_likelihoods(images[:check], samples, sigma, precision="float64",
                                     batch_size=max(batch_sizes), chunk_size=chunk_size)
      difference = np.abs(values[:check] - exact)
      out(f"dimension={dimension} float32_vs_float64: images={check} "
          f"max_abs_diff_nats={difference.max():.3g} mean_abs_diff_nats={difference.mean():.3g} "
          f"mean_log_likelihood={exact.mean():.2f}")
  best_at_largest = max(f for (d, _), f in fractions.items() if d == max(dimensions))
  out(f"fraction_of_float32_peak={best_at_largest:.3f}")
  return fractions


def main(argv):
  del argv
  run(FLAGS.num_images, FLAGS.num_samples, [int(d) for d in FLAGS.dimensions],
      [int(b) for b in FLAGS.batch_sizes], FLAGS.chunk_size, FLAGS.check_images,
      repeats=FLAGS.repeats, sigma=FLAGS.sigma, peak_size=FLAGS.peak_size)


if __name__ == "__main__":
  app.run(main)
