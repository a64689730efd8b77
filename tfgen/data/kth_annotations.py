"""Parser of KTH's `00sequences.txt`, the frame ranges of each video's sub-sequences.

The file as distributed (Schuldt, Laptev & Caputo 2004) has one row per video:

    person01_boxing_d1\t\tframes\t1-95, 96-185, 186-245, 246-360

with irregular tabs and spaces (some names are followed by spaces), CRLF line ends, blank
lines between persons, one row `person13_handclapping_d3\t*missing*` for the video that
is not distributed, five rows with three ranges instead of four, and rows whose ranges are
out of order (person07_jogging_d4: `1-64, 270-332, 194-264, 490-570`) or overlap by a
frame or more (person03_walking_d4: `232-338, 338-432`). Frame numbers are 1-based and
inclusive. This module keeps no TensorFlow import: the preparation workers use it.
"""

import dataclasses
import re
from typing import Dict, List, Tuple

ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")

_NAME = re.compile(r"^person(\d+)_([a-z]+)_d(\d+)$")
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


@dataclasses.dataclass(frozen=True)
class VideoAnnotation:
  """The sub-sequences of one KTH video.

  Attributes:
    name: str, video name without suffix, e.g. "person01_boxing_d1".
    person: int, 1..25.
    action: str, one of `ACTIONS`.
    scenario: int, 1..4 (the `dK` of the name).
    ranges: tuple of `(first, last)` 1-based inclusive frame numbers, sorted by first
      frame; the sub-sequence index used everywhere in tfgen is the position in this tuple.
  """
  name: str
  person: int
  action: str
  scenario: int
  ranges: Tuple[Tuple[int, int], ...]


def parse_video_name(name: str) -> Tuple[int, str, int]:
  """Splits "person01_boxing_d1" (optionally with "_uncomp.avi") into (1, "boxing", 1).

  Raises:
    ValueError: the name does not follow KTH's naming or the action is unknown.
  """
  stem = name.strip()
  for suffix in (".avi", "_uncomp"):
    if stem.endswith(suffix):
      stem = stem[:-len(suffix)]
  match = _NAME.match(stem)
  if not match or match.group(2) not in ACTIONS:
    raise ValueError(
        f"{name!r} is not a KTH video name (personNN_ACTION_dK with ACTION one of "
        f"{', '.join(ACTIONS)}).")
  return int(match.group(1)), match.group(2), int(match.group(3))


def parse_sequences(text: str) -> Tuple[Dict[str, VideoAnnotation], List[str]]:
  """Parses the contents of `00sequences.txt`.

  Args:
    text: str, the whole file.

  Returns:
    `(videos, missing)`: `videos` maps a video name to its `VideoAnnotation`, in file
    order; `missing` lists the names of rows marked `*missing*`.

  Raises:
    ValueError: a row cannot be read (its line number and text are given), a range has its
      first frame after its last, or a video is listed twice.
  """
  videos: Dict[str, VideoAnnotation] = {}
  missing: List[str] = []
  for line_number, raw_line in enumerate(text.splitlines(), start=1):
    line = raw_line.strip()
    if not line:
      continue
    fields = line.split(None, 1)
    name = fields[0]
    rest = fields[1].strip() if len(fields) > 1 else ""
    try:
      person, action, scenario = parse_video_name(name)
    except ValueError as e:
      raise ValueError(f"00sequences.txt line {line_number}: {e} Line: {raw_line!r}") from None
    if name in videos or name in missing:
      raise ValueError(f"00sequences.txt line {line_number}: {name} is listed twice.")
    if rest.lower().strip("* ") == "missing":
      missing.append(name)
      continue
    if not rest.lower().startswith("frames"):
      raise ValueError(
          f"00sequences.txt line {line_number}: expected 'frames' after the name. "
          f"Line: {raw_line!r}")
    ranges = []
    for part in rest[len("frames"):].split(","):
      part = part.strip()
      if not part:  # tolerate a trailing comma
        continue
      match = _RANGE.match(part)
      if not match:
        raise ValueError(
            f"00sequences.txt line {line_number}: bad frame range {part!r}. "
            f"Line: {raw_line!r}")
      first, last = int(match.group(1)), int(match.group(2))
      if first < 1 or first > last:
        raise ValueError(
            f"00sequences.txt line {line_number}: empty frame range {part!r}.")
      ranges.append((first, last))
    if not ranges:
      raise ValueError(f"00sequences.txt line {line_number}: no frame ranges for {name}.")
    videos[name] = VideoAnnotation(
        name=name, person=person, action=action, scenario=scenario,
        ranges=tuple(sorted(ranges)))
  return videos, missing


def read_sequences_file(path: str) -> Tuple[Dict[str, VideoAnnotation], List[str]]:
  """Reads and parses `00sequences.txt` at `path` (see `parse_sequences`)."""
  with open(path, "r", encoding="utf-8", errors="replace") as f:
    return parse_sequences(f.read())
