"""A human study on disk: stimuli, the protocol (study.json) and each subject's trials.

The protocol follows the thesis (Fig. 4.9; LAPGAN_FACTS.md §6): each trial shows one
stimulus drawn at random from a random source for one of 11 durations evenly spaced in log
time from 50 ms to 2000 ms, then a grey mask, then the subject answers real or generated.
The thesis does not give the durations themselves nor how sources and durations were
balanced; here every block of `len(sources) * len(durations)` trials holds each
(source, duration) cell once in random order, and each source's items are drawn without
replacement (reshuffled when exhausted), from a generator seeded by (study seed, subject
number), so a study is reproducible.

A study directory holds:
  study.json      the protocol (written last: a directory without it is not a study).
  stimuli/        every stimulus as PNG (images) or looping GIF (clips), under opaque
                  names that do not reveal the source to a curious subject.
  examples/       real examples shown on the introduction page.
  mask.png        the grey mask.
  answers.sqlite  the answers (`storage.AnswerStore`).
"""

import datetime
import hashlib
import io
import itertools
import json
import os
import secrets

import numpy as np
from PIL import Image

from tfgen.human_eval import sources as sources_lib

STUDY_FILE = "study.json"
STIMULI_DIR = "stimuli"
EXAMPLES_DIR = "examples"
MASK_FILE = "mask.png"
ANSWERS_FILE = "answers.sqlite"
MASK_GREY = 128
# A trial is flagged (kept, left out of the analysis by default) when a frame gap during
# the presentation exceeds this many frame periods, or its measured duration is off the
# requested one by more than `MAX_DURATION_ERROR_PERIODS` frame periods.
MAX_FRAME_GAP_PERIODS = 1.5
MAX_DURATION_ERROR_PERIODS = 1.0
WARMUP_FRAMES = 15


def log_spaced_durations(min_ms=50.0, max_ms=2000.0, num=11):
  """`num` durations evenly spaced in log time from `min_ms` to `max_ms`, rounded to 1 ms."""
  if not 0 < min_ms < max_ms or num < 2:
    raise ValueError(f"Durations need 0 < min ({min_ms}) < max ({max_ms}) and num ({num}) "
                     ">= 2.")
  durations = [int(round(v)) for v in np.geomspace(min_ms, max_ms, num)]
  if len(set(durations)) != num:
    raise ValueError(f"{num} durations from {min_ms} to {max_ms} ms collide when rounded to "
                     "1 ms; use fewer.")
  return durations


def _check_durations(durations_ms):
  durations = [int(d) for d in durations_ms]
  if not durations or any(d <= 0 for d in durations) or len(set(durations)) != len(durations):
    raise ValueError(f"Durations must be distinct positive milliseconds, got {durations_ms}.")
  return sorted(durations)


def _parse_size(image_size):
  if image_size is None or isinstance(image_size, (tuple, list)):
    return image_size
  text = str(image_size).lower()
  height, _, width = text.partition("x")
  try:
    return (int(height), int(width or height))
  except ValueError:
    raise ValueError(f"--image_size {image_size!r}: expected N or HxW.") from None


def _resize(item, size):
  """uint8 `(H, W, 3)` or `(T, H, W, 3)` -> `size` (height, width), Lanczos."""
  if tuple(item.shape[-3:-1]) == tuple(size):
    return item
  frames = item if item.ndim == 4 else item[None]
  resized = np.stack([np.asarray(Image.fromarray(f).resize((size[1], size[0]),
                                                           Image.Resampling.LANCZOS))
                      for f in frames])
  return resized if item.ndim == 4 else resized[0]


def _encode(item, clip_frame_ms):
  buffer = io.BytesIO()
  if item.ndim == 3:
    Image.fromarray(item).save(buffer, format="PNG")
  else:
    frames = [Image.fromarray(f) for f in item]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=clip_frame_ms, loop=0)
  return buffer.getvalue()


def _write(path, data):
  with open(path, "wb") as f:
    f.write(data)


def prepare_study(study_dir, source_specs, durations_ms=None, trials_per_subject=None,
                  seed=0, items_per_source=None, image_size=None, display_px=256,
                  clip_frame_ms=100, num_examples=6, example_source="real"):
  """Loads the sources, writes the stimuli and study.json into `study_dir`; returns the study.

  Args:
    study_dir: a new or empty folder (an existing study is never overwritten).
    source_specs: `NAME=PATH` / `NAME=LOADER:PATH` strings (`sources.parse_source_spec`).
    durations_ms: presentation times (default: 11 log-spaced from 50 to 2000 ms).
    trials_per_subject: default 4 full blocks of (source, duration) cells.
    seed: seed of every subject's schedule.
    items_per_source: keep the first N items of each source (default: all, which must be
      the same number for every source).
    image_size: stored stimulus size, N or HxW (default: the `real` source's, else the first
      source's); every item is resized to it, with a note when sizes differ.
    display_px: the stimulus's width on the page in CSS pixels.
    clip_frame_ms: frame time of clips (looping GIFs).
    num_examples: real examples on the introduction page (from `example_source`, if any).
  """
  from tfgen.utils import files  # pylint: disable=g-import-not-at-top  (TensorFlow: slow)
  if os.path.exists(os.path.join(study_dir, STUDY_FILE)):
    raise ValueError(f"{study_dir} already holds a study; serve it without --source or "
                     "choose a new --study directory.")
  if os.path.isdir(study_dir) and os.listdir(study_dir):
    raise ValueError(f"{study_dir} is not empty and holds no study.json; choose a new or "
                     "empty --study directory.")
  if not source_specs:
    raise ValueError("A study needs at least one --source NAME=PATH (two or more to compare).")
  durations = _check_durations(durations_ms or log_spaced_durations())
  specs = [sources_lib.parse_source_spec(s) for s in source_specs]
  names = [name for name, _, _ in specs]
  if len(set(names)) != len(names):
    raise ValueError(f"Source names must be distinct, got {names}.")
  loaded = {}
  described = []
  for name, loader, path in specs:
    loader_name, stimuli = sources_lib.load_source(path, loader)
    loaded[name] = stimuli
    sizes = sorted({tuple(int(v) for v in item.shape[-3:-1]) for item in stimuli.items})
    described.append({"name": name, "loader": loader_name, "path": os.path.abspath(path),
                      "kind": stimuli.kind, "num_items_found": len(stimuli.items),
                      "sizes": [list(s) for s in sizes]})
  kinds = {s.kind for s in loaded.values()}
  if len(kinds) > 1:
    raise ValueError("Sources mix images and clips: " + ", ".join(
        f"{n} ({s.kind})" for n, s in loaded.items()) + "; compare like with like.")
  counts = {n: len(s.items) for n, s in loaded.items()}
  if items_per_source is None:
    if len(set(counts.values())) > 1:
      raise ValueError(f"Sources hold different numbers of items {counts}; pass "
                       f"--items_per_source=N (N <= {min(counts.values())}) to use the first "
                       "N of each.")
    items_per_source = min(counts.values())
  if not 0 < items_per_source <= min(counts.values()):
    raise ValueError(f"--items_per_source={items_per_source}: must be in 1.."
                     f"{min(counts.values())} (items per source: {counts}).")
  size = _parse_size(image_size) or loaded.get(example_source, loaded[names[0]]).size
  notes = []
  all_sizes = {tuple(s) for d in described for s in d["sizes"]}
  if all_sizes != {tuple(size)}:
    notes.append("Stimulus sizes differ (" + "; ".join(
        f"{d['name']}: " + ", ".join(f"{h}x{w}" for h, w in d["sizes"]) for d in described)
                 + f"); every stimulus was resized to {size[0]}x{size[1]} (Lanczos).")
  study_id = secrets.token_hex(6)
  os.makedirs(os.path.join(study_dir, STIMULI_DIR), exist_ok=True)
  os.makedirs(os.path.join(study_dir, EXAMPLES_DIR), exist_ok=True)
  extension = ".png" if kinds == {"image"} else ".gif"
  stimuli = {}
  for d in described:
    d["num_items"] = items_per_source
    for index, item in enumerate(loaded[d["name"]].items[:items_per_source]):
      digest = hashlib.sha256(f"{study_id}/{d['name']}/{index}".encode()).hexdigest()[:16]
      file = digest + extension
      _write(os.path.join(study_dir, STIMULI_DIR, file),
             _encode(_resize(item, size), clip_frame_ms))
      stimuli[file] = {"source": d["name"], "index": index}
  examples = []
  if example_source in loaded:
    for index, item in enumerate(loaded[example_source].items[:num_examples]):
      file = f"example_{index}{extension}"
      _write(os.path.join(study_dir, EXAMPLES_DIR, file),
             _encode(_resize(item, size), clip_frame_ms))
      examples.append(file)
  else:
    notes.append(f"No source named {example_source!r}: the introduction shows no examples.")
  _write(os.path.join(study_dir, MASK_FILE),
         _encode(np.full((size[0], size[1], 3), MASK_GREY, np.uint8), clip_frame_ms))
  block = len(names) * len(durations)
  study = {
      "version": 1,
      "study_id": study_id,
      "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "kind": kinds.pop(),
      "sources": described,
      "durations_ms": durations,
      "trials_per_subject": int(trials_per_subject or 4 * block),
      "block_size": block,
      "seed": int(seed),
      "image_size": list(size),
      "display_px": int(display_px),
      "clip_frame_ms": int(clip_frame_ms),
      "examples": examples,
      "mask": MASK_FILE,
      "mask_grey": MASK_GREY,
      "warmup_frames": WARMUP_FRAMES,
      "timing_rules": {"max_frame_gap_periods": MAX_FRAME_GAP_PERIODS,
                       "max_duration_error_periods": MAX_DURATION_ERROR_PERIODS},
      "notes": notes,
      "stimuli": stimuli,
  }
  if study["trials_per_subject"] < 1:
    raise ValueError(f"--trials_per_subject must be >= 1, got {trials_per_subject}.")
  files.atomic_write_json(os.path.join(study_dir, STUDY_FILE), study)
  return study


def load_study(study_dir):
  path = os.path.join(study_dir, STUDY_FILE)
  if not os.path.exists(path):
    raise FileNotFoundError(f"No study at {study_dir} (no {STUDY_FILE}); create one with "
                            "`python -m tfgen.bin.human_eval serve --study=DIR --source ...`.")
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def schedule(study, subject_number):
  """The trials of the `subject_number`-th subject: a list of (source, stimulus, duration_ms).

  Blocks of every (source, duration) cell in random order; each source's stimuli drawn
  without replacement, reshuffled when exhausted. Deterministic in (seed, subject_number).
  """
  rng = np.random.default_rng([int(study["seed"]), int(subject_number)])
  names = [s["name"] for s in study["sources"]]
  by_source = {n: sorted((f for f, v in study["stimuli"].items() if v["source"] == n),
                         key=lambda f: study["stimuli"][f]["index"]) for n in names}
  pools = {n: [] for n in names}
  cells = list(itertools.product(names, study["durations_ms"]))
  trials = []
  while len(trials) < study["trials_per_subject"]:
    for i in rng.permutation(len(cells)):
      name, duration = cells[i]
      if not pools[name]:
        pools[name] = [by_source[name][j] for j in rng.permutation(len(by_source[name]))]
      trials.append((name, pools[name].pop(), int(duration)))
  return trials[:study["trials_per_subject"]]
