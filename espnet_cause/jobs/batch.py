"""The one batch runner: every per-item job (inference, TTS feature export, AU labels, AU
extraction, face crops) runs through :func:`run_batch` and reports with :func:`write_report`.

A job gives its items (``(key, payload)`` pairs), a module-level function that does one item
(``fn(key, payload, **env) -> record``, see :func:`espnet_cause.jobs.parallel.run_items`, which runs
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

**Keys** become file names (``.work/items/<key>.npy``, ``OUTPUT_DIR/<key>.csv``), so each is
checked first (:func:`key_problem`: Kaldi keys are printable, without white space or ``/``, and do
not start with ``.``); a bad key is a skipped item whose reason names the line of the list it came
from, and nothing is written for it.

**One writer per output directory**: a job holds ``OUTPUT_DIR/.work/lock`` (:func:`output_lock`,
taken by :func:`run_batch` if the job has not taken it already) while it runs. The file names the
holder (pid, host, start time, command); a second run into the same directory refuses with that
message. The lock is an ``flock`` on that file, which the kernel drops when its holder dies, so
after a ``kill -9`` the next run takes it over (and says so).

**Damaged results**: a journalled ``.npy`` result that no longer loads (truncated, overwritten)
counts as missing: the item is redone.

At the end the job writes one TSV report (:func:`finish`; the report is ``key``, ``status``,
``reason``, then the job's own columns), logs a summary line ``N of M items done, K skipped``, and
gathers its per-item arrays into Kaldi ark/scp (:func:`gather_ark`).

**Failure rule** (the same for every batch, flag ``--max_fail_fraction``, default
:data:`DEFAULT_MAX_FAIL_FRACTION`): the job exits non-zero, after writing its report, when no item
succeeded or when more than that fraction of its items was skipped (:func:`check_fail_fraction`).
A script can act on the exit code; the last line of the log says why.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.au_files import AUArkWriter, KaldiArkWriter
from espnet_cause.io.lock import hold_lock
from espnet_cause.jobs.parallel import read_journal, run_items

logger = logging.getLogger(__name__)

#: Sub-directory of the output directory that holds the runner's state.
WORK_DIR = ".work"
#: The columns every report starts with.
REPORT_COLUMNS = ("key", "status", "reason")
#: Longest key in bytes (a file name, plus room for the result suffix, within NAME_MAX 255).
MAX_KEY_BYTES = 200
#: A batch fails when more than this fraction of its items was skipped (``--max_fail_fraction``;
#: stage 2 of the recipe, whose items become training labels, uses 0.3).
DEFAULT_MAX_FAIL_FRACTION = 0.5


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a result file, or None when it can.

    A Kaldi key is a non-empty run of printable characters without white space; here it also
    may not contain ``/`` or a NUL and may not start with ``.`` (``..``, hidden files), so a
    key can never name a file outside its output directory.
    """
    if not key:
        return "the key is empty"
    if "/" in key or "\\" in key:
        return "the key contains a path separator ('/' or '\\')"
    if key.startswith("."):
        return "the key starts with '.' (hidden file or parent directory)"
    if not key.isprintable() or any(c.isspace() for c in key):
        return "the key has white space or unprintable characters"
    if len(key.encode("utf-8", "surrogateescape")) > MAX_KEY_BYTES:
        return f"the key is longer than {MAX_KEY_BYTES} bytes"
    return None


def _line_of(key: str, source: Path | None) -> str:
    """``source:LINE`` of the first line whose first field is ``key`` (for messages)."""
    if source is None:
        return "the item list"
    with contextlib.suppress(OSError):
        with open(source, "rb") as f:
            for lineno, raw in enumerate(f, start=1):
                first = raw.decode("utf-8", "replace").split(maxsplit=1)
                if first and first[0] == key:
                    return f"{source}:{lineno}"
    return str(source)


def output_lock(output_dir: str | os.PathLike):
    """Hold ``output_dir/.work/lock`` for a ``with`` block: one writer per output directory.

    See :func:`espnet_cause.io.lock.hold_lock` (re-entrant within a process; the file names the
    holder; a second live run is refused with a CauseError naming it).
    """
    return hold_lock(BatchDir(Path(output_dir)).lock)


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

    @property
    def lock(self) -> Path:
        return self.work / "lock"

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
    keys_from: str | os.PathLike | None = None,
) -> dict[str, dict]:
    """Run ``fn`` over ``items`` under the rules of the module docstring.

    Args:
        items: ``(key, payload)`` pairs; payloads must pickle when a cluster is used.
        fn: Module-level ``fn(key, payload, **env) -> dict`` that writes the item's results.
        output_dir: The job's output directory (created as needed; locked while this runs).
        settings: JSON-able settings that change per-item results; other settings start over.
        item_files: The files an ``ok`` item leaves (``key -> paths``); an item journalled as
            ``ok`` with one of them missing or damaged is run again.
        setup_fn, teardown_fn, parallel_config, desc, retry_errors: As for
            :func:`espnet_cause.jobs.parallel.run_items`.
        keys_from: The list the keys were read from (e.g. ``wav.scp``), named with the line
            in the reason of a bad key.

    Returns:
        The records of all ``items`` by key, in item order; each has ``key``, ``status``
        (``"ok"`` or ``"error"``) and, for errors, ``reason``.

    Raises:
        CauseError: when another run holds the output directory.
    """
    where = BatchDir(Path(output_dir))
    source = Path(keys_from) if keys_from is not None else None
    bad: dict[str, dict] = {}
    for key, _ in items:
        problem = key_problem(key)
        if problem is not None:
            reason = f"{_line_of(key, source)}: {problem}; not used as a file name"
            bad[key] = {"key": key, "status": "error", "reason": reason}
            logger.warning("skipping key %r: %s", key, reason)
    good = [(key, payload) for key, payload in items if key not in bad]
    with output_lock(where.root):
        _apply_settings(where, settings, desc)
        if item_files is not None:
            _forget_incomplete(where, item_files)
        records = run_items(
            good,
            fn,
            journal=where.journal,
            setup_fn=setup_fn,
            teardown_fn=teardown_fn,
            parallel_config=parallel_config,
            desc=desc,
            retry_errors=retry_errors,
        )
    records |= bad
    return {key: records[key] for key, _ in items if key in records}


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


def _result_intact(path: Path) -> bool:
    """The file is there and, for ``.npy``, its header and data length agree."""
    if not path.is_file():
        return False
    if path.suffix == ".npy":
        fmt = np.lib.format
        try:
            with open(path, "rb") as f:
                major, _ = fmt.read_magic(f)
                read_header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
                shape, _, dtype = read_header(f)
                expected = f.tell() + int(np.prod(shape)) * dtype.itemsize
            intact = not dtype.hasobject and path.stat().st_size == expected
        except (OSError, ValueError, EOFError, SyntaxError):
            intact = False
        if not intact:
            logger.warning("%s is damaged (does not load); redoing its item", path)
        return intact
    return True


def _forget_incomplete(where: BatchDir, item_files: Callable[[str], Iterable[Path]]) -> None:
    """Drop journal records of ``ok`` items whose result files went missing or are damaged."""
    records = read_journal(where.journal)
    stale = {
        key
        for key, rec in records.items()
        if rec.get("status") == "ok" and not all(_result_intact(Path(p)) for p in item_files(key))
    }
    if not stale:
        return
    logger.info("%d journalled results are missing or damaged; redoing them", len(stale))
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
    transforms: dict[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    vectors: bool = False,
    num_columns: int | None = None,
) -> None:
    """Gather per-item ``.npy`` results into one Kaldi ark and its scp, atomically.

    Args:
        ark_path, scp_path: The outputs.
        files: ``key -> .npy`` file, in the order to write.
        fps: AU frame rate, written to the ``au_fps`` file beside the scp (AU matrices only).
        transform: Applied to each loaded array before it is written.
        transforms: Per key, applied after ``transform`` (keys not in it: nothing more).
        vectors: The arrays are 1-D vectors (e.g. utterance embeddings), not (T, 17) AU matrices.
        num_columns: Columns of the matrices when they are not 17 AUs (51 blendshapes).
    """

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
            if transform is not None:
                array = transform(array)
            if transforms and key in transforms:
                array = transforms[key](array)
            writer.write(key, array)


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


def finish(
    report: str | os.PathLike,
    keys: Iterable[str],
    records: dict[str, dict],
    columns: Sequence[str] = (),
    *,
    what: str = "item",
    max_fail_fraction: float = DEFAULT_MAX_FAIL_FRACTION,
) -> list[str]:
    """End a job: write its report, log each skipped item and a summary, apply the failure rule.

    Args:
        report: The report file (see :func:`write_report`).
        keys: All the job's keys, in report order.
        records: The runner's records by key.
        columns: The job's own report columns.
        what: What an item is, for the messages ("utterance", "video").
        max_fail_fraction: See :func:`check_fail_fraction`.

    Returns:
        The keys whose status is ``ok``, in ``keys`` order.

    Raises:
        CauseError: naming the report when no item succeeded or more than ``max_fail_fraction``
            of them failed (the report is written first).
    """

    keys = list(keys)
    rows = report_rows(keys, records)
    write_report(report, rows, columns)
    ok = [row["key"] for row in rows if row.get("status") == "ok"]
    failed = [row for row in rows if row.get("status") != "ok"]
    for row in failed:
        logger.warning("skipped %s: %s", row["key"], row.get("reason"))
    log = logger.warning if failed else logger.info
    log("%d of %d %ss done, %d skipped (see %s)", len(ok), len(keys), what, len(failed), report)
    first = failed[0].get("reason") if failed else None
    check_fail_fraction(len(failed), len(keys), max_fail_fraction, report, what=what, first=first)
    return ok


def check_fail_fraction(
    failed: int,
    total: int,
    max_fail_fraction: float,
    report: str | os.PathLike,
    *,
    what: str = "item",
    first: str | None = None,
) -> None:
    """The failure rule of every batch: fail when none succeeded or more than the fraction failed.

    Args:
        failed: Items skipped.
        total: All items.
        max_fail_fraction: The largest tolerated fraction of skipped items (0 to 1).
        report: The job's report, named in the message.
        what: What an item is, for the message.
        first: The first skipped item's reason, quoted in the message.

    Raises:
        CauseError: ``F of N <what>s failed (more than --max_fail_fraction X)`` naming the report.
    """
    if not 0.0 <= max_fail_fraction <= 1.0:
        raise CauseError(
            f"--max_fail_fraction must be between 0 and 1, got {max_fail_fraction:g}",
            fix="e.g. --max_fail_fraction 0.5 (fail when more than half the items are skipped)",
        )
    if total and failed < total and failed <= max_fail_fraction * total:
        return
    reason = f"; first: {first}" if first else ""
    if failed >= total:
        message = f"no {what} could be processed ({failed} failed{reason})"
    else:
        message = (
            f"{failed} of {total} {what}s failed, more than --max_fail_fraction "
            f"{max_fail_fraction:g}{reason}"
        )
    raise CauseError(
        message,
        path=report,
        fix="read the reasons in the report; fix the inputs or raise --max_fail_fraction",
    )


def report_rows(keys: Iterable[str], records: dict[str, dict]) -> list[dict]:
    """One row per key: its record, or ``error``/``not run`` when it has none."""
    return [records.get(k, {"key": k, "status": "error", "reason": "not run"}) for k in keys]


def read_report(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Rows of a report by key (the inverse of :func:`write_report`)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return {f[0]: dict(zip(header, f)) for f in (ln.split("\t") for ln in lines[1:] if ln)}
