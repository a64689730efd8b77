"""Compiles the pipeline of every registered model to KFP IR and checks the YAML."""

import os

import tensorflow as tf
import yaml

from pipelines import kfp_pipeline
from pipelines import run as run_lib
from pipelines import shapes
from tests import test_case

TFX_ORDER = ["ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Trainer",
             "Evaluator", "InfraValidator", "Pusher"]
# task -> the tasks whose outputs it consumes.
EXPECTED_DEPENDENCIES = {
    "statistics-gen": {"example-gen"},
    "schema-gen": {"statistics-gen"},
    "example-validator": {"statistics-gen", "schema-gen"},
    "trainer": {"example-gen", "example-validator"},
    "evaluator": {"trainer", "example-gen"},
    "infra-validator": {"trainer"},
    "pusher": {"trainer", "evaluator", "infra-validator"},
}
DATASET = {"svg_lp": "smmnist", "svg_fp": "smmnist", "svg_det": "smmnist", "drnet": "mnist"}


def _compile(shape, path, arguments=None, image="registry.example/tfgen:1"):
  from kfp import compiler  # pylint: disable=g-import-not-at-top
  compiler.Compiler().compile(kfp_pipeline.build(shape, image), path,
                              pipeline_parameters=arguments)
  with open(path) as f:
    return yaml.safe_load(f)


def _dependencies(spec):
  tasks = spec["root"]["dag"]["tasks"]
  return {name: set(task.get("dependentTasks", [])) for name, task in tasks.items()}


class KfpPipelineTest(test_case.TestCase):

  def test_every_model_compiles_with_components_dependencies_and_parameters(self):
    self.assertEqual(set(shapes.models()), set(DATASET))
    for model in shapes.models():
      with self.subTest(model=model):
        root = self.make_temp_dir()
        shape, arguments = run_lib.pipeline_arguments(
            model, DATASET[model], root, quick=True, steps=7,
            thresholds=[f"{next(iter(shapes.get(model).thresholds))}:0.25"],
            code_version="v-test")
        arguments.pop("run_id")
        spec = _compile(shape, os.path.join(root, "pipeline.yaml"), arguments)
        self.assertEqual(spec["pipelineInfo"]["name"], f"tfgen-{model}".replace("_", "-"))
        tasks = spec["root"]["dag"]["tasks"]
        self.assertEqual([tasks[t]["taskInfo"]["name"] for t in
                          ["example-gen", "statistics-gen", "schema-gen", "example-validator",
                           "trainer", "evaluator", "infra-validator", "pusher"]], TFX_ORDER)
        self.assertEqual(_dependencies(spec), dict(EXPECTED_DEPENDENCIES, **{"example-gen": set()}))
        # Every component runs in the given image and calls pipelines.components.
        executors = spec["deploymentSpec"]["executors"]
        self.assertLen(executors, 8)
        for executor in executors.values():
          self.assertEqual(executor["container"]["image"], "registry.example/tfgen:1")
          self.assertIn("from pipelines import components", executor["container"]["command"][-1])
        # The run's parameters are the pipeline's defaults.
        parameters = spec["root"]["inputDefinitions"]["parameters"]
        self.assertEqual(parameters["steps"]["defaultValue"], 7)
        self.assertEqual(parameters["variant"]["defaultValue"], "quick")
        self.assertEqual(parameters["dataset"]["defaultValue"], DATASET[model])
        self.assertEqual(parameters["code_version"]["defaultValue"], "v-test")
        self.assertIn(":0.25", parameters["thresholds"]["defaultValue"].replace(": ", ":"))
        trainer_inputs = tasks["trainer"]["inputs"]["parameters"]
        self.assertEqual(trainer_inputs["config_model"]["runtimeValue"]["constant"],
                         shape.stages[0].config_model)
        self.assertEqual(trainer_inputs["steps"]["componentInputParameter"], "steps")
        self.assertEqual(trainer_inputs["examples"]["taskOutputParameter"]["producerTask"],
                         "example-gen")

  def test_two_stage_shape_chains_its_trainers(self):
    # The shape a DrNET pose-LSTM stage will have (pipelines.shapes docstring).
    shape = shapes.PipelineShape(
        model="two_stage", evaluation="pipelines.evaluation", thresholds={"ssim": 0.0},
        stages=(shapes.TrainingStage("first", config_model="svg_lp"),
                shapes.TrainingStage("second", config_model="svg_lp", after="first",
                                     upstream_field="model.seed")))
    spec = _compile(shape, os.path.join(self.make_temp_dir(), "p.yaml"))
    tasks = spec["root"]["dag"]["tasks"]
    self.assertEqual(tasks["trainer"]["taskInfo"]["name"], "Trainer-first")
    self.assertEqual(tasks["trainer-2"]["taskInfo"]["name"], "Trainer-second")
    self.assertEqual(set(tasks["trainer-2"]["dependentTasks"]),
                     {"trainer", "example-gen", "example-validator"})
    upstream = tasks["trainer-2"]["inputs"]["parameters"]["upstream"]
    self.assertEqual(upstream["taskOutputParameter"]["producerTask"], "trainer")
    for consumer in ("evaluator", "infra-validator", "pusher"):
      self.assertIn("trainer-2", tasks[consumer]["dependentTasks"])
      self.assertNotIn("trainer", tasks[consumer]["dependentTasks"])

  def test_registry_refuses_bad_shapes(self):
    with self.assertRaisesRegex(ValueError, "registered twice"):
      shapes.register(shapes.get("svg_lp"))
    with self.assertRaisesRegex(ValueError, "not an earlier stage"):
      shapes.register(shapes.PipelineShape(
          model="bad", evaluation="x", thresholds={},
          stages=(shapes.TrainingStage("a", "svg_lp", after="b", upstream_field="f"),)))
    with self.assertRaisesRegex(ValueError, "parallel stages are not built yet"):
      shapes.register(shapes.PipelineShape(
          model="lapgan_like", evaluation="x", thresholds={},
          stages=(shapes.TrainingStage("levels", "svg_lp", parallel_over="model.levels"),)))
    with self.assertRaisesRegex(ValueError, "valid models: drnet, svg_det, svg_fp, svg_lp"):
      shapes.get("lapgan")


if __name__ == "__main__":
  tf.test.main()
