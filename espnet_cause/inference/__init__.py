"""Speech -> AUs (and emotions, and AU-conditioned speech) with trained models, from Python.

- :mod:`~espnet_cause.inference.speech2au`: :class:`Speech2AU` (a ``model.zip`` or the built-in
  model -> AU or ARKit frames; torch or ONNX backend);
- :mod:`~espnet_cause.inference.windows`: long audio in overlapping windows;
- :mod:`~espnet_cause.inference.model_zip`, :mod:`~espnet_cause.inference.packing`: the
  ``model.zip`` layout (reading, checks, unpacking) and writing it;
- :mod:`~espnet_cause.inference.onnx`: the torch-free runtime (graphs, numpy frontend) and export;
- :mod:`~espnet_cause.inference.speech2emotion`: ``Speech2Emotion`` (frame emotion posteriors);
- :mod:`~espnet_cause.inference.text2speech`: ``AUText2Speech`` (text + AUs -> speech).

``from espnet_cause.inference import Speech2AU`` loads :mod:`speech2au` on first use, so importing
this package imports neither torch nor espnet2.
"""

from __future__ import annotations

import importlib

__all__ = ["BACKENDS", "DEFAULT_NUM_THREADS", "Speech2AU", "choose_backend"]


def __getattr__(name: str):
    """Names of :mod:`~espnet_cause.inference.speech2au` (the module that was ``inference.py``)."""
    if name in __all__:
        return getattr(importlib.import_module("espnet_cause.inference.speech2au"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
