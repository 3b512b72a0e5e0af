"""The models a server offers: their names in requests, licences, and how each streams.

``serve --model A --model B`` loads every model given: each answers ``POST /infer`` and
``POST /render`` (``?model=NAME``; the first given is the default), and each that can stream
answers the live ``/stream`` when a stream asks for it (``{"model": NAME}``; default the first
that streams). A model with a causal encoder streams itself; the ``expressive`` model, whose
recogniser hears whole utterances offline, streams as its live variant
(:class:`~espnet_cause.inference.live_expression.LiveExpressive`: ``builtin_live``'s causal mouth
and the recogniser over the stream so far). When no model can stream, the live stream uses the
causal built-in model ``builtin_live`` and the page says why the chosen model is offline only.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import Executor
from pathlib import Path

from espnet_cause.assets import BUILTIN_LICENCES, BUILTIN_MODELS, LIVE_MODEL, resolve_model
from espnet_cause.errors import CauseError
from espnet_cause.inference.live_expression import WINDOW_S, live_model

#: What ``serve`` loads without ``--model``: the live built-in model (the default, Apache-2.0)
#: and the expressive one as a choice (live and uploads; CC BY-NC-SA 4.0, shown where it is
#: chosen).
DEFAULT_MODELS = (LIVE_MODEL, "expressive")
#: The licence shown for a model zip that is not a built-in one.
UNKNOWN_LICENCE = "not recorded in the model zip: the terms of its training data"


@dataclasses.dataclass
class ServedModel:
    """One model of the server.

    Attributes:
        name: Its name in requests (``?model=NAME``, ``{"model": NAME}``): a built-in's name or
            the zip's file stem.
        speech2au: The loaded :class:`~espnet_cause.inference.speech2au.Speech2AU` (uploads).
        licence: Its terms (the built-in ones' from :data:`espnet_cause.assets.BUILTIN_LICENCES`).
        live: Whether it can stream.
        note: How it streams when not by itself, or why it cannot ("" when it streams itself).
        stream_model: What its live streams run (``speech2au`` itself, or its live variant);
            None when it cannot stream.
    """

    name: str
    speech2au: object
    licence: str
    live: bool
    note: str
    stream_model: object = None

    def describe(self) -> dict:
        """The model as ``/health`` lists it."""
        return {"name": self.name, "licence": self.licence, "live": self.live, "note": self.note}


def model_name(source: str | os.PathLike) -> str:
    """A model's name in requests: the built-in name of a packaged zip, else the file's stem."""
    path = Path(str(source))
    for name in BUILTIN_MODELS:
        if path == resolve_model(name):
            return name
    return path.stem


def serve_model(
    speech2au, name: str | None = None, load_mouth=None, executor: Executor | None = None
) -> ServedModel:
    """Describe a loaded model: its name, licence, and how (or why not) it streams.

    Args:
        speech2au: The loaded model.
        name: Its name (default :func:`model_name` of its file).
        load_mouth: Gives the causal mouth of a live variant (default: loads ``builtin_live``).
        executor: Where a live variant's recogniser runs (None: inline, blocking the stream).
    """
    name = name or model_name(speech2au.source)
    try:
        stream = live_model(speech2au, load_mouth, executor)
    except CauseError as e:
        stream, note = None, f"offline only (whole recordings): {e.message}"
    else:
        note = (
            ""
            if stream is speech2au
            else f"live: {LIVE_MODEL}'s causal mouth with this model's emotion recogniser over "
            f"the last {WINDOW_S:g} s of the stream (speaker statistics accumulated as you speak)"
        )
    licence = BUILTIN_LICENCES.get(name, UNKNOWN_LICENCE)
    return ServedModel(name, speech2au, licence, stream is not None, note, stream)


def load_models(
    specs: list[str], load, executor: Executor | None = None
) -> tuple[dict[str, ServedModel], ServedModel]:
    """Load ``serve``'s ``--model`` values: every model by name, and the default live one.

    Args:
        specs: ``--model`` values (built-in names or model.zip paths), the default first.
        load: Builds a Speech2AU from a model file (``Speech2AU`` itself, or a test's stand-in).
        executor: Where the live variants' recognisers run
            (:func:`~espnet_cause.inference.live_expression.expression_executor`).

    Returns:
        (the models by name in the order given, the default live one: the first that streams,
        else ``builtin_live`` loaded for the stream only).

    Raises:
        CauseError: for two models with the same name.
    """
    names = [spec if spec in BUILTIN_MODELS else Path(spec).stem for spec in specs]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise CauseError(
                f"two --model values are named {name!r}",
                fix="give each model once, or rename one of the zips",
            )
    loaded = {}

    def load_named(spec: str):
        path = resolve_model(spec)
        if path not in loaded:
            loaded[path] = load(path)
        return loaded[path]

    def mouth():
        return load_named(LIVE_MODEL)

    models = {
        n: serve_model(load_named(s), n, mouth, executor) for n, s in zip(names, specs, strict=True)
    }
    live = next((m for m in models.values() if m.live), None)
    if live is None:
        live = serve_model(mouth(), LIVE_MODEL)
    return models, live
