"""Prepares a real video data set (KTH or BAIR) as tfgen's sharded TFRecords.

  python -m tfgen.bin.prepare --dataset=kth --raw_dir=RAW --out_dir=OUT [--image_size=128]
  python -m tfgen.bin.prepare --dataset=bair --raw_dir=RAW --out_dir=OUT

Rerunning the same command after an interruption finishes the job. Without the expected
files in --raw_dir, the error says how the data set is obtained and laid out.
"""

from absl import app
from absl import flags

from tfgen.data import prepare

_DATASET = flags.DEFINE_enum("dataset", None, list(prepare.DATASETS), "Data set to prepare.")
_RAW_DIR = flags.DEFINE_string("raw_dir", None, "Directory of the original distribution.")
_OUT_DIR = flags.DEFINE_string("out_dir", None, "Output directory (the loader's data_dir).")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 64, "Frame size, 64 or 128 (KTH).")
_NUM_WORKERS = flags.DEFINE_integer(
    "num_workers", None, "Decoding processes; default one per CPU, 0 for none.")
_NUM_SHARDS = flags.DEFINE_integer(
    "num_shards", None, "Shards per split; default 16 (KTH) or 64 (BAIR).")
flags.mark_flags_as_required(["dataset", "raw_dir", "out_dir"])


def main(argv):
  del argv
  try:
    prepare.prepare_dataset(
        _DATASET.value, _RAW_DIR.value, _OUT_DIR.value, image_size=_IMAGE_SIZE.value,
        num_workers=_NUM_WORKERS.value, num_shards=_NUM_SHARDS.value)
  except (FileNotFoundError, ValueError) as e:
    raise SystemExit(f"error: {e}") from None  # the message says what to do; no traceback


if __name__ == "__main__":
  app.run(main)
