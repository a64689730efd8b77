"""SVG-LP on Stochastic Moving MNIST, 2 digits (thesis §6.3.1, Fig. 6.2-6.4).

Run (reference scale: batch 100, 300 epochs x 600 steps; days on a CPU, hours on a GPU):

  python -m tfgen.bin.train --model=svg_lp --dataset=smmnist --workdir=/tmp/svg_lp_smmnist

Quick variant (narrow networks, batch 16, 300 steps; ~3-5 minutes on 2 CPU cores):

  python -m tfgen.bin.train --model=svg_lp --dataset=smmnist --workdir=/tmp/svg_quick --quick

Fast reproduction variant `repro` (single digit, base_filters 16, g_dim 64, rnn_size 128,
batch 16, 3,500 steps, XLA; everything else, z_dim 10, beta 1e-4, lr 0.002, 5 -> 10 frames,
is the thesis's). It checks the thesis's two SM-MNIST findings at small scale: the learned
prior's sigma rises at wall collisions (Fig. 6.4), and SVG-LP's best-of-100 SSIM beats the
deterministic baseline once a collision made the future uncertain (Fig. 6.8). Commands (the
two trainings run side by side, one core each):

  W=workdirs/repro
  export TF_NUM_INTRAOP_THREADS=1
  python -m tfgen.bin.train --model=svg_lp  --dataset=smmnist --variant=repro --workdir=$W/lp &
  python -m tfgen.bin.train --model=svg_det --dataset=smmnist --variant=repro --workdir=$W/det &
  wait; unset TF_NUM_INTRAOP_THREADS
  python -m tfgen.bin.evaluate --workdir=$W/lp  --num_test_sequences=128
  python -m tfgen.bin.evaluate --workdir=$W/det --num_test_sequences=128
  python -m tfgen.bin.analyze --workdir=$W/lp --analysis=all --baseline_workdir=$W/det
  python -m tfgen.bin.analyze --workdir=$W/det --analysis=trajectories

Expected runtime on 2 CPU cores: the two trainings together ~1 h 45 min (1.75 s/step each
side by side; 1.15-1.3 s/step for one run alone), LP evaluation 8.5 min, det evaluation
20 s, analyses 3.5 min. What it measured (README "Reproducing the thesis's findings at small
scale"): prior sigma 1.63x higher at collision steps, peaking at every one of the 14
collisions; best-of-100 SSIM after the first collision LP 0.743 vs det 0.731 (paired
difference +0.013 +- 0.007). At 1,500 steps neither finding showed (ratio 1.04; LP 0.009
below det), so do not shorten the run.

Hyper-parameters are the reference's (edenton/svg README, SPEC.md §1.2): DCGAN-64,
g_dim 128, z_dim 10, rnn_size 256, predictor 2 cells, posterior and prior 1 cell each,
n_past 5, n_future 10, beta 1e-4, Adam lr 0.002 (0.9, 0.999).
"""

import ml_collections


def get_config(variant=None):
  """Returns the config; `variant` "quick" (minutes on a CPU) or "repro" (see above)."""
  config = ml_collections.ConfigDict()
  config.model_name = "svg_lp"

  config.model = ml_collections.ConfigDict(dict(
      name="svg",
      prior="learned",
      architecture="dcgan",
      image_size=64,
      channels=1,
      g_dim=128,
      z_dim=10,
      rnn_size=256,
      predictor_layers=2,
      posterior_layers=1,
      prior_layers=1,
      num_context_frames=5,
      num_future_frames=10,
      beta=1e-4,
      skip_mode="last_context",
      base_filters=64,
      lstm_init="pytorch",
      synchronized_batch_norm=True,
      # PyTorch's running variance (unbiased); "biased" is Keras's rule.
      batch_norm_moving_variance="unbiased",
      seed=1,
  ))

  config.data = ml_collections.ConfigDict(dict(
      name="smmnist",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      # Frames per training clip; the trainer checks it equals context + future.
      num_frames=15,
      options=ml_collections.ConfigDict(dict(
          num_digits=2,
          deterministic_bounce=False,
          velocity_distribution="uniform",
      )),
  ))

  config.train = ml_collections.ConfigDict(dict(
      batch_size=100,
      steps=300 * 600,  # 300 epochs of 600 iterations.
      optimizer="adam",  # The reference's --optimizer: adam, rmsprop or sgd.
      learning_rate=0.002,
      beta1=0.9,
      beta2=0.999,
      seed=1,
      # Or "mixed_bfloat16", "mixed_float16", or "auto" (bfloat16 where the hardware has
      # it: AVX512_BF16/AMX CPUs, GPUs of compute capability >= 8.0; float32 elsewhere).
      precision="float32",
      # XLA over the whole step (one device; under MirroredStrategy the trainer runs
      # without it): "auto" uses it on GPUs and AVX2 CPUs (~1.7x faster steps for ~90 s of
      # compilation) but not on AVX-512 CPUs, where TensorFlow's oneDNN kernels are
      # faster (tfgen.utils.machine.resolve_jit_compile); true / false force it.
      jit_compile=ml_collections.FieldReference("auto", field_type=object),
      log_every=50,
      checkpoint_every=1000,
      image_every=5000,
      max_checkpoints_to_keep=3,
      num_image_sequences=8,
      num_image_samples=3,
  ))

  if variant == "quick":
    config.model.update(dict(g_dim=64, rnn_size=64, base_filters=16))
    # No XLA: its compile time would outweigh the gain over 300 small steps.
    config.train.update(dict(batch_size=16, steps=300, log_every=10, checkpoint_every=100,
                             image_every=300, jit_compile=False))
  elif variant == "repro":
    # Fast reproduction (README "Reproducing the thesis's findings at small scale"):
    # single-digit SM-MNIST, narrow networks, XLA.
    config.data.options.num_digits = 1
    config.model.update(dict(g_dim=64, rnn_size=128, base_filters=16))
    config.train.update(dict(batch_size=16, steps=3500, log_every=50, checkpoint_every=250,
                             image_every=500, jit_compile=True))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick', 'repro'.")
  return config
