"""Tests of `tfgen.layers.scene_discriminator.SceneDiscriminator`."""

import numpy as np
import tensorflow as tf

from tests import test_case
from tfgen.layers.scene_discriminator import SceneDiscriminator

BATCH, POSE, HIDDEN = 3, 5, 7


class SceneDiscriminatorTest(test_case.TestCase):

  @test_case.parameterized.named_parameters(
      # DRNET_FACTS.md §3, netC with sd_nf 100.
      ("pose_5", 5, 11_301),
      ("pose_10", 10, 12_301),
      ("pose_16", 16, 13_501),
  )
  def test_trainable_parameter_count(self, pose_dim, expected):
    discriminator = SceneDiscriminator(hidden_units=100)
    discriminator.build(((None, pose_dim), (None, pose_dim)))
    self.assertEqual(test_case.count_parameters(discriminator), expected)

  def test_logits_against_numpy(self):
    # relu MLP on concat([pose_1, pose_2]) (first pose first), no final sigmoid.
    discriminator = SceneDiscriminator(hidden_units=HIDDEN)
    rng = np.random.default_rng(0)
    pose_1 = rng.normal(size=(BATCH, POSE)).astype("float32")
    pose_2 = rng.normal(size=(BATCH, POSE)).astype("float32")
    logits = discriminator((pose_1, pose_2))
    self.assertEqual(logits.shape, (BATCH,))
    self.assertEqual(logits.dtype, tf.float32)

    x = np.concatenate([pose_1, pose_2], axis=1)
    for layer in discriminator.hidden:
      x = np.maximum(x @ layer.kernel.numpy() + layer.bias.numpy(), 0.0)
    expected = (x @ discriminator.out.kernel.numpy() + discriminator.out.bias.numpy())[:, 0]
    self.assertCloseForAccumulation(logits, expected, accumulation_length=2 * POSE)
    # The order of the pair matters (the inputs are not symmetrised).
    self.assertNotAllClose(discriminator((pose_2, pose_1)), logits)

  def test_config_round_trip(self):
    discriminator = SceneDiscriminator(hidden_units=HIDDEN, num_hidden_layers=3)
    clone = self.run_config_round_trip(discriminator)
    self.assertLen(clone.hidden, 3)
    self.run_serialization_round_trip(discriminator)


if __name__ == "__main__":
  tf.test.main()
