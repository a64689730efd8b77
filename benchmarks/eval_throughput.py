r"""Best-of-N evaluation throughput: tfgen's vectorised path against a per-sample loop.

    python benchmarks/eval_throughput.py [--workdir=DIR] [--num_samples=100] \
        [--num_sequences=2] [--num_future_frames=10] [--quick]

Both sides score the same test sequences (the fixed SM-MNIST test set, or the workdir's
data set) with the same model: the workdir's latest checkpoint, or without `--workdir` a
randomly initialised full-size SVG-LP on SM-MNIST (`configs/svg_lp_smmnist.py`; `--quick`
takes its narrow variant). Throughput does not depend on the weights.

- tfgen: `tfgen.evaluation.evaluate.make_scorer`, the evaluator's own function: ONE
  `generate` call draws all N futures of every sequence (samples folded into the batch),
  and the legacy SSIM, Gaussian SSIM and PSNR of every sample at every step are computed
  in the same graph; the samples are also returned (for the check below).
- per-sample loop (the reference's way, edenton/svg `generate_svg_lp.py` + `utils.eval_seq`):
  for s in 1..N, generate ONE future of every sequence (tfgen's `generate` with
  `num_samples=1` in a `tf.function`, seed (seed, s)), then score each frame in Python
  with scikit-image (`structural_similarity` 7x7, data range 2, the old `compare_ssim`;
  the Gaussian one; `peak_signal_noise_ratio`, data range 1), channel by channel.
Both functions are traced before timing (one untimed call each on one sequence).

Check: the loop's noise differs from the batched call's (one draw per call), so the check
compares the two metric implementations on the same frames: scikit-image, run on every
frame the vectorised path generated, must give the vectorised scores within 1e-4
(`max_abs_diff_*`). Both sides' best-of-N means (reference selection) are printed too;
they agree only statistically.

Prints the machine and its measured matmul peaks first (`tfgen.utils.machine`), then
timings, tfgen's FLOPs (`generation_flops`: its encoder and decoder passes) and FLOP/s,
`tfgen_sequences_per_second=`, `loop_sequences_per_second=`, `speedup=` (loop time /
tfgen time) and, as the LAST line, `fraction_of_float32_peak=<float>`: the FLOP/s of the
evaluation over the machine's float32 matmul peak. That, not the speedup, is the yardstick:
both sides must generate the same frames, so the speedup is capped by the loop's own
compute efficiency.
"""

import os
import sys
import time

from absl import app
from absl import flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

flags.DEFINE_string("workdir", None, "Trained workdir; default a random full-size SVG-LP.")
flags.DEFINE_integer("num_samples", 100, "Futures per sequence (N).")
flags.DEFINE_integer("num_sequences", 2, "Test sequences scored.")
flags.DEFINE_integer("num_future_frames", 10, "Predicted frames scored.")
flags.DEFINE_bool("quick", False, "Without --workdir: the quick (narrow) SVG-LP.")
flags.DEFINE_integer("seed", 0, "Seed of the samples.")
flags.DEFINE_integer("peak_size", 2048, "Matrix size of the peak-FLOP/s measurement.")
FLAGS = flags.FLAGS

METRICS = ("ssim_legacy", "ssim_gaussian", "psnr")


def skimage_scores(truth, frames):
  """Per-frame scores in Python, channel by channel: `(F, H, W, C)` x2 -> name -> `(F,)`."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from skimage import metrics  # pylint: disable=g-import-not-at-top
  out = {name: np.zeros(truth.shape[0]) for name in METRICS}
  channels = truth.shape[-1]
  for t in range(truth.shape[0]):
    for c in range(channels):
      gt, pred = truth[t, ..., c], frames[t, ..., c]
      out["ssim_legacy"][t] += metrics.structural_similarity(gt, pred, win_size=7,
                                                             data_range=2.0) / channels
      out["ssim_gaussian"][t] += metrics.structural_similarity(
          gt, pred, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
          data_range=1.0) / channels
      out["psnr"][t] += metrics.peak_signal_noise_ratio(gt, pred, data_range=1.0) / channels
  return out


def generation_flops(model, video, num_context, num_future, num_samples):
  """Nominal FLOPs of drawing the samples: the encoder and decoder passes it makes.

  `generate` encodes the context once, then per future frame decodes every sample and
  encodes the new frame (`SVG.generate`'s loop). The per-frame FLOPs of the encoder and of
  the decoder are counted by TensorFlow's profiler on one frame (it cannot see inside the
  loop); the LSTMs (< 1% here) and the metrics are left out, so the fraction of peak
  derived from this is a lower bound.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top
  frame = tf.zeros((1,) + tuple(video.shape[2:]))
  encode = tf.function(lambda x: model.encoder(x, training=False))
  encoder_flops = machine.graph_flops(encode.get_concrete_function(frame))
  h, skips = encode(frame)
  decode = tf.function(lambda h, skips: model.decoder((h, skips), training=False))
  decoder_flops = machine.graph_flops(decode.get_concrete_function(h, skips))
  rows = int(video.shape[0]) * num_samples
  return (int(video.shape[0]) * num_context * encoder_flops
          + rows * num_future * (encoder_flops + decoder_flops))


def main(argv):
  del argv
  import keras  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  from tfgen.evaluation import evaluate  # pylint: disable=g-import-not-at-top
  from tfgen.models import factory  # pylint: disable=g-import-not-at-top
  from tfgen.utils import config_loader  # pylint: disable=g-import-not-at-top
  from tfgen.utils import machine  # pylint: disable=g-import-not-at-top

  peaks = machine.print_header(size=FLAGS.peak_size)
  if FLAGS.workdir:
    config = evaluate.load_config(FLAGS.workdir)
    model, path = evaluate.load_model(FLAGS.workdir, config)
    print(f"model: {path}")
  else:
    config = config_loader.load("svg_lp", "smmnist", "quick" if FLAGS.quick else None)
    keras.utils.set_random_seed(config.train.seed)
    model = factory.build_model(config.model)
    model.build()
    print(f"model: random {'quick' if FLAGS.quick else 'full-size'} svg_lp")
  num_samples = FLAGS.num_samples if model.stochastic else 1
  num_context, num_future = model.num_context_frames, FLAGS.num_future_frames
  video = next(iter(evaluate.test_dataset(config, num_context + num_future,
                                          FLAGS.num_sequences, FLAGS.num_sequences)))
  num_sequences = int(video.shape[0])
  truth = video.numpy()[:, num_context:]
  print(f"sequences={num_sequences} N={num_samples} context={num_context} "
        f"future={num_future} frame={tuple(video.shape[2:])}")

  # --- tfgen: one batched generate + in-graph metrics.
  scorer = evaluate.make_scorer(model, num_context, num_future, num_samples, METRICS,
                                return_samples=True, frame_shape=tuple(video.shape[2:]))
  seed = tf.constant([FLAGS.seed, 0], tf.int64)
  scorer(video[:1], seed)  # Trace.
  start = time.perf_counter()
  out = scorer(video, seed)
  vector_scores = {name: out[name].numpy() for name in METRICS}  # (B, N, F)
  samples = out["samples"].numpy()
  tfgen_seconds = time.perf_counter() - start
  print(f"tfgen_seconds={tfgen_seconds:.3f}")
  flops = generation_flops(model, video, num_context, num_future, num_samples)
  fraction = machine.fraction_of_peak(flops / tfgen_seconds, peaks)
  print(f"tfgen_gflop={flops / 1e9:.1f} tfgen_gflop_per_second="
        f"{flops / tfgen_seconds / 1e9:.1f}")

  # --- the per-sample loop with scikit-image metrics.
  @tf.function(input_signature=[
      tf.TensorSpec((None, num_context) + tuple(video.shape[2:]), tf.float32),
      tf.TensorSpec((2,), tf.int64)])
  def one_sample(context, seed):
    return model.generate(context, num_future, 1, seed=seed)["samples"][:, 0]

  context = video[:, :num_context]
  one_sample(context[:1], tf.constant([FLAGS.seed, 0], tf.int64))  # Trace.
  start = time.perf_counter()
  loop_scores = {name: np.zeros((num_sequences, num_samples, num_future)) for name in METRICS}
  loop_model_seconds = 0.0
  for s in range(num_samples):
    model_start = time.perf_counter()
    frames = one_sample(context, tf.constant([FLAGS.seed, s], tf.int64)).numpy()
    loop_model_seconds += time.perf_counter() - model_start
    for b in range(num_sequences):
      for name, values in skimage_scores(truth[b], frames[b]).items():
        loop_scores[name][b, s] = values
  loop_seconds = time.perf_counter() - start
  print(f"loop_seconds={loop_seconds:.3f} (sampling {loop_model_seconds:.3f}, scikit-image "
        f"metrics {loop_seconds - loop_model_seconds:.3f})")

  # --- check: scikit-image on the vectorised path's own frames gives its scores.
  for name in METRICS:
    reference = np.zeros_like(vector_scores[name])
    for b in range(num_sequences):
      for s in range(num_samples):
        reference[b, s] = skimage_scores(truth[b], samples[b, s])[name]
    diff = float(np.max(np.abs(reference - vector_scores[name])))
    print(f"max_abs_diff_{name}={diff:.3g}")
    if not diff <= 1e-4:
      raise SystemExit(f"Mismatch: {name} differs from scikit-image by {diff}.")
  for label, scores in (("tfgen", vector_scores), ("loop", loop_scores)):
    selected, _ = evaluate.select(scores, "reference")
    print(f"{label}_best_of_N: " + ", ".join(f"{name} {selected[name].mean():.4f}"
                                             for name in METRICS))
  # The frames both sides must generate bound the ratio: tfgen cannot take less than its
  # own sampling time, so loop_seconds / tfgen_seconds <= loop_seconds / (tfgen sampling).
  print(f"loop_metric_share={(loop_seconds - loop_model_seconds) / loop_seconds:.3f}")
  print(f"tfgen_sequences_per_second={num_sequences / tfgen_seconds:.4g}")
  print(f"loop_sequences_per_second={num_sequences / loop_seconds:.4g}")
  print(f"speedup={loop_seconds / tfgen_seconds:.3f}")
  print(f"fraction_of_float32_peak={fraction:.3f}")


if __name__ == "__main__":
  app.run(main)
