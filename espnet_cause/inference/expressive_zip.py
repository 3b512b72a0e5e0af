"""A model zip that carries an emotion recogniser next to its mouth model (the ``expressive`` model).

Layout: every member of a packed CAUSE model zip (:mod:`espnet_cause.inference.model_zip`; its
streaming graphs left out: the recogniser hears whole utterances) plus :data:`MEMBER`, the
recogniser's arrays (:class:`espnet_cause.inference.emotion_recogniser.EmotionRecogniser`), listed
with its sha256 in ``meta.yaml`` under the key :data:`META_KEY`. ``Speech2AU`` adds the heard
emotion's face (:func:`espnet_cause.inference.emotion_recogniser.expression_track`) to the
mouth model's AUs.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import yaml

from espnet_cause.errors import CauseError
from espnet_cause.inference.emotion_recogniser import EmotionRecogniser
from espnet_cause.inference.model_zip import META_NAME, open_zip, verify_members
from espnet_cause.io.atomic import atomic_write

#: The recogniser's member in the zip.
MEMBER = "emotion/recogniser.npz"
#: ``meta.yaml`` key naming it (and the licence/data lines).
META_KEY = "emotion_recogniser"
#: Graph members of a streaming model that an expressive zip leaves out.
STREAM_MEMBERS = ("onnx/stream.onnx", "onnx/stream_first.onnx")


def load_recogniser(zip_path: str | os.PathLike) -> EmotionRecogniser | None:
    """The recogniser in a model zip, or None for a zip without one.

    Raises:
        CauseError: naming the zip when the member differs from its packed sha256 or is not a
            recogniser.
    """
    zip_path = Path(zip_path)
    with open_zip(zip_path) as zf:
        meta = verify_members(zf, zip_path)
        entry = meta.get(META_KEY)
        if not entry:
            return None
        member = entry.get("member") if isinstance(entry, dict) else None
        if member not in meta["sha256"]:
            raise CauseError(
                f"{META_NAME} names an emotion recogniser {member!r} it does not list",
                path=zip_path,
                fix="re-pack it (python -m espnet_cause.bin.emotion_recogniser_train --pack_into)",
            )
        return EmotionRecogniser.from_bytes(zf.read(member), source=f"{zip_path}:{member}")


def repack_expressive(
    model: str | os.PathLike, base_zip: str | os.PathLike, output: str | os.PathLike
) -> Path:
    """Move the recogniser of an expressive zip onto another mouth model (e.g. a new built-in
    model), keeping its meta entry (data, licence); no retraining.

    Raises:
        CauseError: naming ``model`` when it has no recogniser.
    """
    recogniser = load_recogniser(model)
    if recogniser is None:
        raise CauseError("no emotion recogniser in this model zip", path=model, fix="pass the "
                         "expressive model's zip")  # fmt: skip
    with open_zip(Path(model)) as zf:
        entry = dict(verify_members(zf, Path(model))[META_KEY])
    entry.pop("member", None)
    entry.pop("base", None)
    return pack_expressive(base_zip, recogniser, output, info=entry)


def pack_expressive(
    base_zip: str | os.PathLike,
    recogniser: EmotionRecogniser,
    output: str | os.PathLike,
    info: dict | None = None,
) -> Path:
    """Write ``output``: ``base_zip``'s members (without streaming graphs) + the recogniser.

    Args:
        base_zip: A packed CAUSE model (the mouth), e.g. the built-in model's zip.
        recogniser: The trained recogniser.
        output: The new zip (written atomically).
        info: Extra lines for the meta entry (training data, licence, figures).

    Raises:
        CauseError: for a base zip that is not a valid model zip.
    """
    base_zip, output = Path(base_zip), Path(output)
    with open_zip(base_zip) as zf:
        meta = verify_members(zf, base_zip)
        members = {
            name: zf.read(name)
            for name in zf.namelist()
            if not name.endswith("/") and name != META_NAME and name not in STREAM_MEMBERS
        }
    data = recogniser.to_bytes()
    members[MEMBER] = data
    meta = dict(meta)
    meta["sha256"] = {
        k: v for k, v in meta["sha256"].items() if k not in STREAM_MEMBERS and k != MEMBER
    }
    meta["sha256"][MEMBER] = hashlib.sha256(data).hexdigest()
    if isinstance(meta.get("onnx"), dict):
        onnx = dict(meta["onnx"])
        onnx["members"] = [m for m in onnx.get("members", []) if m not in STREAM_MEMBERS]
        onnx["streaming"] = False
        meta["onnx"] = onnx
    meta[META_KEY] = {"member": MEMBER, "base": base_zip.name, **(info or {})}
    with atomic_write(output) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            out.writestr(META_NAME, yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
            for name, payload in members.items():
                out.writestr(name, payload)
    return output
