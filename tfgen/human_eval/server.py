"""The local web page of a human study (Flask): introduction, timed trials, thanks, results.

Routes (`STUDY` is the study's random id; a wrong one answers 404):
  GET  /                                   the page (assets/page.html + human_eval.js).
  POST /api/STUDY/subjects                 a new subject: {subject_id, answered, total}.
  GET  /api/STUDY/subjects/ID              {answered, total}.
  POST /api/STUDY/subjects/ID/next         marks the first unanswered trial served and returns
                                           {trial_index, stimulus_url, duration_ms, ...} or
                                           {done: true}.
  POST /api/STUDY/subjects/ID/answers      {trial_index, duration_ms, answer, timing}: 201
                                           stored, 200 {stored: false} for a repeat, 400 for
                                           anything the study cannot accept (nothing stored),
                                           404 for an unknown subject.
  GET  /results, /results.png              the analysis (`analysis.fraction_real`) and plot.
  GET  /stimuli/F, /examples/F, /mask.png  the study's files.

The server never needs TensorFlow. It is threaded; every request opens its own SQLite
connection (`storage.AnswerStore`).
"""

import html
import json
import os
import threading

import flask
from werkzeug import serving

from tfgen.human_eval import analysis
from tfgen.human_eval import storage
from tfgen.human_eval import study as study_lib

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")


def create_app(study_dir):
  """The Flask app serving the study in `study_dir`."""
  study_dir = os.path.abspath(study_dir)
  study = study_lib.load_study(study_dir)
  store = storage.open_store(study_dir, study)
  app = flask.Flask(__name__, static_folder=ASSETS, static_url_path="/assets")
  app.config["TFGEN_STUDY"] = study
  app.config["TFGEN_STORE"] = store
  with open(os.path.join(ASSETS, "page.html"), encoding="utf-8") as f:
    page_template = f.read()
  plot_lock = threading.Lock()  # matplotlib's font cache is not thread-safe.

  def error(status, message):
    return flask.make_response(flask.jsonify(error=message), status)

  def check_study(study_id):
    if study_id != study["study_id"]:
      flask.abort(error(404, f"Unknown study {study_id!r}."))

  @app.errorhandler(storage.UnknownSubject)
  def _unknown_subject(e):
    return error(404, str(e))

  @app.errorhandler(storage.BadAnswer)
  def _bad_answer(e):
    return error(400, str(e))

  @app.after_request
  def _no_cache(response):
    if flask.request.path.startswith("/api/") or flask.request.path.startswith("/results"):
      response.headers["Cache-Control"] = "no-store"
    return response

  @app.get("/")
  def page():
    config = {"study_id": study["study_id"], "kind": study["kind"],
              "display_px": study["display_px"], "warmup_frames": study["warmup_frames"],
              "mask_url": "/mask.png", "trials_per_subject": study["trials_per_subject"],
              "examples": [f"/examples/{f}" for f in study["examples"]]}
    body = page_template.replace("{{config}}", json.dumps(config).replace("</", "<\\/"))
    body = body.replace("{{display_px}}", str(int(study["display_px"])))
    return flask.Response(body, mimetype="text/html")

  @app.get("/stimuli/<name>")
  def stimulus(name):
    return flask.send_from_directory(os.path.join(study_dir, study_lib.STIMULI_DIR), name)

  @app.get("/examples/<name>")
  def example(name):
    return flask.send_from_directory(os.path.join(study_dir, study_lib.EXAMPLES_DIR), name)

  @app.get("/mask.png")
  def mask():
    return flask.send_from_directory(study_dir, study_lib.MASK_FILE)

  @app.post("/api/<study_id>/subjects")
  def create_subject(study_id):
    check_study(study_id)
    subject_id = store.create_subject()
    answered, total = store.progress(subject_id)
    return flask.jsonify(subject_id=subject_id, answered=answered, total=total), 201

  @app.get("/api/<study_id>/subjects/<subject_id>")
  def subject(study_id, subject_id):
    check_study(study_id)
    answered, total = store.progress(subject_id)
    return flask.jsonify(subject_id=subject_id, answered=answered, total=total)

  @app.post("/api/<study_id>/subjects/<subject_id>/next")
  def next_trial(study_id, subject_id):
    check_study(study_id)
    trial = store.next_trial(subject_id)
    answered, total = store.progress(subject_id)
    if trial is None:
      return flask.jsonify(done=True, answered=answered, total=total)
    return flask.jsonify(done=False, answered=answered, total=total,
                         trial_index=trial["trial_index"], duration_ms=trial["duration_ms"],
                         stimulus_url=f"/stimuli/{trial['stimulus']}")

  @app.post("/api/<study_id>/subjects/<subject_id>/answers")
  def answer(study_id, subject_id):
    check_study(study_id)
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
      return error(400, "Expected a JSON object {trial_index, duration_ms, answer, timing}.")
    timing = body.get("timing")
    if timing is not None and not isinstance(timing, dict):
      return error(400, "timing must be an object.")
    stored = store.record_answer(subject_id, body.get("trial_index"), body.get("answer"),
                                 body.get("duration_ms"), timing)
    answered, total = store.progress(subject_id)
    return flask.jsonify(stored=stored, answered=answered, total=total), 201 if stored else 200

  @app.get("/results.png")
  def results_png():
    _, _, summary = analysis.summarize(study_dir, flask.request.args.get("flagged") == "1")
    with plot_lock:
      png = analysis.figure_png(summary)
    return flask.Response(png, mimetype="image/png")

  @app.get("/results")
  def results():
    include_flagged = flask.request.args.get("flagged") == "1"
    _, _, summary = analysis.summarize(study_dir, include_flagged)
    rows = []
    for source, curve in summary["curves"].items():
      for c in curve:
        fmt = lambda v: "" if v is None else f"{v:.3f}"
        rows.append(f"<tr><td>{html.escape(source)}</td><td>{c['duration_ms']}</td>"
                    f"<td>{fmt(c['mean'])}</td><td>{fmt(c['sigma'])}</td>"
                    f"<td>{fmt(c['pooled'])}</td><td>{c['num_trials']}</td>"
                    f"<td>{c['num_subjects']}</td></tr>")
    toggle = ("<a href='/results'>leave flagged trials out</a>" if include_flagged else
              "<a href='/results?flagged=1'>include flagged trials</a>")
    return flask.Response(
        "<!doctype html><html><head><meta charset='utf-8'><title>Results</title>"
        "<link rel='stylesheet' href='/assets/human_eval.css'></head><body class='results'>"
        "<h1>Fraction judged real vs presentation time</h1>"
        f"<img id='plot' src='/results.png{'?flagged=1' if include_flagged else ''}' "
        "alt='Fraction judged real per presentation time and source'>"
        f"<p>{summary['num_subjects']} subjects, {summary['num_trials_used']} trials used, "
        f"{summary['num_trials_excluded']} with flagged timing "
        f"{'included' if include_flagged else 'left out'} ({toggle}).</p>"
        "<table id='results-table'><tr><th>source</th><th>ms</th><th>mean</th><th>sigma</th>"
        "<th>pooled</th><th>trials</th><th>subjects</th></tr>" + "".join(rows) +
        "</table></body></html>", mimetype="text/html")

  return app


def make_server(study_dir, host="127.0.0.1", port=0):
  """A threaded werkzeug server of the study (port 0: a free one, see `.server_port`)."""
  return serving.make_server(host, port, create_app(study_dir), threaded=True)
