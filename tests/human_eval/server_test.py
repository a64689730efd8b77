"""Tests of the study's HTTP interface: 4xx for bad input, and a load test of 20 subjects."""

import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request

from tests import test_case
from tests.human_eval import storage_test
from tests.human_eval import testdata
from tfgen.human_eval import server
from tfgen.human_eval import storage


class ApiTest(test_case.TestCase):

  def setUp(self):
    super().setUp()
    root = testdata.tempdir(self)
    self.study = testdata.make_study(root, trials_per_subject=4)
    self.dir = os.path.join(root, "study")
    self.client = server.create_app(self.dir).test_client()
    self.api = f"/api/{self.study['study_id']}"

  def test_a_subject_answers_every_trial(self):
    page = self.client.get("/")
    self.assertEqual(page.status_code, 200)
    self.assertIn(self.study["study_id"], page.get_data(as_text=True))
    created = self.client.post(f"{self.api}/subjects")
    self.assertEqual(created.status_code, 201)
    subject = created.get_json()["subject_id"]
    for i in range(4):
      trial = self.client.post(f"{self.api}/subjects/{subject}/next").get_json()
      self.assertEqual((trial["trial_index"], trial["answered"], trial["done"]), (i, i, False))
      self.assertEqual(self.client.get(trial["stimulus_url"]).status_code, 200)
      body = {"trial_index": i, "duration_ms": trial["duration_ms"], "answer": "real",
              "timing": storage_test.timing_for(trial["duration_ms"])}
      response = self.client.post(f"{self.api}/subjects/{subject}/answers", json=body)
      self.assertEqual((response.status_code, response.get_json()["stored"]), (201, True))
      replay = self.client.post(f"{self.api}/subjects/{subject}/answers", json=body)
      self.assertEqual((replay.status_code, replay.get_json()["stored"]), (200, False))
    self.assertTrue(self.client.post(f"{self.api}/subjects/{subject}/next").get_json()["done"])
    self.assertEqual(storage_test.count_answers(self.dir), 4)
    results = self.client.get("/results")
    self.assertEqual(results.status_code, 200)
    self.assertIn("4 trials used", results.get_data(as_text=True))
    self.assertEqual(self.client.get("/results.png").data[:4], b"\x89PNG")

  def test_bad_requests_get_4xx_and_store_nothing(self):
    subject = self.client.post(f"{self.api}/subjects").get_json()["subject_id"]
    trial = self.client.post(f"{self.api}/subjects/{subject}/next").get_json()
    good = {"trial_index": 0, "duration_ms": trial["duration_ms"], "answer": "real",
            "timing": storage_test.timing_for(trial["duration_ms"])}
    answers = f"{self.api}/subjects/{subject}/answers"
    cases = [
        (answers, dict(good, duration_ms=77), 400, "not one of"),
        (answers, dict(good, trial_index=1), 400, "never shown"),
        (answers, dict(good, answer="yes"), 400, "answer must"),
        (answers, dict(good, timing=[1, 2]), 400, "timing must"),
        (answers, "not json", 400, "JSON object"),
        (f"{self.api}/subjects/feedface/answers", good, 404, "Unknown subject"),
        (f"/api/0000/subjects/{subject}/answers", good, 404, "Unknown study"),
    ]
    for url, body, status, message in cases:
      response = (self.client.post(url, data=body) if isinstance(body, str) else
                  self.client.post(url, json=body))
      self.assertEqual(response.status_code, status, (url, body))
      self.assertIn(message, response.get_json()["error"])
    self.assertEqual(self.client.post("/api/0000/subjects").status_code, 404)
    self.assertEqual(self.client.get(f"{self.api}/subjects/feedface").status_code, 404)
    self.assertEqual(self.client.get("/stimuli/..%2Fstudy.json").status_code, 404)
    self.assertEqual(storage_test.count_answers(self.dir), 0)

  def test_binds_loopback_by_default(self):
    http = server.make_server(self.dir)
    try:
      self.assertEqual(http.server_address[0], "127.0.0.1")
      self.assertGreater(http.server_port, 0)
    finally:
      http.server_close()


class LoadTest(test_case.TestCase):

  def test_20_concurrent_subjects_every_answer_stored_exactly_once(self):
    root = testdata.tempdir(self)
    study = testdata.make_study(root, trials_per_subject=2000)
    directory = os.path.join(root, "study")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    http = server.make_server(directory)
    serving = threading.Thread(target=http.serve_forever)
    serving.start()
    self.addCleanup(serving.join)
    self.addCleanup(http.shutdown)
    api = f"http://127.0.0.1:{http.server_port}/api/{study['study_id']}"

    def call(path, body=None):
      request = urllib.request.Request(api + path, method="POST",
                                       data=None if body is None else json.dumps(body).encode(),
                                       headers={"Content-Type": "application/json"})
      with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)

    deadline = time.monotonic() + 3.0
    outcomes = {}  # subject -> list of (trial_index, stored) as the server answered.
    errors = []

    def subject_loop(number):
      try:
        _, created = call("/subjects")
        subject = created["subject_id"]
        outcomes[subject] = log = []
        while time.monotonic() < deadline:
          _, trial = call(f"/subjects/{subject}/next")
          body = {"trial_index": trial["trial_index"], "duration_ms": trial["duration_ms"],
                  "answer": "real" if number % 2 else "generated",
                  "timing": storage_test.timing_for(trial["duration_ms"])}
          for _ in range(2):  # Every answer sent twice: the second must not count.
            status, reply = call(f"/subjects/{subject}/answers", body)
            log.append((trial["trial_index"], status, reply["stored"]))
      except Exception as e:  # pylint: disable=broad-except
        errors.append(repr(e))

    threads = [threading.Thread(target=subject_loop, args=(n,)) for n in range(20)]
    for thread in threads:
      thread.start()
    for thread in threads:
      thread.join()
    self.assertEqual(errors, [])
    self.assertLen(outcomes, 20)
    rows = storage.open_store(directory).answers()
    for subject, log in outcomes.items():
      stored = [i for i, status, ok in log if ok]
      self.assertEqual([(s, ok) for _, s, ok in log], [(201, True), (200, False)] * len(stored))
      self.assertEqual(stored, list(range(len(stored))))  # In order, none skipped.
      self.assertEqual(sorted(r["trial_index"] for r in rows if r["subject_id"] == subject),
                       stored)
    self.assertEqual(len(rows), sum(len(log) // 2 for log in outcomes.values()))
    self.assertGreaterEqual(len(rows), 20)
    print(f"load test: {len(rows)} answers from 20 subjects in 3 s")


if __name__ == "__main__":
  test_case.tf.test.main()
