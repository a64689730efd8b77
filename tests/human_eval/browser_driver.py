"""Runs whole subjects through a study's page in Chromium; records what the page measured.

`python -m tests.human_eval.browser_driver STUDY_DIR SCREENSHOT_DIR OUTPUT_JSON [CLIP_STUDY]`
serves the studies (Flask, 127.0.0.1, free ports) and drives Debian's chromium with
playwright in the same process. `browser_test.py` starts it inside a loopback-only network namespace
(`unshare --net`); every request that is not to http://127.0.0.1:PORT/ is aborted and
listed in the output. The test asserts on the output JSON and on answers.sqlite.
"""

import json
import logging
import os
import sys
import threading
import time

CHROMIUM = "/usr/bin/chromium"
# Chromium sends DNS queries for Google services even headless unless told not to resolve.
CHROMIUM_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def screenshot(page, path, **kwargs):
  """A PNG of the page, written aside then renamed (two runs never leave half a file)."""
  temporary = f"{path}.tmp-{os.getpid()}"
  page.screenshot(path=temporary, type="png", **kwargs)
  os.replace(temporary, path)
  return path


def answer_for(trial_index):
  return "generated" if trial_index % 3 == 0 else "real"


def wait_for_buttons_or_done(page, timeout_ms=15000):
  page.wait_for_function(
      "() => window.humanEval.state !== 'trial' || "
      "!document.getElementById('answer-real').disabled", timeout=timeout_ms)
  return page.evaluate("() => window.humanEval.state")


def wait_stored(page, count, timeout_ms=10000):
  page.wait_for_function(f"() => window.humanEval.trials.length >= {count}",
                         timeout=timeout_ms)


def current_trial(page):
  return page.evaluate("() => ({index: +document.getElementById('stage').dataset.trialIndex, "
                       "duration: +document.getElementById('stage').dataset.durationMs})")


def run_full_subject(page, base, screenshot_dir, longest_ms):
  """Subject A: introduction, every trial, thank-you page; screenshots of a long trial."""
  page.goto(base + "/")
  page.wait_for_selector("#intro:not([hidden])")
  page.wait_for_function("() => [...document.querySelectorAll('#examples img')]"
                         ".every(i => i.complete && i.naturalWidth > 0)")
  screenshot(page, os.path.join(screenshot_dir, "intro.png"))
  page.click("#start")
  screenshots = {}
  stage_box = None
  answered = 0
  while True:
    if not screenshots:
      # The first trial of the longest duration: the stimulus, then the mask, on screen.
      page.wait_for_function("() => window.humanEval.state !== 'trial' || "
                             "document.getElementById('stage').dataset.phase !== 'idle'")
      if page.evaluate("() => window.humanEval.state") == "trial" and \
          current_trial(page)["duration"] == longest_ms:
        page.wait_for_selector("#stage[data-phase=stimulus]")
        stage_box = page.locator("#stage").bounding_box()
        screenshots["trial"] = screenshot(page, os.path.join(screenshot_dir, "trial.png"))
        page.wait_for_selector("#stage[data-phase=mask]")
        screenshots["mask"] = screenshot(page, os.path.join(screenshot_dir, "mask.png"))
    if wait_for_buttons_or_done(page) != "trial":
      break
    page.click("#answer-" + answer_for(current_trial(page)["index"]))
    answered += 1
    wait_stored(page, answered)
  page.wait_for_selector("#done:not([hidden])")
  return {"subject_id": page.evaluate("() => window.humanEval.subjectId"),
          "trials": page.evaluate("() => window.humanEval.trials"),
          "element_timing": page.evaluate("() => window.humanEval.elementTiming"),
          "screenshots": sorted(screenshots), "stage_box": stage_box}


def run_resuming_subject(page, base, study_id):
  """Subject B: two answers, a reload, a double click, replayed and tampered requests, a
  trial with the tab hidden and one with a long task during the presentation."""
  page.goto(base + "/")
  page.click("#start")
  for answered in (1, 2):
    wait_for_buttons_or_done(page)
    page.click("#answer-" + answer_for(current_trial(page)["index"]))
    wait_stored(page, answered)
  subject_id = page.evaluate("() => window.humanEval.subjectId")
  page.reload()
  page.wait_for_function("() => window.humanEval.state === 'trial'")
  wait_for_buttons_or_done(page)
  after_reload = {"subject_id": page.evaluate("() => window.humanEval.subjectId"),
                  "trial": current_trial(page),
                  "progress": page.text_content("#progress-text"),
                  "intro_hidden": page.evaluate("() => document.getElementById('intro').hidden")}
  page.dblclick("#answer-real")
  wait_stored(page, 1)
  page.wait_for_timeout(300)  # Time for a second request, were the page to send one.
  double_clicked = page.evaluate("() => window.humanEval.trials")
  last = double_clicked[-1]
  url = f"/api/{study_id}/subjects/{subject_id}/answers"
  post = """async ([url, body]) => {
    const r = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                body: JSON.stringify(body)});
    return [r.status, await r.json()];
  }"""
  replay = page.evaluate(post, [url, last])
  tampered = {}
  for name, body in {
      "duration_not_offered": dict(last, trial_index=last["trial_index"] + 1, duration_ms=77),
      "trial_not_shown": dict(last, trial_index=last["trial_index"] + 2),
      "bad_answer": dict(last, trial_index=last["trial_index"] + 1, answer="maybe"),
      "negative_timing": dict(last, trial_index=last["trial_index"] + 1,
                              timing=dict(last["timing"], paint_ms=-5)),
  }.items():
    tampered[name] = page.evaluate(post, [url, body])[0]
  tampered["unknown_subject"] = page.evaluate(
      post, [f"/api/{study_id}/subjects/0000/answers", last])[0]
  tampered["unknown_study"] = page.evaluate(
      post, [f"/api/nostudy/subjects/{subject_id}/answers", last])[0]
  answered = len(double_clicked)
  wait_for_buttons_or_done(page)
  page.click("#answer-real")
  answered += 1
  wait_stored(page, answered)
  # The next trial with the tab hidden (document.visibilityState overridden meanwhile: the
  # page is fetching and warming up for it).
  page.evaluate("""() => {
    Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
    document.dispatchEvent(new Event('visibilitychange'));
  }""")
  wait_for_buttons_or_done(page)
  hidden_trial = current_trial(page)["index"]
  page.click("#answer-real")
  answered += 1
  wait_stored(page, answered)
  page.evaluate("() => { delete document.visibilityState; }")
  # A long task (120 ms of script) during a long presentation: a frame gap.
  janked_trial = None
  while janked_trial is None:
    page.wait_for_function("() => document.getElementById('stage').dataset.phase !== 'idle'")
    trial = current_trial(page)
    if trial["duration"] >= 500:
      page.wait_for_selector("#stage[data-phase=stimulus]")
      page.evaluate("() => { const end = performance.now() + 120; "
                    "while (performance.now() < end) {} }")
      janked_trial = trial["index"]
    wait_for_buttons_or_done(page)
    page.click("#answer-generated")
    answered += 1
    wait_stored(page, answered)
  return {"subject_id": subject_id, "after_reload": after_reload,
          "trials_after_reload": double_clicked, "replay": replay, "tampered": tampered,
          "hidden_trial": hidden_trial, "janked_trial": janked_trial,
          "trials": page.evaluate("() => window.humanEval.trials")}


def run_clip_subject(page, base, num_trials):
  """Subject C, in a study of clips (looping GIFs): `num_trials` answers."""
  page.goto(base + "/")
  page.click("#start")
  for answered in range(1, num_trials + 1):
    wait_for_buttons_or_done(page)
    page.click("#answer-real")
    wait_stored(page, answered)
  return {"subject_id": page.evaluate("() => window.humanEval.subjectId"),
          "trials": page.evaluate("() => window.humanEval.trials")}


def serve(study_dir):
  from tfgen.human_eval import server  # pylint: disable=g-import-not-at-top
  http = server.make_server(study_dir, "127.0.0.1", 0)
  thread = threading.Thread(target=http.serve_forever, daemon=True)
  thread.start()
  return http, thread, f"http://127.0.0.1:{http.server_port}"


def main(study_dir, screenshot_dir, output_path, clip_study_dir=None):
  from playwright.sync_api import sync_playwright  # pylint: disable=g-import-not-at-top
  from tfgen.human_eval import study as study_lib  # pylint: disable=g-import-not-at-top
  logging.getLogger("werkzeug").setLevel(logging.WARNING)  # No line per request.
  study = study_lib.load_study(study_dir)
  servers = [serve(study_dir)] + ([serve(clip_study_dir)] if clip_study_dir else [])
  base = servers[0][2]
  aborted = []

  def only_loopback(route):
    if any(route.request.url.startswith(b + "/") for _, _, b in servers):
      route.continue_()
    else:
      aborted.append(route.request.url)
      route.abort()

  os.makedirs(screenshot_dir, exist_ok=True)
  result = {"base": base, "study_id": study["study_id"]}
  started = time.monotonic()
  try:
    with sync_playwright() as playwright:
      browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                           args=CHROMIUM_ARGS)
      result["browser_version"] = browser.version
      for name, run in (("full", lambda page: run_full_subject(
          page, base, screenshot_dir, max(study["durations_ms"]))),
                        ("resuming", lambda page: run_resuming_subject(
                            page, base, study["study_id"])),
                        ("clips", lambda page: clip_study_dir and run_clip_subject(
                            page, servers[-1][2], 4))):
        context = browser.new_context(viewport={"width": 720, "height": 560})
        context.route("**/*", only_loopback)
        page = context.new_page()
        page.set_default_timeout(20000)
        result[name] = run(page)
        context.close()
      context = browser.new_context(viewport={"width": 760, "height": 900})
      context.route("**/*", only_loopback)
      page = context.new_page()
      page.goto(base + "/results")
      page.wait_for_function("() => document.getElementById('plot').complete && "
                             "document.getElementById('plot').naturalWidth > 0")
      screenshot(page, os.path.join(screenshot_dir, "results.png"), full_page=True)
      result["results_table"] = page.evaluate(
          "() => [...document.querySelectorAll('#results-table tr')].slice(1)"
          ".map(r => [...r.cells].map(c => c.textContent))")
      browser.close()
  finally:
    for http, thread, _ in servers:
      http.shutdown()
      thread.join()
  result["aborted_requests"] = aborted
  result["seconds"] = time.monotonic() - started
  with open(output_path, "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1)


if __name__ == "__main__":
  main(*sys.argv[1:])
