"""DrNET on smallNORB azimuth sweeps, 64x64 grey (thesis §5.3.2, Fig. 5.4; Table 5.1).

Put the six smallNORB files (`.mat` or `.mat.gz`, from
https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/) in NORB_DIR, then train (reference scale:
batch 100, 200 epochs x 600 iterations = 120,000 steps; on 2 shared CPU cores 0.7-1.2
s/step measured at batch 16 with 1.5 GB of memory, so roughly 6 s/step at batch 100: about
8 days):

  python -m tfgen.bin.train --model=drnet --dataset=norb --data_dir=NORB_DIR \
      --workdir=/tmp/drnet_norb

Quick variant (networks of width 16, batch 16, 500 steps; about 1.5 minutes on 2 CPU cores,
93 s measured with 0.11 s/step, 1.2 GB). It checks that everything runs, not the thesis's
results:

  python -m tfgen.bin.train --model=drnet --dataset=norb --data_dir=NORB_DIR \
      --workdir=/tmp/drnet_norb_quick --quick

Hyper-parameters, the thesis's NORB model (§5.3.1) as near as tfgen's networks come: the
thesis uses ResNet-18 up to the final pooling for both encoders and a DCGAN decoder. tfgen's
(and drnet-py's) DrNet has no ResNet content encoder (content encoders: dcgan, dcgan_unet,
vgg_unet; pose encoders: dcgan, resnet), so here E_p is the ResNet-18 (`pose_encoder=
"resnet"`, drnet-py's `resnet_64`) and E_c the DCGAN encoder without skips with the DCGAN
decoder (`content_encoder="dcgan"`), the thesis's decoder. |h_c| 128, |h_p| 10 (the thesis;
DRNET_FACTS §1), no L2 normalisation (the thesis normalises only on MNIST), scene
discriminator 2 x 100 hidden units, alpha 1, beta 0.1, thesis labels (same clip = 1).
Optimisation as drnet-py: Adam lr 0.002, betas (0.5, 0.999), epsilon 1e-8, batch 100,
200 x 600 steps.

Data (`tfgen.data.smallnorb`): a clip is one 18-image azimuth sweep of one object at one
elevation and lighting (content fixed, pose changing), from a random start azimuth; the
first camera, area-resized from 96 to 64. Training clips come from the training instances,
test clips (pictures) from the held-out ones. `frame_sampling` "thesis": content x^t,
similarity target and pose x^{t+k}, adversarial pair (x^t, x^{t+k}), k uniform in [0, K];
the thesis gives no K: K = 17, any two azimuths of a sweep, is tfgen's choice.
"""

import ml_collections

from configs import drnet_mnist


def get_config(variant=None):
  """Returns the config; `variant` "quick" (minutes on a CPU, see above) or None."""
  config = drnet_mnist.get_config(variant)
  config.model_name = "drnet"

  config.model.update(dict(
      channels=1,
      content_dim=128,
      pose_dim=10,
      content_encoder="dcgan",
      pose_encoder="resnet",
      normalize_pose=False,
      normalize_content=False,
      beta=0.1,
  ))

  config.data.name = "norb"
  config.data.num_frames = 18  # One whole azimuth sweep.
  config.data.frame_sampling = "thesis"
  config.data.max_offset = 17  # The thesis's K (tfgen's choice, see above).
  # Only options `tfgen.data.smallnorb.build` accepts.
  config.data.options = ml_collections.ConfigDict(dict(image_size=64, camera="first"))
  return config
