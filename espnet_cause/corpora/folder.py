"""Any directory of videos, optionally with OpenFace CSVs beside them.

Layout under ``--corpus_dir``::

    <speaker>/.../<name>.mp4      videos in a sub-directory: the speaker is the first directory
    <speaker>_<rest>.mp4          videos at the top: the speaker is the stem up to the first "_"
                                  (the whole stem when it has none)

Any of the suffixes in :data:`~espnet_cause.corpora.common.VIDEO_SUFFIXES` is accepted. The
utterance id is the speaker followed by the relative path (without suffix), ``/`` turned into
``_``. The video is also the audio source.

``--openface_dir DIR`` (optional): OpenFace CSVs named ``<video stem>.csv`` anywhere below DIR
(OpenFace ``FeatureExtraction -out_dir DIR`` writes exactly that). Found ones go to
``au_csv.scp``; a stem found twice is an error, as it cannot be matched safely.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from espnet_cause.corpora.common import (
    VIDEO_SUFFIXES,
    Utterance,
    clean_id,
    find_files,
    require_dir,
    require_some,
)
from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

LAYOUT = "<speaker>/.../<name>.mp4 or <speaker>_<rest>.mp4 (any video suffix)"


def _csv_by_stem(openface_dir: str | os.PathLike) -> dict[str, Path]:
    root = Path(openface_dir)
    if not root.is_dir():
        raise CauseError(
            "OpenFace CSV directory not found",
            path=root,
            fix="pass --openface_dir pointing at the FeatureExtraction -out_dir, or leave it out",
        )
    out: dict[str, Path] = {}
    for p in find_files(root, (".csv",)):
        if p.stem in out:
            raise CauseError(
                f"two CSVs for stem {p.stem!r}: {out[p.stem]} and {p}",
                path=root,
                fix="keep one CSV per video stem",
            )
        out[p.stem] = p
    return out


def list_folder(
    corpus_dir: str | os.PathLike, openface_dir: str | os.PathLike | None = None
) -> list[Utterance]:
    """List the videos under ``corpus_dir`` (layout: module docstring).

    Args:
        corpus_dir: The directory of videos.
        openface_dir: Directory of OpenFace CSVs named by video stem, or None.
    """
    root = require_dir(corpus_dir, "folder", LAYOUT)
    csvs = _csv_by_stem(openface_dir) if openface_dir is not None else {}
    utts = []
    for p in find_files(root, VIDEO_SUFFIXES):
        rel = p.relative_to(root)
        if len(rel.parts) > 1:
            speaker = rel.parts[0]
            rest = list(rel.parts[1:-1]) + [p.stem]
        else:
            speaker = p.stem.split("_", 1)[0]
            rest = [p.stem.split("_", 1)[1]] if "_" in p.stem else []
        utts.append(
            Utterance(
                utt_id=clean_id(speaker, *rest),
                speaker=clean_id(speaker),
                audio=p,
                video=p,
                au_csv=csvs.get(p.stem),
            )
        )
    require_some(utts, root, "folder", LAYOUT)
    if csvs:
        matched = sum(u.au_csv is not None for u in utts)
        logger.info("%d of %d videos have an OpenFace CSV", matched, len(utts))
        if matched == 0:
            raise CauseError(
                "no CSV in --openface_dir has the stem of a video",
                path=openface_dir,
                fix="name each CSV <video stem>.csv, as OpenFace FeatureExtraction does",
            )
    return utts
