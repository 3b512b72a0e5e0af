"""espnet-cause: facial action unit sequences from speech (CAUSE) as an ESPnet plugin."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def console_scripts() -> list[str]:
    """One ``espnet-cause-<name>`` command per ``espnet_cause/bin/<name>.py`` CLI module."""
    bins = sorted(p.stem for p in (HERE / "espnet_cause" / "bin").glob("*.py"))
    return [
        f"espnet-cause-{name.replace('_', '-')}=espnet_cause.bin.{name}:main"
        for name in bins
        if not name.startswith("_")
    ]


#: What ``pip install espnet-cause`` brings: ``infer``, ``livelink`` and the Python API on ONNX
#: Runtime (no espnet, no torch; see docs/avatars.md for the measured size and time).
RUNTIME_REQUIRES = [
    "numpy",
    "scipy",
    "praat-parselmouth",
    "pyyaml",
    "kaldiio",
    "soundfile",
    "tqdm",
    "onnxruntime>=1.17",  # the default inference backend (no torch import)
]
#: Training, the recipe, the torch backend and ONNX export (``[train]``, in ``all``).
TRAIN_REQUIRES = [
    "espnet>=202611,<202700",
    "torch",
    "torchaudio",
    "tensorboard",
    "matplotlib",
    "onnx>=1.16",  # pack_model's ONNX export (torch.onnx needs it)
]

extras = {
    "train": TRAIN_REQUIRES,
    "video": ["av>=12"],
    "face": ["mediapipe>=0.10.14", "pillow>=9"],
    "dist": ["dask[distributed]>=2024.1", "dask-jobqueue>=0.8"],
    "mini": ["espeakng-loader>=0.2.4"],
    "tts": ["pyworld"],
    "serve": [
        "starlette>=0.40",
        "uvicorn>=0.30",
        "websockets>=12",
        "python-multipart>=0.0.9",
    ],
    "test": [
        "pytest>=8",
        "ruff>=0.6",
        "httpx>=0.27",
        "selenium>=4.20",
        "pylivelinkface>=0.1",  # an independent decoder of the Live Link Face UDP packets
    ],
}
#: ``render`` and ``serve`` without training: the light install plus video, faces and the server.
extras["runtime"] = sorted({*extras["video"], *extras["face"], *extras["serve"]})
extras["all"] = sorted({req for reqs in extras.values() for req in reqs})

setup(
    name="espnet-cause",
    version="0.1.0",
    description="Facial action unit sequences from speech (CAUSE), face rendering and AU "
    "conditioning for TTS, as an ESPnet plugin",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.12",
    packages=find_packages(include=["espnet_cause", "espnet_cause.*"]),
    # the face model, the built-in CAUSE model and demo media (sources and licences:
    # espnet_cause/assets/NOTICE), the live page's HTML and JavaScript
    package_data={
        "espnet_cause.assets": ["*.task", "*.zip", "*.jpg", "*.wav", "NOTICE"],
        "espnet_cause.serve": [
            "static/*.html",
            "static/*.js",
            "static/ort/*.mjs",
            "static/ort/*.wasm",
            "static/ort/NOTICE",
        ],
    },
    include_package_data=True,
    install_requires=RUNTIME_REQUIRES,
    extras_require=extras,
    entry_points={"console_scripts": console_scripts()},
)
