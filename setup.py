"""Installs tfgen: `pip install -e ".[test]"`."""

import setuptools

INSTALL_REQUIRES = [
    "tensorflow>=2.21,<2.22",
    "keras>=3.15,<4",
    # TFP's import checks that tf-keras is installed; tfgen builds its models with Keras 3.
    "tensorflow-probability>=0.25,<0.26",
    "tf-keras>=2.21,<2.22",
    "tensorflow-datasets>=4.9.10,<5",
    "importlib_resources",  # tensorflow-datasets 4.9.10 imports it without declaring it.
    "absl-py>=2",
    "ml-collections>=1.1",
    # The one range that TensorFlow 2.21, kfp and Apache Beam accept together.
    "protobuf>=6.31.1,<7",
    "numpy>=1.26",
    "matplotlib>=3.8",
    "pillow>=10",
    "tqdm>=4.66",
    "tensorboard>=2.20",  # tf.summary needs it; TensorFlow 2.21 no longer installs it.
    "av>=12",  # PyAV, the FFmpeg binding that decodes KTH videos.
    "lmdb>=1.4",  # LSUN's per-category LMDB databases (tfgen.data.lsun).
    # Warm-up PredictionLog records for TF Serving (its protobuf range includes ours).
    "tensorflow-serving-api>=2.21,<2.22",
    "flask>=3.1.3,<3.2",  # The human-evaluation page (python -m tfgen.bin.human_eval serve).
    # The pipeline (pipelines/): Kubeflow Pipelines v2 orchestrates (kfp.local runs it on one
    # machine), Apache Beam runs ExampleGen. Both accept the protobuf range above.
    "kfp>=2.17.3,<2.18",
    "apache-beam>=2.77,<2.78",
]

EXTRAS_REQUIRE = {
    "test": [
        "pytest>=8",
        "pytest-xdist>=3",
        "scikit-image>=0.22",
        # Drives Debian's chromium (apt) in tests/human_eval; never `playwright install`.
        "playwright==1.65.2",
    ],
    # The official PyTorch code: parity tests of tfgen.interop and the benchmarks'
    # --reference_dir (import torch before TensorFlow in one process; see benchmarks/).
    "reference": ["torch>=2.4"],
}

setuptools.setup(
    name="tfgen",
    version="0.1.0",
    description=(
        "Deep generative models of images and video (SVG, DrNET, LAPGAN) in "
        "TensorFlow 2 / Keras 3."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["tfgen", "tfgen.*", "configs", "configs.*", "pipelines", "pipelines.*"]),
    package_data={"tfgen": ["data/assets/*", "human_eval/assets/*"]},
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
