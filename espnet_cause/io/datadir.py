"""Kaldi-style data directories: ``wav.scp``, ``video.scp``, ``utt2spk``, ``spk2utt``,
``segments``, ``au.scp``, ``au_csv.scp``.

Every file is ``<key> <value>`` per line, sorted by key (C locale), one line per key. The helpers
here read them with errors that name the file, the line and the fix, write them sorted and
atomically, and validate a whole directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.text import read_text_lines

#: Files keyed by utterance id that must share the keys of ``utt2spk`` when present.
UTT_FILES = ("wav.scp", "video.scp", "segments", "au.scp", "au_csv.scp", "text", "emotion")
#: Files whose values are paths (or Kaldi ``ark:offset`` specifiers) that must exist.
PATH_FILES = ("wav.scp", "video.scp", "au.scp", "au_csv.scp")


def read_kaldi_map(path: str | os.PathLike, *, check_sorted: bool = True) -> dict[str, str]:
    """Read a ``<key> <value>`` file.

    Args:
        path: The file.
        check_sorted: Require keys in C-locale sorted order, as Kaldi and ESPnet do.

    Returns:
        Keys to values (the rest of the line after the first space), in file order.

    Raises:
        CauseError: naming the file and line for a missing file, a line without a value, a
            duplicate key, or (with ``check_sorted``) an unsorted key.
    """
    path = Path(path)
    if not path.exists():
        raise CauseError(
            "file not found", path=path, fix="run the data preparation stage (stage 1)"
        )
    out: dict[str, str] = {}
    prev = None
    for lineno, raw in enumerate(read_text_lines(path, what=path.name), start=1):
        line = raw.strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        value = value.strip()
        if not value:
            raise CauseError(
                f"line has a key {key!r} but no value",
                path=path,
                line=lineno,
                fix="each line must be '<key> <value>'",
            )
        if key in out:
            raise CauseError(
                f"duplicate key {key!r}", path=path, line=lineno, fix="keep one line per key"
            )
        if check_sorted and prev is not None and key < prev:
            raise CauseError(
                f"key {key!r} comes after {prev!r}: not sorted",
                path=path,
                line=lineno,
                fix=f"sort it: LC_ALL=C sort -o {path} {path}",
            )
        out[key] = value
        prev = key
    return out


def write_kaldi_map(path: str | os.PathLike, mapping: Mapping[str, object]) -> None:
    """Write ``<key> <value>`` lines sorted by key (C locale), atomically."""
    for key in mapping:
        if not key or any(c.isspace() for c in key):
            raise CauseError(f"key {key!r} is empty or has white space", path=path)
    text = "".join(f"{k} {mapping[k]}\n" for k in sorted(mapping))
    with atomic_write(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def group_by_speaker(utt2spk: Mapping[str, str]) -> dict[str, list[str]]:
    """Speaker -> their utterance ids (sorted): ``utt2spk`` inverted."""
    groups: dict[str, list[str]] = {}
    for utt in sorted(utt2spk):
        groups.setdefault(utt2spk[utt], []).append(utt)
    return groups


def spk2utt_from_utt2spk(utt2spk: Mapping[str, str]) -> dict[str, str]:
    """Invert ``utt2spk`` into ``spk2utt`` (values are space-joined sorted utterance ids)."""
    return {spk: " ".join(utts) for spk, utts in group_by_speaker(utt2spk).items()}


def write_utt2spk_spk2utt(directory: str | os.PathLike, utt2spk: Mapping[str, str]) -> None:
    """Write ``utt2spk`` and the matching ``spk2utt`` into a data directory."""
    directory = Path(directory)
    write_kaldi_map(directory / "utt2spk", utt2spk)
    write_kaldi_map(directory / "spk2utt", spk2utt_from_utt2spk(utt2spk))


def value_path(value: str) -> str | None:
    """The file a ``wav.scp``/``au.scp`` value refers to, or None for a command (``... |``).

    ``/a/b.ark:123`` refers to ``/a/b.ark``; ``sox x.wav -t wav - |`` is a pipe, not checked.
    """
    value = value.strip()
    if value.endswith("|"):
        return None
    head, sep, tail = value.rpartition(":")
    if sep and tail.isdigit() and head:
        return head
    return value


def validate_data_dir(
    directory: str | os.PathLike,
    required: Iterable[str] = ("wav.scp", "utt2spk", "spk2utt"),
    check_files: bool = True,
) -> list[str]:
    """Check a data directory: required files present, sorted, consistent keys, files exist.

    Args:
        directory: The data directory.
        required: Files that must be present.
        check_files: Also check that the paths in ``*.scp`` files exist (relative paths are
            taken from the current directory, as in Kaldi recipes).

    Returns:
        The utterance ids, sorted.

    Raises:
        CauseError: naming the file (and line) of the first problem and its fix.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise CauseError("data directory not found", path=directory, fix="run stage 1 first")
    for name in required:
        if not (directory / name).is_file():
            raise CauseError(f"missing {name}", path=directory, fix=f"write {directory / name}")
    maps = {
        name: read_kaldi_map(directory / name)
        for name in ("utt2spk", "spk2utt", *UTT_FILES)
        if (directory / name).is_file()
    }
    if "utt2spk" not in maps:
        raise CauseError("missing utt2spk", path=directory, fix="write utt2spk")
    utts = set(maps["utt2spk"])
    if "spk2utt" in maps:
        expected = spk2utt_from_utt2spk(maps["utt2spk"])
        if {k: sorted(v.split()) for k, v in maps["spk2utt"].items()} != {
            k: sorted(v.split()) for k, v in expected.items()
        }:
            raise CauseError(
                "spk2utt does not match utt2spk",
                path=directory / "spk2utt",
                fix="regenerate spk2utt from utt2spk",
            )
    for name in UTT_FILES:
        if name not in maps:
            continue
        keys = set(maps[name])
        optional_subset = name in ("video.scp", "au_csv.scp", "emotion")
        extra = sorted(keys - utts)
        missing = sorted(utts - keys)
        if extra or (missing and not optional_subset):
            detail = (
                f"{len(extra)} keys not in utt2spk (first: {extra[0]})"
                if extra
                else f"{len(missing)} utterances of utt2spk missing (first: {missing[0]})"
            )
            raise CauseError(
                f"keys differ from utt2spk: {detail}",
                path=directory / name,
                fix="keep the same utterance ids in every file of the data dir",
            )
        if check_files and name in PATH_FILES:
            lines = {k: i for i, k in enumerate(maps[name], start=1)}
            for key, value in maps[name].items():
                target = value_path(value)
                if target is not None and not Path(target).exists():
                    raise CauseError(
                        f"utterance {key!r} refers to {target}, which does not exist",
                        path=directory / name,
                        line=lines[key],
                        fix="fix the path or remove the utterance from the data dir",
                    )
    return sorted(utts)


def subset_data_dir(src: str | os.PathLike, dst: str | os.PathLike, keys: Iterable[str]) -> None:
    """Copy the utterance-keyed files of ``src`` to ``dst``, keeping only ``keys``."""
    src, dst = Path(src), Path(dst)
    keep = set(keys)
    utt2spk = {k: v for k, v in read_kaldi_map(src / "utt2spk").items() if k in keep}
    for name in UTT_FILES:
        if (src / name).is_file():
            write_kaldi_map(
                dst / name, {k: v for k, v in read_kaldi_map(src / name).items() if k in keep}
            )
    write_utt2spk_spk2utt(dst, utt2spk)
