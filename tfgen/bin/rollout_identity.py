r"""Do long rollouts keep the digits' identity? (two-colour Moving MNIST, thesis Fig. 5.2)

  python -m tfgen.bin.train --model=classifier --dataset=mnist_digits --workdir=C
  python -m tfgen.bin.rollout_identity --workdir=W_drnet_lstm --classifier_workdir=C \
      --num_future_frames=500

Each fixed test clip is predicted --num_future_frames frames ahead by the run in --workdir
(any family that predicts frames, trained on --dataset=mnist); at the scored steps each
colour channel's digit is cropped around its centre of mass and classified by C. Writes
rollout_identity.json/.csv and rollouts.png to --output_dir (default W/rollout_identity),
whole or not at all (`tfgen.models.drnet.rollout_identity`).
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Work directory of a run that predicts frames, trained "
                    "on two-colour Moving MNIST (drnet_lstm, ae_lstm, svg_*).")
flags.DEFINE_string("classifier_workdir", None, "Work directory of a digit classifier "
                    "(--model=classifier --dataset=mnist_digits).")
flags.DEFINE_integer("num_future_frames", 500, "Frames predicted per test clip.")
flags.DEFINE_integer("num_context_frames", None, "Frames conditioned on (default: the "
                     "model's).")
flags.DEFINE_integer("num_test_sequences", None, "Score the first this many test clips "
                     "(default: the data set's 256).")
flags.DEFINE_list("steps", ["1", "10", "50", "100", "200", "300", "400", "500"],
                  "Future frames (1-based) scored, besides the last --num_last_frames.")
flags.DEFINE_integer("num_last_frames", 10, "The summary accuracy is over this many last "
                     "predicted frames.")
flags.DEFINE_integer("batch_size", 16, "Test clips per generate call.")
flags.DEFINE_string("output_dir", None, "Where results go (replaced wholesale).")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.models.drnet import rollout_identity  # TensorFlow after flag parsing.
  with tfgen_flags.user_errors():
    for name in ("workdir", "classifier_workdir"):
      if not FLAGS[name].value:
        raise ValueError(f"--{name} is required.")
    try:
      steps = [int(s) for s in FLAGS.steps]
    except ValueError:
      raise ValueError(f"--steps must be integers, got {FLAGS.steps!r}.") from None
    document = rollout_identity.measure(
        FLAGS.workdir, FLAGS.classifier_workdir,
        num_future_frames=FLAGS.num_future_frames,
        num_context_frames=FLAGS.num_context_frames,
        num_test_sequences=FLAGS.num_test_sequences, steps=steps,
        num_last_frames=FLAGS.num_last_frames, batch_size=FLAGS.batch_size,
        output_dir=FLAGS.output_dir)
  per_step = ", ".join(f"{e['step']}: {e['accuracy']:.3f}" for e in document["per_step"])
  print(f"Digit accuracy on real context frames {document['real_context_accuracy']:.3f}; "
        f"on the last {document['protocol']['num_last_frames']} predicted frames "
        f"{document['last_frames_accuracy']:.3f} (chance 0.1). By step: {per_step}")
  print(f"Results: {document['output_dir']}")


if __name__ == "__main__":
  app.run(main)
