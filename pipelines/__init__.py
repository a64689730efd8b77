"""tfgen's TFX-style pipeline: ExampleGen, StatisticsGen, SchemaGen, ExampleValidator,
Trainer, Evaluator, InfraValidator, Pusher, orchestrated by Kubeflow Pipelines v2
(`kfp.local` on one machine, KFP / Vertex AI from the compiled YAML), ExampleGen on Apache
Beam, training through tfgen's one trainer.

  python -m pipelines.run --model=svg_lp --dataset=smmnist --pipeline_root=R --quick
  python -m pipelines.lineage --pipeline_root=R

Modules: `run` (the command), `kfp_pipeline` (KFP components and DAG, built from a
`shapes` entry), `components` (what each component does, as library functions),
`artifacts` (fingerprints, caching, resumption, lineage), `example_gen`, `statistics`,
`evaluation`, `lineage`.
"""
