"""VoxCeleb2 (Chung et al., Interspeech 2018): celebrity interview face-tracks from YouTube.

Expected layout under ``--corpus_dir`` (the official ``vox2_dev_mp4``/``vox2_test_mp4`` archives
unpacked side by side)::

    dev/mp4/<id>/<ytid>/<n>.mp4       e.g. dev/mp4/id00012/21Uxsk56VDQ/00001.mp4
    test/mp4/<id>/<ytid>/<n>.mp4

The speaker is the celebrity ``<id>``; the utterance id is ``<id>_<ytid>_<n>``. Each mp4 has the
speech as its audio track, so ``wav.scp`` and ``video.scp`` both point at it. The official
dev/test partition is not kept: all speakers are pooled and split by speaker like every corpus.
"""

from __future__ import annotations

import os

from espnet_cause.corpora.common import Utterance, clean_id, find_files, require_dir, require_some

LAYOUT = "dev|test/mp4/<id>/<ytid>/<n>.mp4"
PARTS = ("dev", "test")


def list_voxceleb2(corpus_dir: str | os.PathLike) -> list[Utterance]:
    """List the VoxCeleb2 face-tracks found under ``corpus_dir`` (layout: module docstring)."""
    root = require_dir(corpus_dir, "voxceleb2", LAYOUT)
    utts = []
    for part in PARTS:
        base = root / part / "mp4"
        for p in find_files(base, (".mp4",)):
            rel = p.relative_to(base).parts
            if len(rel) != 3:
                continue
            spk, ytid, _ = rel
            utts.append(
                Utterance(
                    utt_id=clean_id(spk, ytid, p.stem), speaker=clean_id(spk), audio=p, video=p
                )
            )
    require_some(utts, root, "voxceleb2", LAYOUT)
    return utts
