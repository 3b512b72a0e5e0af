"""The one batch runner: every per-item job (inference, TTS feature export, AU labels, AU
extraction, face crops) runs through :func:`run_batch` and reports with :func:`write_report`.

A job gives its items (``(key, payload)`` pairs), a module-level function that does one item
(``fn(key, payload, **env) -> record``, see :func:`espnet_cause.parallel.run_items`, which runs
it in this process or on Dask) and the settings that change its per-item results. The runner
keeps, in the job's output directory::

    OUTPUT_DIR/.work/journal.jsonl    one JSON record per finished item (key, status, reason, ...)
    OUTPUT_DIR/.work/settings.json    the settings the journal was made with
    OUTPUT_DIR/.work/items/           per-item results (KEY + suffix, see BatchDir.item)

**Resume rule** (the same for every job): a re-run with the same settings skips every item that
the journal holds as ``ok`` and whose result files are all there; items recorded as errors are
retried when the job asks for it (``retry_errors``). A re-run with other settings (another model
file, frame grid, extractor option, ...) discards the journal and the per-item results, says so in
the log, and starts over: one output directory never mixes two settings.

At the end the job gathers its per-item arrays into Kaldi ark/scp (:func:`gather_ark`) and writes
one TSV report (:func:`write_report`): ``key``, ``status``, ``reason``, then its own columns.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from espnet_cause.io.atomic import atomic_write
from espnet_cause.parallel import read_journal, run_items

logger = logging.getLogger(__name__)

#: Sub-directory of the output directory that holds the runner's state.
WORK_DIR = ".work"
#: The columns every report starts with.
REPORT_COLUMNS = ("key", "status", "reason")


@dataclass(frozen=True)
class BatchDir:
    """Where a job's runner state lives inside its output directory.

    Args:
        root: The job's output directory.
    """

    root: Path

    @property
    def work(self) -> Path:
        return self.root / WORK_DIR

    @property
    def journal(self) -> Path:
        return self.work / "journal.jsonl"

    @property
    def settings(self) -> Path:
        return self.work / "settings.json"

    @property
    def items(self) -> Path:
        return self.work / "items"

    def item(self, key: str, suffix: str) -> Path:
        """The per-item result file ``.work/items/<key><suffix>``."""
        return self.items / f"{key}{suffix}"


def run_batch(
    items: Sequence[tuple[str, Any]],
    fn: Callable[..., dict],
    *,
    output_dir: str | os.PathLike,
    settings: dict,
    item_files: Callable[[str], Iterable[Path]] | None = None,
    setup_fn: Callable[[], dict] | None = None,
    teardown_fn: Callable[[], None] | None = None,
    parallel_config=None,
    desc: str = "",
    retry_errors: bool = False,
) -> dict[str, dict]:
    """Run ``fn`` over ``items`` under the resume rule of the module docstring.

    Args:
        items: ``(key, payload)`` pairs; payloads must pickle when a cluster is used.
        fn: Module-level ``fn(key, payload, **env) -> dict`` that writes the item's results.
        output_dir: The job's output directory (created as needed).
        settings: JSON-able settings that change per-item results; other settings start over.
        item_files: The files an ``ok`` item leaves (``key -> paths``); an item journalled as
            ``ok`` with one of them missing is run again.
        setup_fn, teardown_fn, parallel_config, desc, retry_errors: As for
            :func:`espnet_cause.parallel.run_items`.

    Returns:
        The records of all ``items`` by key, in item order; each has ``key``, ``status``
        (``"ok"`` or ``"error"``) and, for errors, ``reason``.
    """
    where = BatchDir(Path(output_dir))
    where.work.mkdir(parents=True, exist_ok=True)
    _apply_settings(where, settings, desc)
    if item_files is not None:
        _forget_incomplete(where, item_files)
    records = run_items(
        items,
        fn,
        journal=where.journal,
        setup_fn=setup_fn,
        teardown_fn=teardown_fn,
        parallel_config=parallel_config,
        desc=desc,
        retry_errors=retry_errors,
    )
    return {key: records[key] for key, _ in items if key in records}


def ok_keys(records: dict[str, dict]) -> list[str]:
    """Keys whose record has status ``ok``, in record order."""
    return [key for key, rec in records.items() if rec.get("status") == "ok"]


def _apply_settings(where: BatchDir, settings: dict, desc: str) -> None:
    settings = json.loads(json.dumps(settings))  # the form it is stored in (tuples -> lists)
    if where.settings.is_file():
        try:
            old = json.loads(where.settings.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            old = None
        if old != settings:
            logger.info("%s: settings changed; starting over in %s", desc or "batch", where.root)
            where.journal.unlink(missing_ok=True)
            shutil.rmtree(where.items, ignore_errors=True)
    elif where.journal.is_file():  # a journal without its settings cannot be trusted
        where.journal.unlink()
        shutil.rmtree(where.items, ignore_errors=True)
    with atomic_write(where.settings) as tmp:
        tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _forget_incomplete(where: BatchDir, item_files: Callable[[str], Iterable[Path]]) -> None:
    """Drop journal records of ``ok`` items whose result files went missing."""
    records = read_journal(where.journal)
    stale = {
        key
        for key, rec in records.items()
        if rec.get("status") == "ok" and not all(Path(p).is_file() for p in item_files(key))
    }
    if not stale:
        return
    logger.info("%d journalled results are missing; redoing them", len(stale))
    kept = [rec for key, rec in records.items() if key not in stale]
    with atomic_write(where.journal) as tmp:
        tmp.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8"
        )


def gather_ark(
    ark_path: str | os.PathLike,
    scp_path: str | os.PathLike,
    files: dict[str, Path],
    *,
    fps: float | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    vectors: bool = False,
    num_columns: int | None = None,
) -> None:
    """Gather per-item ``.npy`` results into one Kaldi ark and its scp, atomically.

    Args:
        ark_path, scp_path: The outputs.
        files: ``key -> .npy`` file, in the order to write.
        fps: AU frame rate, written to the ``au_fps`` file beside the scp (AU matrices only).
        transform: Applied to each loaded array before it is written.
        vectors: The arrays are 1-D vectors (e.g. utterance embeddings), not (T, 17) AU matrices.
        num_columns: Columns of the matrices when they are not 17 AUs (51 blendshapes).
    """
    from espnet_cause.io.au_files import AUArkWriter, KaldiArkWriter

    writer = (
        KaldiArkWriter(ark_path, scp_path)
        if vectors
        else AUArkWriter(
            ark_path, scp_path, fps=fps, **({"num_columns": num_columns} if num_columns else {})
        )
    )
    with writer:
        for key, path in files.items():
            array = np.load(path)
            writer.write(key, transform(array) if transform is not None else array)


def write_report(
    path: str | os.PathLike,
    rows: Iterable[dict],
    columns: Sequence[str] = (),
) -> None:
    """Write the job's report: a TSV with ``key``, ``status``, ``reason`` and ``columns``.

    Args:
        path: The report file (written atomically).
        rows: One dict per item (a runner record, or the job's own row); missing values are
            empty, a missing reason is ``-``; values are made one line without tabs.
        columns: The job's own columns, after the three common ones.
    """
    header = list(REPORT_COLUMNS) + [c for c in columns if c not in REPORT_COLUMNS]
    lines = ["\t".join(header)]
    for row in rows:
        values = {**row, "reason": row.get("reason") or "-"}
        lines.append("\t".join(" ".join(str(values.get(c, "")).split()) for c in header))
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def report_rows(keys: Iterable[str], records: dict[str, dict]) -> list[dict]:
    """One row per key: its record, or ``error``/``not run`` when it has none."""
    return [records.get(k, {"key": k, "status": "error", "reason": "not run"}) for k in keys]


def read_report(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Rows of a report by key (the inverse of :func:`write_report`)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return {f[0]: dict(zip(header, f)) for f in (ln.split("\t") for ln in lines[1:] if ln)}
