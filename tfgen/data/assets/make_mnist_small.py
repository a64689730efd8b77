"""Builds `mnist_small.npz`, the small MNIST subset shipped inside tfgen.

    python tfgen/data/assets/make_mnist_small.py \
        --source=/path/to/mnist.npz --output=tfgen/data/assets/mnist_small.npz

Keeps the first 2000 training and the first 500 test digits (with their labels) of a
Keras-layout `mnist.npz`, in the same layout (`x_train` uint8 (2000, 28, 28), `y_train`
uint8 (2000,), `x_test` uint8 (500, 28, 28), `y_test` uint8 (500,)), compressed.
"""

import argparse
import os

import numpy as np

NUM_TRAIN = 2000
NUM_TEST = 500


def make_small(source: str, output: str) -> None:
  """Writes the first digits of `source` to `output`.

  Args:
    source: path of a Keras-layout `mnist.npz`.
    output: path of the `.npz` file to write.
  """
  with np.load(source, allow_pickle=False) as f:
    arrays = {
        "x_train": f["x_train"][:NUM_TRAIN],
        "y_train": f["y_train"][:NUM_TRAIN],
        "x_test": f["x_test"][:NUM_TEST],
        "y_test": f["y_test"][:NUM_TEST],
    }
  for key, value in arrays.items():
    if value.dtype != np.uint8:
      raise ValueError(f"{source}: {key} has dtype {value.dtype}, expected uint8.")
  np.savez_compressed(output, **arrays)
  print(f"wrote {output} ({os.path.getsize(output)} bytes): "
        + ", ".join(f"{k} {v.dtype} {v.shape}" for k, v in arrays.items()))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--source", default="/work/shared/data/mnist.npz",
                      help="Keras-layout mnist.npz to take the digits from.")
  parser.add_argument(
      "--output",
      default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_small.npz"),
      help="Where to write the subset.")
  args = parser.parse_args()
  make_small(args.source, args.output)


if __name__ == "__main__":
  main()
