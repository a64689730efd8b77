"""DrNET on two-colour Moving MNIST (thesis §5.3.2, Fig. 5.3; SPEC §2, DRNET_FACTS §1).

Run (reference scale: batch 100, 200 epochs x 600 iterations = 120,000 steps; about 2.5
days on 2 CPU cores: 1.8 s/step measured on a quiet 2-core AVX-512 EPYC (2.2 s/step on a
busy one), 2.8 GB of memory; drnet-py's own iteration takes 1.7 s/step on the same CPU,
`benchmarks/train_throughput.py --model=drnet`):

  python -m tfgen.bin.train --model=drnet --dataset=mnist --workdir=/tmp/drnet_mnist

Quick variant (networks of width 16, batch 16, 500 steps; about 1 minute on 2 CPU cores,
48 s measured with 42 s of training, 1.5 GB; offline it trains on the MNIST subset shipped
with tfgen). It checks that everything runs, not the thesis's results: at 500-1,200 steps
the reconstructions are coloured blobs that follow the digits' poses.

  python -m tfgen.bin.train --model=drnet --dataset=mnist --workdir=/tmp/drnet_quick --quick

Small-scale reproduction (issue 11 item 6: about an hour on 2 CPU cores for the pair;
the thesis's Table 5.1 finding, run twice, with the adversarial term and without it):

  python -m tfgen.bin.train --model=drnet --dataset=mnist --variant=repro \
      --workdir=/tmp/drnet_repro --data_dir=/path/to/mnist.npz
  python -m tfgen.bin.train --model=drnet --dataset=mnist --variant=repro_beta0 \
      --workdir=/tmp/drnet_repro_beta0 --data_dir=/path/to/mnist.npz
  python -m tfgen.bin.classify_vectors --workdir=/tmp/drnet_repro --vector=content
  python -m tfgen.bin.classify_vectors --workdir=/tmp/drnet_repro --vector=pose
  (the same two for /tmp/drnet_repro_beta0)

"repro" is the thesis's model at half width (base_filters 32), batch 50, 4,000 steps;
"repro_beta0" the same with beta = 0 (no adversarial term; C still trains, so its accuracy
shows how much scene identity the pose vectors carry). Timing on a 2-core AMD EPYC (AVX-512,
avx512_bf16): 0.69 s/step on one core alone (60-step timing); the two runs side by side,
one core each (`taskset -c 0` / `-c 1`), took 52.5 min each, measured (1.3-1.6 step/s,
1.7 GB each). README "Reproducing the thesis's findings at small scale" reports what they
measured.

Hyper-parameters, the thesis's MNIST model: DCGAN content and pose encoders and a DCGAN
decoder without skips (`content_encoder="dcgan"`), |h_c| 128, |h_p| 5, both L2-normalised
("the final layer ... normalizes the pose/content vectors to have unit norm", thesis
§5.3.1; drnet-py's `--normalize` does only the pose), scene discriminator 2 x 100 hidden
units, alpha 1, beta 0.1, thesis labels (same clip = 1). Optimisation as drnet-py: Adam lr
0.002, betas (0.5, 0.999), epsilon 1e-8 (torch's), one optimiser for C and one for E_c, E_p
and D, batch 100, 200 x 600 steps. Parameters: E_c 3,807,424, E_p 2,799,439, D 3,848,003,
C 11,301 (DRNET_FACTS §3 "mnist_thesis").

Data: 2 MNIST digits in the red and green channels, deterministic bounces, velocities in
-4..4 (`data.options.velocities="reference"` for drnet-py's -4..3), clips of 20 frames
(drnet-py's `--max_step`). The four frames of a step follow the thesis (`frame_sampling`
"thesis": content x^t, similarity target and pose x^{t+k}, adversarial pair (x^t, x^{t+k}),
k uniform in [0, K]); the thesis gives no K for MNIST: K = 10 is tfgen's choice, near the
Lua original's pose offsets of 2..11 frames. "consecutive" is drnet-py's MNIST choice
(frames 0, 1, 2, 3 of each clip), "independent" its KTH one
(`tfgen/models/drnet/frame_sampling.py`).

Pictures (`samples/` and TensorBoard): per test clip its frames over D(E_c(x^0), E_p(x^k)),
then the analogy grid: the content of each clip's first frame with the poses of clip 0.
"""

import ml_collections


def get_config(variant=None):
  """Returns the config; `variant` None, "quick", "repro" or "repro_beta0" (see above)."""
  config = ml_collections.ConfigDict()
  config.model_name = "drnet"

  config.model = ml_collections.ConfigDict(dict(
      name="drnet",
      image_size=64,
      channels=3,
      content_dim=128,
      pose_dim=5,
      content_encoder="dcgan",
      pose_encoder="dcgan",
      sd_nf=100,
      normalize_pose=True,
      normalize_content=True,
      alpha=1.0,
      beta=0.1,
      discriminator_labels="thesis",
      # Each frame in its own batch-norm batch, as drnet-py.
      fold_frames=False,
      base_filters=64,
      synchronized_batch_norm=True,
      # PyTorch's running variance (unbiased); "biased" is Keras's rule.
      batch_norm_moving_variance="unbiased",
      seed=1,
  ))

  config.data = ml_collections.ConfigDict(dict(
      name="mnist",
      data_dir=ml_collections.FieldReference(None, field_type=str),
      num_frames=20,
      # Which four frames of a clip a step sees: "thesis", "consecutive" or "independent".
      frame_sampling="thesis",
      max_offset=10,  # The thesis's K ("thesis" only).
      options=ml_collections.ConfigDict(dict(
          num_digits=2,
          velocities="symmetric",
      )),
  ))

  config.train = ml_collections.ConfigDict(dict(
      batch_size=100,
      steps=200 * 600,  # drnet-py: 200 epochs of 600 iterations.
      optimizer="adam",
      learning_rate=0.002,
      beta1=0.5,
      beta2=0.999,
      epsilon=1e-8,
      seed=1,
      precision="float32",
      # XLA over the whole step measured slower here (4.0 against 2.2 s/step on 2 cores).
      jit_compile=False,
      log_every=50,
      checkpoint_every=1000,
      image_every=5000,
      max_checkpoints_to_keep=3,
      num_image_sequences=8,
      num_image_samples=1,  # Unused: DrNET's pictures are deterministic.
  ))

  if variant == "quick":
    config.model.update(dict(base_filters=16))
    config.train.update(dict(batch_size=16, steps=500, log_every=10,
                             checkpoint_every=100, image_every=500,
                             jit_compile=False))
  elif variant in ("repro", "repro_beta0"):
    config.model.update(dict(base_filters=32, beta=0.1 if variant == "repro" else 0.0))
    config.train.update(dict(batch_size=50, steps=4000, log_every=50, checkpoint_every=500,
                             image_every=1000))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick', 'repro', "
                     "'repro_beta0'.")
  return config
