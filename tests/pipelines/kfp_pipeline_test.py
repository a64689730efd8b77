"""Compiles the pipeline of every registered model to KFP IR and checks the YAML."""

import json
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
DATASET = {"svg_lp": "smmnist", "svg_fp": "smmnist", "svg_det": "smmnist", "drnet": "mnist",
           "drnet_lstm": "mnist", "lapgan": "mnist_digits"}
MULTI_STAGE = {"drnet_lstm", "lapgan"}  # their own tests below


def _compile(shape, path, arguments=None, image="registry.example/tfgen:1", items=None):
  from kfp import compiler  # pylint: disable=g-import-not-at-top
  compiler.Compiler().compile(kfp_pipeline.build(shape, image, items), path,
                              pipeline_parameters=arguments)
  with open(path) as f:
    return yaml.safe_load(f)


def _dependencies(spec):
  tasks = spec["root"]["dag"]["tasks"]
  return {name: set(task.get("dependentTasks", [])) for name, task in tasks.items()}


class KfpPipelineTest(test_case.TestCase):

  def test_every_model_compiles_with_components_dependencies_and_parameters(self):
    self.assertEqual(set(shapes.models()), set(DATASET))
    for model in sorted(set(shapes.models()) - MULTI_STAGE):
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

  def _compile_model(self, model, **kwargs):
    root = self.make_temp_dir()
    shape, arguments = run_lib.pipeline_arguments(model, DATASET[model], root, quick=True,
                                                  steps=7, code_version="v-test", **kwargs)
    arguments.pop("run_id")
    items = run_lib.stage_items(shape, arguments)
    spec = _compile(shape, os.path.join(root, "pipeline.yaml"), arguments, items=items)
    return spec, spec["root"]["dag"]["tasks"], items

  def test_drnet_lstm_trains_drnet_then_the_pose_lstm_on_it(self):
    spec, tasks, items = self._compile_model("drnet_lstm")
    self.assertEqual(items, {})
    self.assertEqual(tasks["trainer"]["taskInfo"]["name"], "Trainer-drnet")
    self.assertEqual(tasks["trainer-2"]["taskInfo"]["name"], "Trainer-pose_lstm")
    first = tasks["trainer"]["inputs"]["parameters"]
    second = tasks["trainer-2"]["inputs"]["parameters"]
    self.assertEqual(first["config_model"]["runtimeValue"]["constant"], "drnet")
    self.assertEqual(second["config_model"]["runtimeValue"]["constant"], "drnet_lstm")
    # The LSTM reads the DrNET Trainer's artifact as --config.drnet_workdir.
    self.assertEqual(second["upstream"]["taskOutputParameter"]["producerTask"], "trainer")
    self.assertEqual(second["upstream_field"]["runtimeValue"]["constant"], "drnet_workdir")
    self.assertEqual(first["upstream_field"]["runtimeValue"]["constant"], "")
    self.assertEqual(set(tasks["trainer-2"]["dependentTasks"]),
                     {"trainer", "example-gen", "example-validator"})
    for consumer in ("evaluator", "infra-validator", "pusher"):
      self.assertIn("trainer-2", tasks[consumer]["dependentTasks"])
      self.assertNotIn("trainer", tasks[consumer]["dependentTasks"])
    # Best-of-N test clips: 5 observed + 20 predicted frames.
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    self.assertEqual(parameters["test_num_frames"]["defaultValue"], 25)
    self.assertIn("ssim", parameters["thresholds"]["defaultValue"] + str(
        shapes.get("drnet_lstm").thresholds))

  def test_lapgan_trains_its_levels_in_parallel_then_assembles(self):
    spec, tasks, items = self._compile_model("lapgan")
    self.assertEqual(items, {"levels": [2, 1, 0]})  # 28 -> 14 -> 7, coarsest first
    loops = [name for name, task in tasks.items() if "parameterIterator" in task]
    self.assertLen(loops, 1)
    loop = tasks[loops[0]]
    self.assertEqual(json.loads(loop["parameterIterator"]["items"]["raw"]), ["2", "1", "0"])
    self.assertEqual(set(loop["dependentTasks"]), {"example-gen", "example-validator"})
    # The loop's body: one Trainer per level, config.lapgan.level = the loop item.
    body = spec["root"]["dag"]["tasks"][loops[0]]["componentRef"]["name"]
    inner = spec["components"][body]["dag"]["tasks"]
    self.assertEqual([t["taskInfo"]["name"] for t in inner.values()], ["Trainer-levels"])
    level_inputs = next(iter(inner.values()))["inputs"]["parameters"]
    self.assertEqual(level_inputs["parallel_field"]["runtimeValue"]["constant"], "lapgan.level")
    self.assertEqual(level_inputs["parallel_item"]["componentInputParameter"],
                     loop["parameterIterator"]["itemInput"])
    self.assertEqual(level_inputs["config_model"]["runtimeValue"]["constant"], "lapgan")
    # The assembling Trainer takes the collected level artifacts; it alone is exported.
    assemble = tasks["trainer-2"]
    self.assertEqual(assemble["taskInfo"]["name"], "Trainer-assemble")
    self.assertIn(loops[0], assemble["dependentTasks"])
    gathered = assemble["inputs"]["parameters"]["gathered"]
    self.assertEqual(gathered["taskOutputParameter"]["producerTask"], loops[0])
    self.assertEqual(assemble["inputs"]["parameters"]["parallel_field"]["runtimeValue"]
                     ["constant"], "")
    for consumer in ("evaluator", "infra-validator", "pusher"):
      self.assertIn("trainer-2", tasks[consumer]["dependentTasks"])
      self.assertNotIn(loops[0], tasks[consumer]["dependentTasks"])
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    self.assertEqual(json.loads(parameters["thresholds"]["defaultValue"]), {})
    self.assertEqual(shapes.get("lapgan").thresholds.keys(), {"parzen_log_likelihood"})
    # One level chosen by the user: one loop item.
    _, tasks, items = self._compile_model("lapgan", overrides=["lapgan.level=1"])
    self.assertEqual(items, {"levels": [1]})

  def test_parallel_stage_needs_its_items(self):
    with self.assertRaisesRegex(ValueError, "pass its items"):
      kfp_pipeline.build(shapes.get("lapgan"))

  def test_lapgan_blessing_metric_from_results(self):
    from pipelines import evaluation_lapgan  # pylint: disable=g-import-not-at-top
    document = {"results": {"parzen": {"mean": 212.5, "standard_error": 2.0, "sigma": 0.2},
                            "parzen_multiscale": {"skipped": "one level"}}}
    self.assertEqual(evaluation_lapgan.metrics_of(document),
                     {"parzen_log_likelihood": 212.5, "parzen_standard_error": 2.0,
                      "parzen_sigma": 0.2})
    self.assertTrue(evaluation_lapgan.HIGHER_IS_BETTER["parzen_log_likelihood"])
    document["results"]["parzen"]["mean"] = float("nan")
    self.assertEqual(evaluation_lapgan.metrics_of(document)["parzen_log_likelihood"],
                     float("-inf"))

  def test_registry_refuses_bad_shapes(self):
    with self.assertRaisesRegex(ValueError, "registered twice"):
      shapes.register(shapes.get("svg_lp"))
    with self.assertRaisesRegex(ValueError, "not an earlier stage"):
      shapes.register(shapes.PipelineShape(
          model="bad", evaluation="x", thresholds={},
          stages=(shapes.TrainingStage("a", "svg_lp", after="b", upstream_field="f"),)))
    with self.assertRaisesRegex(ValueError, "both `parallel_over` and `parallel_items`"):
      shapes.register(shapes.PipelineShape(
          model="lapgan_like", evaluation="x", thresholds={},
          stages=(shapes.TrainingStage("levels", "lapgan", parallel_over="lapgan.level"),
                  shapes.TrainingStage("assemble", "lapgan", after="levels"))))
    with self.assertRaisesRegex(ValueError, "cannot be the exported stage"):
      shapes.register(shapes.PipelineShape(
          model="lapgan_like", evaluation="x", thresholds={},
          stages=(shapes.TrainingStage("levels", "lapgan", parallel_over="lapgan.level",
                                       parallel_items="m:f"),)))
    with self.assertRaisesRegex(ValueError, "takes the collected work directories"):
      shapes.register(shapes.PipelineShape(
          model="lapgan_like", evaluation="x", thresholds={},
          stages=(shapes.TrainingStage("levels", "lapgan", parallel_over="lapgan.level",
                                       parallel_items="m:f"),
                  shapes.TrainingStage("assemble", "lapgan", after="levels",
                                       upstream_field="x"))))
    self.assertNotIn("lapgan_like", shapes.models())
    with self.assertRaisesRegex(
        ValueError, "valid models: drnet, drnet_lstm, lapgan, svg_det, svg_fp, svg_lp"):
      shapes.get("gan")


if __name__ == "__main__":
  tf.test.main()
