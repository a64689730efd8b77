"""Tests of answer storage: committed, idempotent, resumable, safe under concurrent writers."""

import os
import sqlite3
import threading

from tests import test_case
from tests.human_eval import testdata
from tfgen.human_eval import storage
from tfgen.human_eval import study as study_lib

GOOD_TIMING = {"raf_ms": 50.0, "paint_ms": 51.0, "paint_onset_ms": 1234.5,
               "max_frame_gap_ms": 16.8, "frame_period_ms": 16.7, "visibility": "visible",
               "reaction_ms": 420.0}


def timing_for(duration_ms, **overrides):
  """What the page reports for a well-timed presentation of `duration_ms`."""
  return {**GOOD_TIMING, "raf_ms": float(duration_ms), "paint_ms": duration_ms + 1.0,
          **overrides}


def count_answers(study_dir):
  connection = sqlite3.connect(os.path.join(study_dir, "answers.sqlite"))
  try:
    return connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
  finally:
    connection.close()


class AnswerStoreTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    root = testdata.tempdir(self)
    self.study = testdata.make_study(root, trials_per_subject=8)
    self.dir = os.path.join(root, "study")
    self.store = storage.open_store(self.dir)

  def answer(self, subject, answer="real", store=None, **timing):
    trial = (store or self.store).next_trial(subject)
    stored = (store or self.store).record_answer(subject, trial["trial_index"], answer,
                                                 trial["duration_ms"],
                                                 timing_for(trial["duration_ms"], **timing))
    return trial, stored

  def test_wal_mode_and_one_row_per_answer(self):
    connection = sqlite3.connect(os.path.join(self.dir, "answers.sqlite"))
    self.assertEqual(connection.execute("PRAGMA journal_mode").fetchone()[0], "wal")
    connection.close()
    subject = self.store.create_subject()
    trial, stored = self.answer(subject)
    self.assertTrue(stored)
    (row,) = self.store.answers()
    schedule = dict(zip(("source", "stimulus", "requested_ms"),
                        study_lib.schedule(self.study, 0)[0]))
    self.assertEqual({k: row[k] for k in schedule}, schedule)
    self.assertEqual((row["subject_id"], row["trial_index"], row["answer"]),
                     (subject, 0, "real"))
    self.assertEqual((row["measured_ms"], row["timing_source"], row["raf_ms"]),
                     (row["requested_ms"] + 1.0, "element_timing", row["requested_ms"]))
    self.assertEqual((row["flags"], row["flagged"], row["reaction_ms"]), ("", 0, 420.0))
    self.assertEqual(trial["duration_ms"], row["requested_ms"])

  def test_a_replayed_answer_counts_once(self):
    subject = self.store.create_subject()
    trial, _ = self.answer(subject, "real")
    for answer in ("real", "generated"):  # A double click, a replay with another answer.
      self.assertFalse(self.store.record_answer(subject, trial["trial_index"], answer,
                                                trial["duration_ms"], GOOD_TIMING))
    self.assertEqual([r["answer"] for r in self.store.answers()], ["real"])

  def test_a_reopened_store_resumes_at_the_first_unanswered_trial(self):
    subject = self.store.create_subject()
    for _ in range(3):
      self.answer(subject)
    reopened = storage.open_store(self.dir)
    self.assertEqual(reopened.progress(subject), (3, 8))
    trial = reopened.next_trial(subject)
    self.assertEqual(trial["trial_index"], 3)
    # Served again (the page was reloaded during it): the answer is kept, flagged.
    self.assertEqual(reopened.next_trial(subject)["trial_index"], 3)
    reopened.record_answer(subject, 3, "real", trial["duration_ms"],
                           timing_for(trial["duration_ms"]))
    self.assertEqual(reopened.answers()[-1]["flags"], "reshown")
    for _ in range(4):
      self.answer(subject, store=reopened)
    self.assertIsNone(reopened.next_trial(subject))
    self.assertEqual(reopened.progress(subject), (8, 8))

  def test_tampered_answers_store_nothing(self):
    subject = self.store.create_subject()
    trial = self.store.next_trial(subject)
    index, duration = trial["trial_index"], trial["duration_ms"]
    other = next(d for d in self.study["durations_ms"] if d != duration)
    cases = [
        ((subject, index, "real", 77, GOOD_TIMING), storage.BadAnswer, "not one of"),
        ((subject, index, "real", other, GOOD_TIMING), storage.BadAnswer, "was shown for"),
        ((subject, index + 1, "real", duration, GOOD_TIMING), storage.BadAnswer,
         "never shown"),
        ((subject, 99, "real", duration, GOOD_TIMING), storage.BadAnswer, "no trial 99"),
        ((subject, index, "maybe", duration, GOOD_TIMING), storage.BadAnswer, "answer must"),
        ((subject, "0", "real", duration, GOOD_TIMING), storage.BadAnswer, "integer"),
        ((subject, index, "real", duration, dict(GOOD_TIMING, raf_ms=float("nan"))),
         storage.BadAnswer, "raf_ms"),
        ((subject, index, "real", duration, dict(GOOD_TIMING, reaction_ms="fast")),
         storage.BadAnswer, "reaction_ms"),
        ((subject, index, "real", duration, dict(GOOD_TIMING, visibility=None)),
         storage.BadAnswer, "visibility"),
        (("nobody", index, "real", duration, GOOD_TIMING), storage.UnknownSubject, "nobody"),
    ]
    for args, error, message in cases:
      with self.assertRaisesRegex(error, message, msg=str(args[1:4])):
        self.store.record_answer(*args)
    self.assertEqual(count_answers(self.dir), 0)
    with self.assertRaises(storage.UnknownSubject):
      self.store.next_trial("nobody")

  def test_timing_flags(self):
    flags = storage.timing_flags
    self.assertEqual(flags(50, 50.1, 16.7, 16.7, "visible"), [])
    self.assertEqual(flags(50, 66.0, 16.7, 16.7, "visible"), [])  # Within one frame.
    self.assertEqual(flags(50, 67.0, 16.7, 16.7, "visible"), ["duration_off"])
    self.assertEqual(flags(500, 500, 25.1, 16.7, "visible"), ["frame_gap"])  # > 1.5 periods.
    self.assertEqual(flags(500, 500, 25.0, 16.7, "visible"), [])
    self.assertEqual(flags(500, 500, 16.7, 16.7, "hidden", 2), ["hidden", "reshown"])
    self.assertEqual(flags(500, None, None, None, "visible"), ["no_timing"])
    subject = self.store.create_subject()
    self.answer(subject, paint_ms=None, raf_ms=None)
    self.answer(subject, max_frame_gap_ms=40.0, visibility="hidden")
    rows = self.store.answers()
    self.assertEqual([(r["flags"], r["flagged"], r["timing_source"]) for r in rows],
                     [("no_timing", 1, None), ("frame_gap,hidden", 1, "element_timing")])

  def test_concurrent_subjects_and_racing_duplicates(self):
    subjects = [self.store.create_subject() for _ in range(6)]
    results = []  # list.append is atomic.

    def subject_loop(subject):
      store = storage.open_store(self.dir)  # Its own connections, as a server thread.
      while (trial := store.next_trial(subject)) is not None:
        racing = []
        for _ in range(3):  # The same answer three times at once.
          racing.append(threading.Thread(target=lambda t=trial: results.append(
              (subject, t["trial_index"], store.record_answer(
                  subject, t["trial_index"], "real", t["duration_ms"], timing_for(t["duration_ms"]))))))
        for thread in racing:
          thread.start()
        for thread in racing:
          thread.join()

    threads = [threading.Thread(target=subject_loop, args=(s,)) for s in subjects]
    for thread in threads:
      thread.start()
    for thread in threads:
      thread.join()
    self.assertLen(results, 6 * 8 * 3)
    stored = [(s, i) for s, i, ok in results if ok]
    self.assertCountEqual(stored, [(s, i) for s in subjects for i in range(8)])
    rows = self.store.answers()
    self.assertCountEqual([(r["subject_id"], r["trial_index"]) for r in rows], stored)


if __name__ == "__main__":
  test_case.tf.test.main()
