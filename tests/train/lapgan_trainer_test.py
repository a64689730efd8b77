"""The trainer on a LAPGAN level: exact resume with two optimisers and their schedules."""

import os

import tensorflow as tf

from tests import test_case
from tests.models.lapgan import tiny
from tfgen.models.lapgan import training
from tfgen.train import trainer as trainer_lib
from tfgen.train import workdir as workdir_lib


class LAPGANTrainerTest(test_case.TestCase):

  def test_exact_resume(self, level=0):
    # 2N steps in one run equal N steps, a restart, and N more: weights, both optimisers'
    # velocities and iterations, the learning-rate and momentum schedules (an epoch of 2
    # steps: they change at every resume point), the data stream and the noise seeds.
    straight = self.make_temp_dir()
    trainer_lib.train(tiny.tiny_config(steps=4, level=level), straight)
    resumed = self.make_temp_dir()
    trainer_lib.train(tiny.tiny_config(steps=2, level=level), resumed)
    trainer_lib.train(tiny.tiny_config(steps=4, level=level), resumed)
    a = workdir_lib.load_model(training.level_dir(straight, level))[0]
    b = workdir_lib.load_model(training.level_dir(resumed, level))[0]
    for x, y in zip(a.get_weights(), b.get_weights()):
      self.assertAllClose(x, y, rtol=1e-5, atol=1e-6)
    # The optimisers' state too (velocities, iterations).
    states = []
    for workdir in (straight, resumed):
      config = training.level_config(tiny.tiny_config(steps=4, level=level), level)
      trainer = trainer_lib.Trainer(config, training.level_dir(workdir, level))
      model, _, examples_seen = trainer._build()  # pylint: disable=protected-access
      step = trainer._new_step_counter()  # pylint: disable=protected-access
      path = tf.train.latest_checkpoint(
          os.path.join(training.level_dir(workdir, level), "checkpoints"))
      trainer._restore(path, model, examples_seen, step)  # pylint: disable=protected-access
      states.append((int(step.numpy()), int(examples_seen.numpy()),
                     [v.numpy() for v in model.discriminator_optimizer.variables],
                     [v.numpy() for v in model.optimizer.variables]))
    self.assertEqual(states[0][:2], (4, 4 * 8))
    self.assertEqual(states[0][:2], states[1][:2])
    for x, y in zip(states[0][2] + states[0][3], states[1][2] + states[1][3]):
      self.assertAllClose(x, y, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
  tf.test.main()
