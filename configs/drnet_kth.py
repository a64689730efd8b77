"""DrNET on KTH actions, 64x64 grey (thesis §5.3.3, Fig. 5.6-5.9; SPEC §2, DRNET_FACTS §1).

Prepare KTH once (the six action zips and 00sequences.txt in RAW_DIR; ~10-20 minutes on 2
CPU cores, ~1 GB of TFRecords; the same preparation as SVG's KTH configs), then train
(reference scale: batch 100, 200 epochs x 600 iterations = 120,000 steps; on 2 shared CPU
cores 7.6-8.7 s/step measured at batch 16 with 2.2 GB of memory, so roughly 50 s/step at
batch 100, over two months: a GPU run; drnet-py takes 9-17 s/step at batch 16 there,
DRNET_FACTS §9):

  python -m tfgen.bin.prepare --dataset=kth --raw_dir=RAW_DIR --out_dir=/tmp/kth_64
  python -m tfgen.bin.train --model=drnet --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/drnet_kth

Without `--data_dir` the data are read from `$TFGEN_DATA_DIR/kth_64`; when KTH is not
prepared there, training stops and names the `prepare` command to run.

Quick variant (networks of width 8, batch 8, 200 steps; about 1 minute on 2 CPU cores,
56 s measured with 0.12 s/step, 1.2 GB). It checks that everything runs, not the thesis's
results:

  python -m tfgen.bin.train --model=drnet --dataset=kth --data_dir=/tmp/kth_64 \
      --workdir=/tmp/drnet_kth_quick --quick

The thesis and drnet-py's README train at 128x128 (64 "trains faster"):
`--config.model.image_size=128` (the data option follows it) with data prepared by
`python -m tfgen.bin.prepare ... --image_size=128`. At 128 the ResNet pose encoder has
drnet-py's fifth stage of 1024 channels (44.8M parameters, DRNET_FACTS §2).

Hyper-parameters, the thesis's KTH model (§5.3.1): content encoder VGG16 up to its last
pooling with U-Net skips into a mirrored decoder (`content_encoder="vgg_unet"`), ResNet-18
pose encoder (drnet-py's `resnet_64`), |h_c| 128, |h_p| 5, no L2 normalisation (the thesis
normalises only on MNIST), scene discriminator 2 x 100 hidden units, alpha 1, beta 1e-4
(also drnet-py's `--sd_weight` default), thesis labels (same clip = 1). One channel: tfgen
prepares KTH grey, as the Lua loader reads it (drnet-py reads the same grey PNGs as 3 equal
channels). Optimisation as drnet-py: Adam lr 0.002, betas (0.5, 0.999), epsilon 1e-8,
batch 100, 200 x 600 steps (the Lua README's KTH recipe, `train_drnet_skip.lua`, runs
300 x 500). Parameters: E_c 8,688,448, E_p 11,196,559, D 11,862,465, C 11,301
(DRNET_FACTS §3 "kth64_thesis_c1"; at 128: "kth128_thesis_c1").

Frames: clips of 20 frames (drnet-py's `--max_step`); `frame_sampling` "thesis": content
x^t, similarity target and pose x^{t+k}, adversarial pair (x^t, x^{t+k}), k uniform in
[0, K]. The thesis gives no K: K = 10 (0.4 s at 25 fps) is tfgen's choice, near the Lua
code's pose offsets of 2..11 frames. drnet-py instead draws the four frames independently
from the whole sub-sequence: `--config.data.frame_sampling=independent` draws them from the
20-frame clip.
"""

import ml_collections

from configs import drnet_mnist


def get_config(variant=None):
  """Returns the config; `variant` "quick" (minutes on a CPU, see above) or None."""
  config = drnet_mnist.get_config()
  config.model_name = "drnet"

  # One value for the model's and the data's frame size: overriding either moves both.
  image_size = ml_collections.FieldReference(64)
  config.model.update(dict(
      channels=1,
      content_dim=128,
      pose_dim=5,
      content_encoder="vgg_unet",
      pose_encoder="resnet",
      normalize_pose=False,
      normalize_content=False,
      beta=1e-4,
  ))
  config.model.image_size = image_size

  config.data.name = "kth"
  config.data.num_frames = 20
  config.data.frame_sampling = "thesis"
  config.data.max_offset = 10  # The thesis's K (tfgen's choice, see above).
  # Only options `tfgen.data.kth.build` accepts (image_size, num_test_sequences).
  config.data.options = ml_collections.ConfigDict(dict(image_size=image_size))

  if variant == "quick":
    config.model.update(dict(base_filters=8))
    config.train.update(dict(batch_size=8, steps=200, log_every=10, checkpoint_every=100,
                             image_every=200))
  elif variant is not None:
    raise ValueError(f"Unknown variant {variant!r}; valid: None, 'quick'.")
  return config
