"""The models a server offers: their names in requests, licences, and which one streams.

``serve --model A --model B`` loads every model given: each answers ``POST /infer`` and
``POST /render`` (``?model=NAME``; the first given is the default), and the first that can stream
(a causal encoder) answers the live ``/stream``. When none can (e.g. ``--model expressive``, whose
expression branch hears the whole utterance), the live stream uses the causal built-in model
``builtin_live`` and the page says why the chosen model is offline only.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from espnet_cause.assets import BUILTIN_LICENCES, BUILTIN_MODELS, LIVE_MODEL, resolve_model
from espnet_cause.errors import CauseError

#: What ``serve`` loads without ``--model``: the live built-in model (the default, Apache-2.0)
#: and the expressive one as a choice for uploads (CC BY-NC-SA 4.0, shown where it is chosen).
DEFAULT_MODELS = (LIVE_MODEL, "expressive")
#: The licence shown for a model zip that is not a built-in one.
UNKNOWN_LICENCE = "not recorded in the model zip: the terms of its training data"


@dataclasses.dataclass
class ServedModel:
    """One model of the server.

    Attributes:
        name: Its name in requests (``?model=NAME``): a built-in's name or the zip's file stem.
        speech2au: The loaded :class:`~espnet_cause.inference.speech2au.Speech2AU`.
        licence: Its terms (the built-in ones' from :data:`espnet_cause.assets.BUILTIN_LICENCES`).
        live: Whether it can stream (a causal encoder).
        note: Why it cannot stream ("" when it can).
    """

    name: str
    speech2au: object
    licence: str
    live: bool
    note: str

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


def serve_model(speech2au, name: str | None = None) -> ServedModel:
    """Describe a loaded model: its name, licence, and whether (or why not) it streams."""
    name = name or model_name(speech2au.source)
    try:
        speech2au.streamer()  # checks it once (a probe stream); raises naming the reason
        live, note = True, ""
    except CauseError as e:
        live, note = False, f"offline only (whole recordings): {e.message}"
    return ServedModel(name, speech2au, BUILTIN_LICENCES.get(name, UNKNOWN_LICENCE), live, note)


def load_models(specs: list[str], load) -> tuple[dict[str, ServedModel], ServedModel]:
    """Load ``serve``'s ``--model`` values: every model by name, and the one that streams.

    Args:
        specs: ``--model`` values (built-in names or model.zip paths), the default first.
        load: Builds a Speech2AU from a model file (``Speech2AU`` itself, or a test's stand-in).

    Returns:
        (the models by name in the order given, the live one: the first that streams, else
        ``builtin_live`` loaded for the stream only).

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
    models = {n: serve_model(load(resolve_model(s)), n) for n, s in zip(names, specs, strict=True)}
    live = next((m for m in models.values() if m.live), None)
    if live is None:
        live = serve_model(load(resolve_model(LIVE_MODEL)), LIVE_MODEL)
    return models, live
