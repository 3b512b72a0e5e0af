"""Per-item batch work (AU extraction, inference) in-process or on a Dask cluster.

The cluster comes from ``espnet3.parallel`` (a ``LocalCluster`` or, through dask-jobqueue, SLURM,
PBS, SGE, ...), configured by a YAML file under ``conf/parallel/``::

    env: slurm          # local | slurm | pbs | sge | lsf | htcondor | ...
    n_workers: 16
    options: {queue: cpu, cores: 1, memory: 4GB, walltime: "02:00:00"}

Each finished item is appended to a JSON-lines journal as soon as it returns, so a re-run after
a crash skips what is done. A failing item becomes a record with ``status: error`` and its
reason; it never stops the batch.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

#: Config keys that espnet3.parallel reads.
_CONFIG_KEYS = ("env", "n_workers", "options")


def load_parallel_config(path: str | os.PathLike | None):
    """Read a ``conf/parallel/*.yaml`` file into the config ``espnet3.parallel`` expects.

    Args:
        path: The YAML file; None, ``""`` or ``"none"`` means in-process execution.

    Returns:
        An omegaconf ``DictConfig`` with ``env``, ``n_workers`` and ``options``, or None.
    """
    if path is None or str(path) in ("", "none", "None"):
        return None
    from omegaconf import OmegaConf

    path = Path(path)
    if not path.is_file():
        raise CauseError(
            "parallel config not found", path=path, fix="use one of conf/parallel/*.yaml or 'none'"
        )
    config = OmegaConf.load(path)
    if "env" not in config:
        raise CauseError(
            "parallel config has no 'env'", path=path, fix="add 'env: local' (or slurm, pbs, sge)"
        )
    config.setdefault("n_workers", 1)
    config.setdefault("options", {})
    unknown = sorted(set(config) - set(_CONFIG_KEYS) - {"allow_overwrite_lock"})
    if unknown:
        raise CauseError(
            f"unknown keys {', '.join(unknown)}",
            path=path,
            fix=f"use only {', '.join(_CONFIG_KEYS)}",
        )
    return config


def read_journal(journal: str | os.PathLike) -> dict[str, dict]:
    """Records of a journal by key; a torn last line (crash mid-write) is ignored."""
    journal = Path(journal)
    records: dict[str, dict] = {}
    if not journal.is_file():
        return records
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "key" in record:
            records[record["key"]] = record
    return records


def run_items(
    items: Sequence[tuple[str, Any]],
    fn: Callable[..., dict],
    *,
    journal: str | os.PathLike,
    setup_fn: Callable[[], dict] | None = None,
    parallel_config=None,
    desc: str = "",
    retry_errors: bool = False,
    teardown_fn: Callable[[], None] | None = None,
) -> dict[str, dict]:
    """Run ``fn(key, payload, **env)`` for every item not yet in the journal.

    Args:
        items: ``(key, payload)`` pairs; payloads must pickle when a cluster is used.
        fn: A module-level function returning a JSON-able dict. It writes its own outputs
            (atomically); the record says what it did.
        journal: JSON-lines file of finished records (created as needed).
        setup_fn: Builds the per-worker environment once per process (for example a loaded
            model); its dict is passed to ``fn`` as keyword arguments.
        parallel_config: From :func:`load_parallel_config`; None runs in this process.
        desc: Label of the progress bar.
        retry_errors: Re-run items whose journal record is an error.
        teardown_fn: Releases what ``setup_fn`` built (for example native resources that must
            not be left to interpreter shutdown); run once per process at the end.

    Returns:
        The records of all ``items`` by key (from this run and earlier ones). Each has ``key``,
        ``status`` (``"ok"`` or ``"error"``) and, for errors, ``reason``.
    """
    from tqdm import tqdm

    journal = Path(journal)
    journal.parent.mkdir(parents=True, exist_ok=True)
    done = read_journal(journal)
    if retry_errors:
        done = {k: r for k, r in done.items() if r.get("status") != "error"}
    pending = [(k, p) for k, p in items if k not in done]
    if len(pending) < len(items):
        logger.info(
            "%s: %d of %d items already done (%s)",
            desc,
            len(items) - len(pending),
            len(items),
            journal,
        )
    bar = tqdm(total=len(pending), desc=desc or "items", unit="item", disable=not pending)
    with open(journal, "a", encoding="utf-8") as out:
        if _ends_without_newline(journal):
            out.write("\n")  # end a line torn by a crash, so the next record stands alone

        def record(rec: dict) -> None:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            out.flush()
            done[rec["key"]] = rec
            bar.update(1)

        if not pending:
            pass
        elif parallel_config is None:
            env = setup_fn() if setup_fn is not None else {}
            try:
                for key, payload in pending:
                    record(guarded_call(key, payload, fn, **env))
            finally:
                if teardown_fn is not None:
                    teardown_fn()
        else:
            _run_dask(pending, fn, setup_fn, teardown_fn, parallel_config, record)
    bar.close()
    return {k: done[k] for k, _ in items if k in done}


def _ends_without_newline(path: Path) -> bool:
    """True when the file's last byte is not a newline (a line torn by a crash)."""
    with open(path, "rb") as f:
        if f.seek(0, os.SEEK_END) == 0:
            return False
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def guarded_call(key: str, payload: Any, fn: Callable[..., dict], **env) -> dict:
    """Call ``fn`` and turn any exception into an error record (module level: it pickles)."""
    try:
        rec = dict(fn(key, payload, **env) or {})
        rec.setdefault("status", "ok")
    except CauseError as e:
        rec = {"status": "error", "reason": str(e)}
    except Exception as e:  # a bad item must not stop the batch; its reason goes to the report
        logger.debug("item %s failed:\n%s", key, traceback.format_exc())
        rec = {"status": "error", "reason": f"{type(e).__name__}: {e}"}
    rec["key"] = key
    return rec


def _empty_env() -> dict:
    return {}


def _run_dask(pending, fn, setup_fn, teardown_fn, config, record) -> None:
    from dask.distributed import as_completed
    from espnet3.parallel.parallel import get_client, wrap_func_with_worker_env

    # Dask logs every scheduler, nanny and connection event (and tracebacks of connections it
    # closes itself on shutdown) at INFO; keep its warnings and errors, unless debugging.
    if not logger.isEnabledFor(logging.DEBUG):
        for name in (
            "distributed",
            "distributed.batched",
            "distributed.scheduler",
            "distributed.nanny",
        ):
            logging.getLogger(name).setLevel(logging.WARNING)
    keys = [k for k, _ in pending]
    payloads = [p for _, p in pending]
    wrapped = wrap_func_with_worker_env(guarded_call)
    with get_client(config, setup_fn=setup_fn or _empty_env) as client:
        futures = client.map(wrapped, keys, payloads, [fn] * len(keys), pure=False)
        key_of = dict(zip(futures, keys))
        finished = as_completed(futures)
        seen: set = set()
        next_check = time.monotonic()

        def check_workers() -> None:
            nonlocal next_check
            if time.monotonic() >= next_check:
                _replace_lost_workers(client.cluster, config.n_workers, seen)
                next_check = time.monotonic() + _LOST_WORKER_CHECK_S

        try:
            while not finished.is_empty():
                batch = finished.next_batch(block=False)
                for future in batch:
                    record(_future_record(future, key_of[future], check_workers))
                check_workers()
                if not batch:
                    time.sleep(0.1)
        finally:
            if teardown_fn is not None:
                client.run(teardown_fn)


#: How often (seconds) the runner looks for cluster workers that died.
_LOST_WORKER_CHECK_S = 5.0


def _future_record(future, key: str, while_waiting: Callable[[], None]) -> dict:
    """The record a finished future returned; an item that keeps killing its worker is an error.

    A finished future's result can still be lost: the worker holding it may die (its job
    cancelled) before the result is fetched, and Dask then computes the item again. The fetch
    waits for that in slices of ``_LOST_WORKER_CHECK_S``, calling ``while_waiting`` between
    them, so that lost workers are replaced meanwhile (with every worker gone, nothing else would
    ever run the item again).
    """
    from distributed.scheduler import KilledWorker

    while True:
        try:
            return future.result(timeout=_LOST_WORKER_CHECK_S)
        except TimeoutError:
            while_waiting()
        except KilledWorker as e:
            return {
                "key": key,
                "status": "error",
                "reason": f"its Dask worker died each time it ran it (out of memory or a crash?): {e}",
            }


def _replace_lost_workers(cluster, n_workers: int, seen: set) -> list[str]:
    """Submit new jobs for workers that joined the cluster and then died.

    A batch scheduler ends worker jobs on its own (``scancel``, walltime, a failed node); Dask
    moves their tasks to the remaining workers but does not replace them, and with none left the
    batch would wait forever. A worker that was seen running and is no longer in
    ``cluster.workers`` (dask drops it ``lost-worker-timeout`` after its job ended) has its spec
    removed and the cluster is scaled back to ``n_workers``. Local clusters restart their worker
    processes themselves and never lose a name, so nothing changes there.

    Args:
        cluster: The client's cluster (a ``SpecCluster``: ``LocalCluster`` or a dask-jobqueue
            cluster); anything else is left alone.
        n_workers: The number of workers the config asked for.
        seen: Names of workers seen so far (updated in place).

    Returns:
        The names of the workers that were replaced.
    """
    specs = getattr(cluster, "worker_spec", None)
    workers = getattr(cluster, "workers", None)
    if specs is None or workers is None:
        return []
    running = set(list(workers))
    seen.update(running)
    lost = [name for name in list(specs) if name in seen and name not in running]
    if lost:
        for name in lost:
            del specs[name]
            seen.discard(name)
        logger.warning(
            "%d Dask worker(s) lost (%s: job cancelled, out of walltime or node failure); "
            "submitting replacements",
            len(lost),
            ", ".join(map(str, lost)),
        )
        cluster.scale(n_workers)
    return lost
