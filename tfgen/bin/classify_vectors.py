r"""Classification from a DrNET run's frozen vectors (thesis Table 5.1, Fig. 5.8).

  python -m tfgen.bin.classify_vectors --workdir=W --vector=content --task=identity
  python -m tfgen.bin.classify_vectors --workdir=W --vector=pose --task=action \
      --num_labelled_per_class=10

Encodes labelled examples of the run's data set with its frozen encoder (inference mode),
trains the shared "mlp" classifier on the vectors with early stopping on a validation set,
and writes `classification.json`, `classification.csv` and `predictions.npz` to
`--output_dir` (default `W/vector_classification/<task>_<vector>`, replaced wholesale).
Tasks: identity (mnist: the red digit; norb: object category on held-out instances),
action (kth: sequences of 24 frames). `tfgen.models.drnet.vector_classification`.
"""

from absl import app
from absl import flags

from tfgen.bin import flags as tfgen_flags

flags.DEFINE_string("workdir", None, "Work directory of a trained DrNET run (or AE-LSTM: "
                    "--vector=combined).")
flags.DEFINE_string("vector", "content", "content or pose (DrNET), combined (AE-LSTM).")
flags.DEFINE_string("task", "identity", "identity (mnist, norb) or action (kth).")
flags.DEFINE_integer("num_train_examples", 5000, "Training examples (mnist clips; norb "
                     "images, 0 = all 24,300).")
flags.DEFINE_integer("num_validation_examples", None, "Validation examples for early "
                     "stopping (default: 1000; kth: per class, --num_labelled_per_class).")
flags.DEFINE_integer("num_test_examples", None, "Test examples (default: the test set).")
flags.DEFINE_integer("num_labelled_per_class", 10, "kth: labelled training sequences per "
                     "action (Fig. 5.8's few labels).")
flags.DEFINE_integer("sequence_length", 24, "kth: frames per classified sequence.")
flags.DEFINE_integer("digit", 0, "mnist: 0 = label of the red digit, 1 = the green one.")
flags.DEFINE_integer("num_hidden_layers", 1, "Hidden layers of 256 units of the classifier.")
flags.DEFINE_integer("max_epochs", 200, "Epochs at most (early stopping on validation).")
flags.DEFINE_integer("patience", 20, "Epochs without a better validation accuracy before "
                     "stopping.")
flags.DEFINE_string("output_dir", None, "Where results go (default: "
                    "<workdir>/vector_classification/<task>_<vector>).")
flags.DEFINE_integer("seed", 0, "Seed of the subsets and of the classifier.")
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from tfgen.models.drnet import vector_classification  # TensorFlow after flag parsing.
  with tfgen_flags.user_errors():
    if not FLAGS.workdir:
      raise ValueError("--workdir is required.")
    document = vector_classification.classify(
        FLAGS.workdir, vector=FLAGS.vector, task=FLAGS.task,
        num_train_examples=FLAGS.num_train_examples or None,
        num_validation_examples=FLAGS.num_validation_examples,
        num_test_examples=FLAGS.num_test_examples,
        num_labelled_per_class=FLAGS.num_labelled_per_class,
        sequence_length=FLAGS.sequence_length, digit=FLAGS.digit,
        num_hidden_layers=FLAGS.num_hidden_layers, max_epochs=FLAGS.max_epochs,
        patience=FLAGS.patience, output_dir=FLAGS.output_dir, seed=FLAGS.seed)
  splits = ", ".join(f"{split} {entry['accuracy']:.4f} ({entry['num_examples']})"
                     for split, entry in document["splits"].items())
  print(f"{document['task']} from {document['vector']}: {splits}; chance "
        f"{document['chance_accuracy']:.4f}")
  print(f"Results: {document['output_dir']}")


if __name__ == "__main__":
  app.run(main)
