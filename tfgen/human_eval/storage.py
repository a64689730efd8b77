"""Answers of a human study in SQLite (WAL): never lost, never counted twice.

Each subject gets a random id (no personal data) and, on creation, their whole trial
schedule (`study.schedule`). The server hands out the next unanswered trial; an answer is
committed before its response returns, so the page only asks for the next trial once the
previous answer is on disk, and a reloaded page continues at the first unanswered trial.
`(subject_id, trial_index)` is unique: a double click or a replayed request stores nothing
new. Every call opens its own connection and writes in `BEGIN IMMEDIATE` transactions, so
threads of a server (and several processes) can share one file.
"""

import contextlib
import datetime
import math
import os
import secrets
import sqlite3

from tfgen.human_eval import study as study_lib

ANSWERS = ("real", "generated")
# Numeric timing fields the page reports (milliseconds); None when unavailable.
TIMING_FIELDS = ("raf_ms", "paint_ms", "paint_onset_ms", "max_frame_gap_ms",
                 "frame_period_ms", "reaction_ms")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (
  subject_id TEXT PRIMARY KEY,
  subject_number INTEGER NOT NULL UNIQUE,
  created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  subject_id TEXT NOT NULL REFERENCES subjects(subject_id),
  trial_index INTEGER NOT NULL,
  source TEXT NOT NULL,
  stimulus TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  times_served INTEGER NOT NULL DEFAULT 0,
  first_served TEXT,
  PRIMARY KEY (subject_id, trial_index));
CREATE TABLE IF NOT EXISTS answers (
  subject_id TEXT NOT NULL,
  trial_index INTEGER NOT NULL,
  source TEXT NOT NULL,
  stimulus TEXT NOT NULL,
  requested_ms INTEGER NOT NULL,
  measured_ms REAL,
  timing_source TEXT,
  raf_ms REAL,
  paint_ms REAL,
  paint_onset_ms REAL,
  max_frame_gap_ms REAL,
  frame_period_ms REAL,
  visibility TEXT,
  answer TEXT NOT NULL CHECK (answer IN ('real', 'generated')),
  reaction_ms REAL,
  times_served INTEGER NOT NULL,
  flags TEXT NOT NULL,
  flagged INTEGER NOT NULL,
  received TEXT NOT NULL,
  UNIQUE (subject_id, trial_index));
"""


class UnknownSubject(LookupError):
  """No subject with this id in this study."""


class BadAnswer(ValueError):
  """An answer the study cannot accept (tampered, not shown, bad value); nothing stored."""


def _now():
  return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def timing_flags(requested_ms, measured_ms, max_frame_gap_ms, frame_period_ms, visibility,
                 times_served=1):
  """Why a trial's timing cannot be trusted (empty: it can).

  no_timing: the page measured nothing; frame_gap: a frame took more than 1.5 frame periods
  during the presentation; duration_off: the measured on-screen time is off the requested
  one by more than one frame period; hidden: the tab was not visible; reshown: the trial was
  served more than once (the page was reloaded during it).
  """
  flags = []
  if measured_ms is None or not frame_period_ms:
    flags.append("no_timing")
  else:
    if (max_frame_gap_ms or 0.0) > study_lib.MAX_FRAME_GAP_PERIODS * frame_period_ms:
      flags.append("frame_gap")
    if abs(measured_ms - requested_ms) > study_lib.MAX_DURATION_ERROR_PERIODS * frame_period_ms:
      flags.append("duration_off")
  if visibility != "visible":
    flags.append("hidden")
  if times_served > 1:
    flags.append("reshown")
  return flags


class AnswerStore:
  """The SQLite file of one study (`study_dir/answers.sqlite`)."""

  def __init__(self, path, study):
    self.path = path
    self.study = study
    with self._connect() as connection:
      connection.execute("PRAGMA journal_mode=WAL")
      connection.executescript(_SCHEMA)

  @contextlib.contextmanager
  def _connect(self):
    connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
      connection.execute("PRAGMA synchronous=FULL")
      yield connection
    finally:
      connection.close()

  @contextlib.contextmanager
  def _transaction(self):
    with self._connect() as connection:
      connection.execute("BEGIN IMMEDIATE")
      try:
        yield connection
        connection.execute("COMMIT")
      except BaseException:
        connection.execute("ROLLBACK")
        raise

  def create_subject(self):
    """A new subject with a random id and their schedule; returns the id."""
    subject_id = secrets.token_hex(8)
    with self._transaction() as db:
      number = db.execute("SELECT COALESCE(MAX(subject_number), -1) + 1 FROM subjects"
                          ).fetchone()[0]
      db.execute("INSERT INTO subjects VALUES (?, ?, ?)", (subject_id, number, _now()))
      db.executemany(
          "INSERT INTO trials (subject_id, trial_index, source, stimulus, duration_ms) "
          "VALUES (?, ?, ?, ?, ?)",
          [(subject_id, i, source, stimulus, duration) for i, (source, stimulus, duration)
           in enumerate(study_lib.schedule(self.study, number))])
    return subject_id

  def _check_subject(self, db, subject_id):
    if not isinstance(subject_id, str) or db.execute(
        "SELECT 1 FROM subjects WHERE subject_id = ?", (subject_id,)).fetchone() is None:
      raise UnknownSubject(f"Unknown subject {subject_id!r}.")

  def progress(self, subject_id):
    """(answered, total) trials of a subject."""
    with self._connect() as db:
      self._check_subject(db, subject_id)
      answered = db.execute("SELECT COUNT(*) FROM answers WHERE subject_id = ?",
                            (subject_id,)).fetchone()[0]
    return answered, self.study["trials_per_subject"]

  def next_trial(self, subject_id):
    """Marks the first unanswered trial served and returns it (None when all are answered)."""
    with self._transaction() as db:
      self._check_subject(db, subject_id)
      row = db.execute(
          "SELECT * FROM trials WHERE subject_id = ? AND trial_index NOT IN "
          "(SELECT trial_index FROM answers WHERE subject_id = ?) ORDER BY trial_index LIMIT 1",
          (subject_id, subject_id)).fetchone()
      if row is None:
        return None
      db.execute("UPDATE trials SET times_served = times_served + 1, first_served = "
                 "COALESCE(first_served, ?) WHERE subject_id = ? AND trial_index = ?",
                 (_now(), subject_id, row["trial_index"]))
    return {"trial_index": row["trial_index"], "stimulus": row["stimulus"],
            "duration_ms": row["duration_ms"]}

  def record_answer(self, subject_id, trial_index, answer, requested_ms, timing):
    """Stores one answer; returns True if stored, False if this trial was already answered.

    Raises `UnknownSubject`, or `BadAnswer` (nothing stored) for a trial that does not exist
    or was never shown, a duration that is not the trial's, a bad answer or timing value.
    """
    if answer not in ANSWERS:
      raise BadAnswer(f"answer must be one of {list(ANSWERS)}, got {answer!r}.")
    if not isinstance(trial_index, int) or isinstance(trial_index, bool):
      raise BadAnswer(f"trial_index must be an integer, got {trial_index!r}.")
    if not isinstance(requested_ms, (int, float)) or isinstance(requested_ms, bool):
      raise BadAnswer(f"duration_ms must be a number, got {requested_ms!r}.")
    if requested_ms not in self.study["durations_ms"]:
      raise BadAnswer(f"duration_ms {requested_ms!r} is not one of the study's durations "
                      f"{self.study['durations_ms']}.")
    timing = dict(timing or {})
    values = {}
    for field in TIMING_FIELDS:
      value = timing.get(field)
      if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                or not math.isfinite(value) or not 0 <= value < 1e8):
        raise BadAnswer(f"{field} must be a finite number of milliseconds >= 0 or null, got "
                        f"{value!r}.")
      values[field] = None if value is None else float(value)
    visibility = timing.get("visibility")
    if not isinstance(visibility, str) or len(visibility) > 16:
      raise BadAnswer(f"visibility must be a document.visibilityState, got {visibility!r}.")
    with self._transaction() as db:
      self._check_subject(db, subject_id)
      trial = db.execute("SELECT * FROM trials WHERE subject_id = ? AND trial_index = ?",
                         (subject_id, trial_index)).fetchone()
      if trial is None:
        raise BadAnswer(f"Subject {subject_id} has no trial {trial_index}.")
      if trial["times_served"] == 0:
        raise BadAnswer(f"Trial {trial_index} of subject {subject_id} was never shown.")
      if trial["duration_ms"] != requested_ms:
        raise BadAnswer(f"Trial {trial_index} was shown for {trial['duration_ms']} ms, not "
                        f"{requested_ms} ms.")
      if db.execute("SELECT 1 FROM answers WHERE subject_id = ? AND trial_index = ?",
                    (subject_id, trial_index)).fetchone() is not None:
        return False
      measured, source = values["paint_ms"], "element_timing"
      if measured is None:
        measured, source = values["raf_ms"], "raf"
      if measured is None:
        source = None
      flags = timing_flags(trial["duration_ms"], measured, values["max_frame_gap_ms"],
                           values["frame_period_ms"], visibility, trial["times_served"])
      db.execute(
          "INSERT INTO answers (subject_id, trial_index, source, stimulus, requested_ms, "
          "measured_ms, timing_source, raf_ms, paint_ms, paint_onset_ms, max_frame_gap_ms, "
          "frame_period_ms, visibility, answer, reaction_ms, times_served, flags, flagged, "
          "received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          (subject_id, trial_index, trial["source"], trial["stimulus"], trial["duration_ms"],
           measured, source, values["raf_ms"], values["paint_ms"], values["paint_onset_ms"],
           values["max_frame_gap_ms"], values["frame_period_ms"], visibility, answer,
           values["reaction_ms"], trial["times_served"], ",".join(flags), int(bool(flags)),
           _now()))
    return True

  def answers(self):
    """Every stored answer as a dict, in (subject, trial) order."""
    with self._connect() as db:
      rows = db.execute("SELECT * FROM answers ORDER BY subject_id, trial_index").fetchall()
    return [dict(r) for r in rows]


def open_store(study_dir, study=None):
  study = study or study_lib.load_study(study_dir)
  return AnswerStore(os.path.join(study_dir, study_lib.ANSWERS_FILE), study)
