r"""The thesis's timed real-or-generated study (Fig. 4.9) as a local web page.

  python -m tfgen.bin.human_eval serve --study=DIR --source real=PATH --source lapgan=PATH2
      Prepares the study in DIR (a new folder; stimuli, study.json) from the sources, then
      serves it on http://127.0.0.1:8080/ (`--host`, `--port`). Without --source, serves the
      existing study in DIR again (answers are kept in DIR/answers.sqlite). A source is a
      folder of PNG/JPEG images or GIF clips, or a .npz of images (N, H, W[, C]) / clips
      (N, T, H, W, C), uint8 or float in [0, 1]; `NAME=LOADER:PATH` picks a loader
      (`tfgen.human_eval.sources`). Results while it runs: http://127.0.0.1:8080/results.
  python -m tfgen.bin.human_eval report --study=DIR
      Writes DIR/report/{fraction_real.png, trials.csv, summary.json} (`--output_dir`),
      leaving trials with flagged timing out (`--include_flagged` keeps them).
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

COMMANDS = ("serve", "report")

flags.DEFINE_string("study", None, "The study directory.")
flags.DEFINE_multi_string("source", [], "NAME=PATH or NAME=LOADER:PATH (repeat; serve only "
                          "when creating the study).")
flags.DEFINE_string("host", "127.0.0.1", "Address to bind (127.0.0.1: this machine only).")
flags.DEFINE_integer("port", 8080, "Port (0: any free port).")
flags.DEFINE_list("durations_ms", None, "Presentation times in ms (default: --num_durations "
                  "evenly spaced in log time from --min_duration_ms to --max_duration_ms).")
flags.DEFINE_float("min_duration_ms", 50.0, "Shortest presentation time.")
flags.DEFINE_float("max_duration_ms", 2000.0, "Longest presentation time.")
flags.DEFINE_integer("num_durations", 11, "Number of presentation times.")
flags.DEFINE_integer("trials_per_subject", None, "Trials per subject (default: 4 blocks of "
                     "every (source, duration) cell).")
flags.DEFINE_integer("items_per_source", None, "Use the first N items of each source.")
flags.DEFINE_integer("seed", 0, "Seed of the subjects' schedules.")
flags.DEFINE_string("image_size", None, "Stored stimulus size, N or HxW (default: the 'real' "
                    "source's).")
flags.DEFINE_integer("display_px", 256, "Stimulus width on the page (CSS pixels).")
flags.DEFINE_integer("clip_frame_ms", 100, "Frame time of clips.")
flags.DEFINE_string("output_dir", None, "report: default DIR/report.")
flags.DEFINE_bool("include_flagged", False, "report: keep trials with flagged timing.")
FLAGS = flags.FLAGS


def serve():
  import os  # pylint: disable=g-import-not-at-top
  from tfgen.human_eval import server  # pylint: disable=g-import-not-at-top
  from tfgen.human_eval import study as study_lib  # pylint: disable=g-import-not-at-top
  if FLAGS.source:
    durations = ([int(d) for d in FLAGS.durations_ms] if FLAGS.durations_ms else
                 study_lib.log_spaced_durations(FLAGS.min_duration_ms, FLAGS.max_duration_ms,
                                                FLAGS.num_durations))
    study = study_lib.prepare_study(
        FLAGS.study, FLAGS.source, durations_ms=durations,
        trials_per_subject=FLAGS.trials_per_subject, seed=FLAGS.seed,
        items_per_source=FLAGS.items_per_source, image_size=FLAGS.image_size,
        display_px=FLAGS.display_px, clip_frame_ms=FLAGS.clip_frame_ms)
    print(f"Prepared study {study['study_id']} in {FLAGS.study}: " + ", ".join(
        f"{s['name']} ({s['num_items']} {s['kind']}s)" for s in study["sources"]) +
          f"; durations {study['durations_ms']} ms; {study['trials_per_subject']} trials "
          "per subject.")
    for note in study["notes"]:
      print(f"Note: {note}")
  elif not os.path.exists(os.path.join(FLAGS.study, study_lib.STUDY_FILE)):
    raise ValueError(f"{FLAGS.study} holds no study yet: pass --source NAME=PATH (twice or "
                     "more) to create it.")
  if FLAGS.host not in ("127.0.0.1", "localhost", "::1"):
    print(f"Warning: --host={FLAGS.host}: anyone who can reach this address can take part "
          "and read /results.", flush=True)
  http = server.make_server(FLAGS.study, FLAGS.host, FLAGS.port)
  print(f"Serving http://{FLAGS.host}:{http.server_port}/ (results: /results); Ctrl-C stops.",
        flush=True)
  try:
    http.serve_forever()
  except KeyboardInterrupt:
    pass
  finally:
    http.server_close()


def report():
  from tfgen.human_eval import analysis  # pylint: disable=g-import-not-at-top
  paths = analysis.write_report(FLAGS.study, FLAGS.output_dir, FLAGS.include_flagged)
  print("Report: " + ", ".join(paths.values()))


def main(argv):
  if len(argv) != 2 or argv[1] not in COMMANDS:
    raise app.UsageError(f"Usage: python -m tfgen.bin.human_eval {{{'|'.join(COMMANDS)}}} "
                         "--study=DIR [flags]")
  import sqlite3  # pylint: disable=g-import-not-at-top
  with tfgen_flags.user_errors(sqlite3.DatabaseError, OSError):
    if not FLAGS.study:
      raise ValueError("--study is required.")
    {"serve": serve, "report": report}[argv[1]]()


if __name__ == "__main__":
  app.run(main)
