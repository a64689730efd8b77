r"""Evaluating a trained LAPGAN (or plain GAN): `python -m tfgen.bin.evaluate --workdir=W`.

Everything the thesis judges LAPGAN by that a program can compute (§4.4, Table 4.1,
Fig. 4.10-4.11), with the protocol written next to every number:

- **Parzen window, single scale** (`tfgen.evaluation.parzen`, goodfeli/adversarial's
  `parzen_ll.py`): `num_samples` coarse-to-fine samples are the mixture's centres; sigma is
  the grid value of highest mean log-likelihood on the first `num_validation_images` of
  `sigma_split` ("validation": MNIST's training digits 50,000..59,999, as the reference);
  the number is the mean log-likelihood of `split` (default the test set) with its standard
  error (GAN papers) and standard deviation (thesis).
- **Parzen window, multi-scale** (`tfgen.evaluation.parzen_multiscale`, thesis eq.
  4.9-4.11) for pyramids whose sizes halve (28 -> 14 -> 7, 32 -> 16 -> 8): on the first
  `multiscale_num_images` images of `split`, each level's sigma chosen on as many of
  `sigma_split` (each image costs `num_noise_samples` generator passes per level), with
  the single-scale number on the same images beside it.
- **Feature distances** with a classifier trained by tfgen (`classifier_workdir`,
  `python -m tfgen.bin.train --model=classifier`): Fréchet distance, KID and the
  classifier score of the samples (and the score of the real images, for scale); FID with
  InceptionV3 only from a user's weights file (`inception_weights`). Each is skipped with
  a message, never faked, when its input is absent.
- **Nearest neighbours** (`tfgen.evaluation.nearest_neighbours`): the first
  `num_nn_samples` samples, each with its `num_neighbours` nearest among
  `num_train_images` training images, in pixel space (`nn_pixels.png`, Fig. 4.10) and in
  the classifier's feature space (`nn_features.png`, Fig. 4.11).

Units. The model works in z-scored units (its training data's statistics, stored in its
checkpoint); every number here is in the data's own units, images in [0, 1] as the data
sets deliver them (the GAN papers' Parzen protocol, LAPGAN_FACTS §5.1; the thesis does
not state its scaling, §5.2). Samples are mapped back by inverting the z-scoring exactly
(the affine map of `LAPGAN.from_display`) and **not clipped** unless `clip_samples`: a
Parzen window scores the model's samples as they are. The classifier and the pictures
see samples clipped to [0, 1] (the range it was trained on / can be shown).

Outputs (`output_dir`, default `W/evaluation`, replaced wholesale: written in a staging
directory that then takes its place, so results are written whole or not at all):
`results.json` (every number and the protocol), `results.csv` (one row per number),
`samples.png` (a grid of samples), `nn_pixels.png`, `nn_features.png` and `arrays.npz`
(the samples, the per-image log-likelihoods, the neighbour indices): the numbers can be
recomputed from it with `tfgen.evaluation.parzen`.

Every input is checked before any sample is drawn: a work directory without a trained
LAPGAN, non-positive sigmas, fewer samples than the Parzen batch, data of another image
shape than the model's or outside [0, 1], a classifier for other images, a missing
Inception weights file.
"""

import dataclasses
import json
import math
import os
from typing import Optional, Sequence

from absl import logging
import numpy as np
import tensorflow as tf
import tqdm

from tfgen.data import registry
from tfgen.evaluation import evaluate as evaluate_lib
from tfgen.evaluation import feature_distances
from tfgen.evaluation import nearest_neighbours as nn_lib
from tfgen.evaluation import parzen
from tfgen.evaluation import parzen_multiscale
from tfgen.utils import images as images_lib

RESULTS_FILE = "results.json"
SPLITS = ("train", "validation", "test")
DATA_RANGE = (0.0, 1.0)
# The flags of `python -m tfgen.bin.evaluate` this evaluation takes (its keyword arguments).
FLAG_NAMES = (
    "num_samples", "split", "sigma_split", "num_images", "num_validation_images",
    "sigma_grid", "batch_size", "multiscale", "multiscale_num_images", "num_noise_samples",
    "coarsest_source", "haar_form", "num_train_images", "classifier_workdir",
    "inception_weights", "num_nn_samples", "num_neighbours", "clip_samples", "output_dir",
    "seed")


@dataclasses.dataclass
class LAPGANEvaluationOptions:
  """What to compute and on what (module docstring); the flags of `tfgen.bin.evaluate`.

  Attributes:
    num_samples: model samples, the Parzen centres (parzen_ll.py `-n` 10,000; the thesis
      50,000).
    split: the images scored ("test"; the thesis scores a validation set).
    sigma_split: the images sigma is chosen on ("validation").
    num_images: the first this many images of `split` (None: all).
    num_validation_images: the first this many of `sigma_split` (parzen_ll.py `-l` 1,000).
    sigma_grid: bandwidths tried (None: the reference's logspace(-1, 0, 10)); the
      multi-scale levels use it times 2^level (orthonormal form: the same kernel widths in
      block-mean units).
    batch_size: images per Parzen block (needs num_samples >= batch_size).
    multiscale: True, False or None (auto: on when the pyramid allows it).
    multiscale_num_images: the first this many scored images get the multi-scale estimate,
      its sigmas chosen on the first this many of the `sigma_split` images.
    num_noise_samples: noise draws per level of the multi-scale estimate (the same for
      every image).
    coarsest_source: "training" (thesis: coarsened training images) or "generator".
    haar_form: "orthonormal" or "block_mean" (`tfgen.evaluation.parzen_multiscale`).
    num_train_images: training images searched for neighbours (and, coarsened, the
      multi-scale coarsest centres): the first of the training stream (seed `seed`).
    classifier_workdir: a trained `--model=classifier` run on the same images, or None.
    inception_weights: path of Keras's InceptionV3 no-top weights, or None.
    num_nn_samples: samples in the neighbour figures (rows).
    num_neighbours: neighbours per sample (k).
    clip_samples: clip samples to [0, 1] before the Parzen estimates too.
    output_dir: default `<workdir>/evaluation`.
    seed: seed of the samples, the noise and the training-image order.
  """
  num_samples: int = parzen.DEFAULT_NUM_SAMPLES
  split: str = "test"
  sigma_split: str = "validation"
  num_images: Optional[int] = None
  num_validation_images: int = parzen.DEFAULT_NUM_VALIDATION
  sigma_grid: Optional[Sequence[float]] = None
  batch_size: int = parzen.DEFAULT_BATCH_SIZE
  multiscale: Optional[bool] = None
  multiscale_num_images: int = 1000
  num_noise_samples: int = 100
  coarsest_source: str = "training"
  haar_form: str = "orthonormal"
  num_train_images: int = 10_000
  classifier_workdir: Optional[str] = None
  inception_weights: Optional[str] = None
  num_nn_samples: int = 8
  num_neighbours: int = 5
  clip_samples: bool = False
  output_dir: Optional[str] = None
  seed: int = 0

  def check(self):
    """Raises `ValueError` on an option out of range, naming it and what is valid."""
    for name in ("num_samples", "num_images", "num_validation_images", "batch_size",
                 "multiscale_num_images", "num_noise_samples", "num_train_images",
                 "num_nn_samples", "num_neighbours"):
      value = getattr(self, name)
      if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    for name in ("split", "sigma_split"):
      if getattr(self, name) not in SPLITS:
        raise ValueError(f"Unknown {name} {getattr(self, name)!r}; valid: {', '.join(SPLITS)}.")
    if self.coarsest_source not in parzen_multiscale.COARSEST_SOURCES:
      raise ValueError(f"Unknown coarsest_source {self.coarsest_source!r}; valid: "
                       f"{', '.join(parzen_multiscale.COARSEST_SOURCES)}.")
    if self.haar_form not in parzen_multiscale.FORMS:
      raise ValueError(f"Unknown haar_form {self.haar_form!r}; valid: "
                       f"{', '.join(parzen_multiscale.FORMS)}.")
    grid = parzen.DEFAULT_SIGMA_GRID if self.sigma_grid is None else self.sigma_grid
    try:
      grid = [float(s) for s in grid]
    except (TypeError, ValueError) as e:
      raise ValueError(f"sigma_grid must be a list of numbers; got {self.sigma_grid!r}.") from e
    self.sigma_grid = parzen.check_sigmas(grid, "sigma_grid").tolist()
    if self.num_samples < self.batch_size:
      raise ValueError(f"num_samples ({self.num_samples}) is fewer than the Parzen batch "
                       f"(batch_size {self.batch_size}): a Parzen estimate needs many samples "
                       f"(the reference draws {parzen.DEFAULT_NUM_SAMPLES:,}); draw more, or "
                       "lower batch_size.")
    if self.num_nn_samples > self.num_samples:
      raise ValueError(f"num_nn_samples ({self.num_nn_samples}) exceeds num_samples "
                       f"({self.num_samples}).")
    if self.num_neighbours > self.num_train_images:
      raise ValueError(f"num_neighbours ({self.num_neighbours}) exceeds num_train_images "
                       f"({self.num_train_images}).")
    if self.inception_weights is not None and not os.path.isfile(self.inception_weights):
      raise ValueError(f"inception_weights: no file at {self.inception_weights!r} (Keras's "
                       "InceptionV3 no-top weights; tfgen never downloads them).")


# ----------------------------------------------------------------------------- units


def unclipped_display(model, images):
  """z-scored images of any pyramid size -> data units ([0, 1] scale), not clipped.

  The exact inverse of the affine `model.from_display` (per pixel or per channel).
  """
  images = tf.convert_to_tensor(images, tf.float32)
  zero = model.from_display(tf.zeros_like(images))
  one = model.from_display(tf.ones_like(images))
  return (images - zero) / (one - zero)


def multiscale_applicability(model):
  """None when the multi-scale estimate applies to `model`, else the reason it does not."""
  sizes = tuple(model.sizes)
  if len(sizes) < 2:
    return "a one-level model (plain GAN) has no pyramid: the estimate is the single-scale one"
  if any(a != 2 * b for a, b in zip(sizes, sizes[1:])):
    return (f"the pyramid's sizes {sizes} do not halve from level to level, as the Haar "
            "levels of the estimate need")
  if model.levels[0].pyramid_method != "released":
    return (f"pyramid_method {model.levels[0].pyramid_method!r}: its low-pass is not the 2x2 "
            "block mean the estimate conditions on")
  if model.num_classes:
    return "a class-conditional model (the estimate is of the unconditional density)"
  return None


def level_generator(model, seed, num_noise_samples):
  """`parzen_multiscale`'s `level_generator` for a `LAPGAN`, in data units (not clipped).

  `coarse` (block means of [0, 1] images) is z-scored with the model's statistics,
  enlarged with the level's own u, and G_k adds its residual for every noise draw.
  """

  @tf.function(reduce_retracing=True)
  def generate(level, coarse, noise):
    lvl = model.levels[level]
    batch, draws = tf.shape(coarse)[0], tf.shape(noise)[0]
    low_pass = lvl.pyramid.enlarge(model.from_display(coarse), lvl.size)  # (B, F, F, C)
    # (B, ...) and (M, ...) -> (B * M, ...), image-major.
    images = lvl.generate(tf.tile(noise, [batch, 1, 1, 1]),
                          tf.repeat(low_pass, draws, axis=0), training=False)
    shown = unclipped_display(model, images)
    return tf.reshape(shown, tf.concat([[batch, draws], tf.shape(shown)[1:]], axis=0))

  def sample(level, coarse, noise):
    return generate(level, tf.convert_to_tensor(coarse, tf.float32), noise)

  return parzen_multiscale.fixed_noise_generator(
      sample, lambda level: (model.sizes[level], model.sizes[level], 1), num_noise_samples,
      seed=seed)


# ----------------------------------------------------------------------------- data


def load_images(config, split, count, seed, shape):
  """The first `count` images of `split` (all of a finite split when None), checked."""
  data = config.data
  batch = 500
  dataset = registry.build(data.name, split, batch_size=batch, seed=seed, num_frames=None,
                           data_dir=data.get("data_dir"), drop_remainder=False,
                           **dict(data.get("options", {})))
  chunks, total = [], 0
  for element in dataset:
    chunks.append(element["image"].numpy())
    total += chunks[-1].shape[0]
    if count is not None and total >= count:
      break
  images = np.concatenate(chunks)[:count]
  if images.shape[1:] != tuple(shape):
    raise ValueError(f"The {split} images of {data.name!r} have shape {images.shape[1:]}; the "
                     f"model makes {tuple(shape)}: samples and data must have one shape.")
  if images.min() < DATA_RANGE[0] or images.max() > DATA_RANGE[1]:
    raise ValueError(f"The {split} images of {data.name!r} lie in [{images.min():.4g}, "
                     f"{images.max():.4g}], not in [0, 1], the scaling the samples are "
                     "mapped to.")
  if count is not None and images.shape[0] < count:
    logging.warning("The %s split holds %d images, fewer than the %d asked for.", split,
                    images.shape[0], count)
  return images


def draw_samples(model, num_samples, seed, clip, batch=500, progress=None):
  """`(finest, coarsest)` samples in data units (numpy), deterministic given `seed`."""
  finest, coarsest = [], []
  for i, start in enumerate(range(0, num_samples, batch)):
    count = min(batch, num_samples - start)
    chain = model.sample(count, tf.constant([seed, i], tf.int64), return_chain=True)
    for out, images in ((coarsest, chain[0]), (finest, chain[-1])):
      shown = unclipped_display(model, images)
      out.append((tf.clip_by_value(shown, 0.0, 1.0) if clip else shown).numpy())
    if progress is not None:
      progress.update(count)
  return np.concatenate(finest), np.concatenate(coarsest)


# ----------------------------------------------------------------------------- metrics


def _summary(values):
  values = np.asarray(values, np.float64)
  std = float(values.std())
  return {"mean": float(values.mean()), "standard_error": std / math.sqrt(values.size),
          "standard_deviation": std, "num_images": int(values.size)}


def _load_classifier(workdir, image_shape):
  from tfgen.models.classifier import scoring  # pylint: disable=g-import-not-at-top
  return scoring.load(workdir, example_shape=image_shape)


def feature_metrics(classifier, real, generated, seed):
  """FID / KID / classifier scores in `classifier`'s feature space, and the features."""
  real_features, real_logits = feature_distances.classifier_outputs(classifier, real)
  fake_features, fake_logits = feature_distances.classifier_outputs(classifier, generated)
  kid_mean, kid_std = feature_distances.kernel_distance(real_features, fake_features, seed=seed)
  score, score_std = feature_distances.classifier_score(fake_logits)
  real_score, _ = feature_distances.classifier_score(real_logits)
  return {
      "frechet_distance": feature_distances.frechet_distance(real_features, fake_features),
      "kid": kid_mean, "kid_std_over_subsets": kid_std,
      "kid_subsets": feature_distances.KID_SUBSETS,
      "kid_subset_size": int(min(feature_distances.KID_SUBSET_SIZE, len(real), len(generated))),
      "classifier_score": score, "classifier_score_real_images": real_score,
      "num_real_images": int(len(real)), "num_generated_images": int(len(generated)),
      "feature_dimension": int(real_features.shape[1]),
  }, fake_features


# ----------------------------------------------------------------------------- outputs


def csv_text(document):
  """One row per number: section, metric, value, standard error, standard deviation."""
  lines = ["model_name,section,metric,value,standard_error,standard_deviation"]

  def row(section, metric, value, se="", sd=""):
    lines.append(",".join(str(v) for v in (document["model_name"], section, metric,
                                           "" if value is None else value, se, sd)))

  results = document["results"]
  single = results["parzen"]
  row("parzen", "log_likelihood", single["mean"], single["standard_error"],
      single["standard_deviation"])
  row("parzen", "sigma", single["sigma"])
  multi = results.get("parzen_multiscale")
  if multi and "mean" in multi:
    row("parzen_multiscale", "log_likelihood", multi["mean"], multi["standard_error"],
        multi["standard_deviation"])
    same = multi["single_scale_same_images"]
    row("parzen_multiscale", "single_scale_log_likelihood_same_images", same["mean"],
        same["standard_error"], same["standard_deviation"])
    for k, (sigma, mean) in enumerate(zip(multi["sigmas"], multi["level_means"])):
      row("parzen_multiscale", f"level_{k}_term", mean)
      row("parzen_multiscale", f"level_{k}_sigma", sigma)
  features = results.get("classifier_features", {})
  for key in ("frechet_distance", "kid", "classifier_score", "classifier_score_real_images"):
    if key in features:
      row("classifier_features", key, features[key],
          sd=features["kid_std_over_subsets"] if key == "kid" else "")
  inception = results.get("inception", {})
  if inception.get("fid_inception") is not None:
    row("inception", "fid_inception", inception["fid_inception"])
  return "\n".join(lines) + "\n"


def write_outputs(output_dir, document, grids, arrays):
  """results.json, results.csv, the PNGs and arrays.npz, whole or not at all."""

  def write(staging):
    with open(os.path.join(staging, RESULTS_FILE), "w") as f:
      json.dump(document, f, indent=2)
      f.write("\n")
    with open(os.path.join(staging, "results.csv"), "w") as f:
      f.write(csv_text(document))
    for name, grid in grids.items():
      images_lib.save_png(os.path.join(staging, name), grid)
    np.savez(os.path.join(staging, "arrays.npz"), **arrays)

  return evaluate_lib.replace_directory(output_dir, write)


# ----------------------------------------------------------------------------- running


def _resolve_multiscale(options, model):
  reason = multiscale_applicability(model)
  if options.multiscale and reason:
    raise ValueError(f"multiscale: the multi-scale Parzen estimate does not apply: {reason}. "
                     "Evaluate with multiscale off (--nomultiscale).")
  if options.multiscale is False:
    return False, "turned off (multiscale=False)"
  return reason is None, reason


def evaluate(workdir, options=None, **kwargs):
  """Evaluates the LAPGAN of `workdir` (module docstring) and writes the results.

  Args:
    workdir: a LAPGAN (or plain GAN) training work directory, its levels assembled.
    options: `LAPGANEvaluationOptions`, or its fields as keyword arguments.

  Returns:
    the results document (as in `results.json`), with `output_dir`.

  Raises:
    ValueError: bad options, no trained model, data or classifier that do not fit the
      model; all before any sample is drawn.
  """
  options = dataclasses.replace(options) if options else LAPGANEvaluationOptions(**kwargs)
  options.check()
  output_dir = options.output_dir or os.path.join(workdir, "evaluation")
  evaluate_lib.check_output_dir(output_dir, marker=RESULTS_FILE)
  config = evaluate_lib.load_config(workdir)
  model, checkpoint_path = evaluate_lib.load_model(workdir, config)
  if not hasattr(model, "sample") or not hasattr(model, "sizes"):
    raise ValueError(f"{workdir!r} holds a {config.model.name!r} run, not a LAPGAN.")
  image_shape = (model.sizes[0], model.sizes[0], model.channels)
  multiscale, multiscale_reason = _resolve_multiscale(options, model)
  num_levels = model.num_levels - 1
  classifier = None
  if options.classifier_workdir:
    classifier, _, classifier_path = _load_classifier(
        options.classifier_workdir, image_shape)
  test = load_images(config, options.split, options.num_images, options.seed, image_shape)
  validation = load_images(config, options.sigma_split, options.num_validation_images,
                           options.seed, image_shape)
  # The neighbours' search set, and (coarsened) the multi-scale coarsest centres.
  train = load_images(config, "train", options.num_train_images, options.seed, image_shape)

  logging.info("Evaluating %s (%s): %d samples, %d %s images.", workdir, checkpoint_path,
               options.num_samples, len(test), options.split)
  stages = 2 + int(multiscale) + int(classifier is not None) + int(
      options.inception_weights is not None)
  with tqdm.tqdm(total=options.num_samples, desc="samples", unit="image") as progress:
    samples, coarsest_samples = draw_samples(model, options.num_samples, options.seed,
                                             options.clip_samples, progress=progress)
  shown = np.clip(samples, 0.0, 1.0)
  results, arrays = {}, {"samples": samples}
  with tqdm.tqdm(total=stages, desc="metrics", unit="stage") as progress:
    progress.set_postfix_str("Parzen, single scale")
    single = parzen.evaluate(samples, test, validation, sigmas=options.sigma_grid,
                             batch_size=options.batch_size)
    results["parzen"] = single.to_dict()
    results["parzen"]["split"] = options.split
    results["parzen"]["sigma_split"] = options.sigma_split
    arrays["parzen_log_likelihoods"] = single.log_likelihoods
    progress.update(1)

    if multiscale:
      progress.set_postfix_str("Parzen, multi-scale")
      scored = test[:options.multiscale_num_images]
      centres = (parzen_multiscale.coarsen(train, num_levels).numpy()
                 if options.coarsest_source == "training" else coarsest_samples)
      generator = _counting(
          level_generator(model, options.seed, options.num_noise_samples),
          total=num_levels * (len(scored) + min(len(validation), options.multiscale_num_images))
          * options.num_noise_samples)
      sigma_grids = [np.asarray(options.sigma_grid)
                     * (2.0**k if options.haar_form == "orthonormal" else 1.0)
                     for k in range(num_levels + 1)]
      multi = parzen_multiscale.evaluate(
          scored, validation[:options.multiscale_num_images], centres, generator, num_levels,
          options.num_noise_samples,
          sigma_grids=sigma_grids, form=options.haar_form,
          coarsest_source=options.coarsest_source,
          batch_size=min(16, len(centres)), noise_chunk=min(64, options.num_noise_samples))
      results["parzen_multiscale"] = multi.to_dict()
      results["parzen_multiscale"]["split"] = options.split
      results["parzen_multiscale"]["sigma_split"] = options.sigma_split
      results["parzen_multiscale"]["single_scale_same_images"] = _summary(
          single.log_likelihoods[:len(scored)])
      results["parzen_multiscale"]["low_pass"] = (
          "x_{k+1}: 2x2 block means of the [0, 1] image, z-scored with the model's "
          f"statistics ({model.levels[0].normalization!r}; for 'pixel' the statistics "
          "are block-averaged too, so the low-pass is z-scored approximately), enlarged with "
          f"the level's own operator ({model.levels[0].pyramid_method!r})")
      arrays["parzen_multiscale_log_likelihoods"] = multi.log_likelihoods
      progress.update(1)
    else:
      results["parzen_multiscale"] = {"skipped": multiscale_reason}
      logging.info("Multi-scale Parzen skipped: %s.", multiscale_reason)

    progress.set_postfix_str("nearest neighbours")
    queries = samples[:options.num_nn_samples]
    pixel_indices, pixel_distances = nn_lib.nearest_neighbours(
        queries, train, options.num_neighbours)
    grids = {"samples.png": _sample_grid(shown[:64]),
             "nn_pixels.png": nn_lib.figure(shown[:options.num_nn_samples], train,
                                            pixel_indices)}
    arrays.update(nn_pixel_indices=pixel_indices, nn_pixel_distances=pixel_distances)
    results["nearest_neighbours"] = {
        "pixels": {"space": "pixels in data units (samples as in the Parzen estimate)",
                   "distance": "squared Euclidean", "indices": pixel_indices.tolist(),
                   "squared_distances": pixel_distances.tolist()}}
    progress.update(1)

    if classifier is not None:
      progress.set_postfix_str("classifier features")
      metrics, fake_features = feature_metrics(classifier, test, shown, options.seed)
      metrics.update(classifier_workdir=os.path.abspath(options.classifier_workdir),
                     classifier_checkpoint=classifier_path,
                     inputs="images in [0, 1]; samples clipped to [0, 1]",
                     real_images=f"the {len(test)} scored {options.split} images")
      results["classifier_features"] = metrics
      train_features, _ = feature_distances.classifier_outputs(classifier, train)
      feature_indices, feature_distances_ = nn_lib.nearest_neighbours(
          fake_features[:options.num_nn_samples], train_features, options.num_neighbours)
      grids["nn_features.png"] = nn_lib.figure(shown[:options.num_nn_samples], train,
                                               feature_indices)
      arrays.update(nn_feature_indices=feature_indices,
                    nn_feature_distances=feature_distances_)
      results["nearest_neighbours"]["features"] = {
          "space": f"the classifier's {metrics['feature_dimension']} features",
          "distance": "squared Euclidean", "indices": feature_indices.tolist(),
          "squared_distances": feature_distances_.tolist()}
      progress.update(1)
    else:
      reason = ("no classifier_workdir given (train one with python -m tfgen.bin.train "
                "--model=classifier --dataset=...): FID/KID, the classifier score and the "
                "feature-space neighbours skipped")
      logging.warning("%s", reason)
      results["classifier_features"] = {"skipped": reason}
      results["nearest_neighbours"]["features"] = {"skipped": reason}

    if options.inception_weights is not None:
      progress.set_postfix_str("InceptionV3")
    results["inception"] = feature_distances.inception_fid(test, shown,
                                                           options.inception_weights)
    if options.inception_weights is not None:
      progress.update(1)

  document = {
      "model_name": config.get("model_name", config.model.name),
      "model": config.model.to_dict(),
      "data": config.data.to_dict(),
      "workdir": os.path.abspath(workdir),
      "checkpoint": checkpoint_path,
      "protocol": {
          "num_samples": options.num_samples,
          "split": options.split, "num_images": int(len(test)),
          "sigma_split": options.sigma_split, "num_validation_images": int(len(validation)),
          "sigma_grid": list(options.sigma_grid),
          "parzen_batch_size": options.batch_size,
          "data_scaling": "images in [0, 1] as the data set delivers them",
          "sample_units": ("z-scoring undone exactly (the model's training statistics, "
                           f"{model.levels[0].normalization!r}); "
                           + ("clipped to [0, 1]" if options.clip_samples else
                              "not clipped for the Parzen estimates; clipped to [0, 1] for "
                              "the classifier and the pictures")),
          "pyramid": {"sizes": list(model.sizes),
                      "operator": model.levels[0].pyramid_method,
                      "coarse_from": model.levels[0].coarse_from},
          "multiscale": bool(multiscale),
          "multiscale_num_images": (int(min(options.multiscale_num_images, len(test)))
                                    if multiscale else 0),
          "multiscale_num_validation_images": (
              int(min(options.multiscale_num_images, len(validation))) if multiscale else 0),
          "num_noise_samples": options.num_noise_samples if multiscale else 0,
          "haar_form": options.haar_form, "coarsest_source": options.coarsest_source,
          "num_train_images": int(len(train)),
          "train_images": ("the first images of the training stream (seed "
                           f"{options.seed})"),
          "num_nn_samples": options.num_nn_samples, "num_neighbours": options.num_neighbours,
          "seed": options.seed,
      },
      "results": results,
  }
  document["output_dir"] = write_outputs(output_dir, document, grids, arrays)
  return document


def _counting(generator, total):
  """`generator` with a progress bar of the generator passes it makes."""
  progress = tqdm.tqdm(total=total, desc="multi-scale generator passes", unit="image",
                       leave=False)

  def counted(level, coarse, noise_indices):
    result = generator(level, coarse, noise_indices)
    progress.update(int(np.shape(coarse)[0]) * int(np.shape(noise_indices)[0]))
    if progress.n >= total:
      progress.close()
    return result

  return counted


def _sample_grid(samples, columns=8):
  rows = [list(samples[i:i + columns]) for i in range(0, len(samples), columns)]
  return images_lib.grid(rows)


def summary_lines(document):
  """A few lines for the terminal."""
  results = document["results"]
  single = results["parzen"]
  lines = [f"Parzen log-likelihood ({single['num_images']} {single['split']} images, "
           f"{single['num_samples']} samples, sigma {single['sigma']:.4g}): "
           f"{single['mean']:.2f} +- {single['standard_error']:.2f} (s.e.), "
           f"std {single['standard_deviation']:.2f}"]
  multi = results.get("parzen_multiscale", {})
  if "mean" in multi:
    lines.append(f"Multi-scale Parzen ({multi['num_images']} images, {multi['form']}): "
                 f"{multi['mean']:.2f} +- {multi['standard_error']:.2f} (s.e.); single "
                 f"scale on them {multi['single_scale_same_images']['mean']:.2f}")
  else:
    lines.append(f"Multi-scale Parzen skipped: {multi.get('skipped')}")
  features = results.get("classifier_features", {})
  if "frechet_distance" in features:
    lines.append(f"Classifier features: FD {features['frechet_distance']:.4g}, KID "
                 f"{features['kid']:.4g}, score {features['classifier_score']:.4g}")
  else:
    lines.append(f"Classifier features skipped: {features.get('skipped')}")
  inception = results.get("inception", {})
  lines.append(f"FID (InceptionV3): {inception['fid_inception']:.4g}"
               if inception.get("fid_inception") is not None else
               str(inception.get("skipped")))
  lines.append(f"Results: {document['output_dir']}")
  return lines
