r"""DrNET's KTH "Inception" score by offset (thesis eq. 5.8-5.9, Fig. 5.9) and nearest neighbours.

  python -m tfgen.bin.train --model=classifier --dataset=kth --workdir=C --data_dir=KTH
  python -m tfgen.bin.kth_score --classifier_workdir=C --workdir=W_drnet_lstm,W_ae_lstm,W_svg \
      --output_dir=/tmp/kth_score

Each run in --workdir (any family that predicts frames) predicts --num_future_frames frames
of every KTH test clip; each window of the classifier's 10 frames, by offset from the last
context frame, is scored with exp(mean KL(p(y|x) || p(y))). Writes kth_score.json/.csv/.png,
neighbours_<run>.png (Fig. 5.10) and logits.npz to --output_dir, whole or not at all
(`tfgen.models.drnet.kth_score`).
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("classifier_workdir", None, "Work directory of the KTH action classifier "
                    "(--model=classifier --dataset=kth).")
flags.DEFINE_list("workdir", None, "Comma-separated work directories of runs that predict "
                  "frames (drnet_lstm, ae_lstm, svg_*).")
flags.DEFINE_integer("num_future_frames", 30, "Frames predicted per test clip.")
flags.DEFINE_integer("num_context_frames", None, "Frames conditioned on (default: each "
                     "model's).")
flags.DEFINE_integer("num_test_sequences", None, "Score the first this many test clips.")
flags.DEFINE_integer("batch_size", 16, "Test clips per generate call.")
flags.DEFINE_integer("num_neighbour_clips", 2, "Test clips shown with nearest neighbours.")
flags.DEFINE_integer("neighbour_stride", 3, "Show every this-many-th generated frame.")
flags.DEFINE_integer("num_neighbour_candidates", 1000, "Training frames searched for "
                     "neighbours.")
flags.DEFINE_string("output_dir", None, "Where results go (replaced wholesale).")
flags.DEFINE_integer("seed", 0, "Seed of the samples and of the training frames.")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.models.drnet import kth_score  # TensorFlow after flag parsing.
  with tfgen_flags.user_errors():
    if not FLAGS.classifier_workdir:
      raise ValueError("--classifier_workdir is required.")
    document = kth_score.score(
        FLAGS.classifier_workdir, FLAGS.workdir or [],
        num_future_frames=FLAGS.num_future_frames,
        num_context_frames=FLAGS.num_context_frames,
        num_test_sequences=FLAGS.num_test_sequences, batch_size=FLAGS.batch_size,
        num_neighbour_clips=FLAGS.num_neighbour_clips,
        neighbour_stride=FLAGS.neighbour_stride,
        num_neighbour_candidates=FLAGS.num_neighbour_candidates,
        output_dir=FLAGS.output_dir, seed=FLAGS.seed)
  print(f"Classifier accuracy on {document['classifier_test_windows']} test windows: "
        f"{document['classifier_test_accuracy']:.4f}")
  for run in document["runs"]:
    scores = " ".join(f"{s:.3f}" for s in run["score"])
    print(f"{run['name']}: KTH score by offset {scores}")
  print(f"Results: {document['output_dir']}")


if __name__ == "__main__":
  app.run(main)
