"""Stage 3 in N jobs: ESPnet ``--collect_stats`` on shards of the keys, merged by ESPnet.

As ESPnet's own recipes do it (``asr.sh`` stage 10): the train and valid key files are split into
N contiguous shards (like Kaldi's ``split_scp.pl``), ``cause_train --collect_stats true`` runs once
per shard into ``OUTPUT_DIR/split<N>/stats.<n>`` (each with its log beside it), and
``espnet2.bin.aggregate_stats_dirs`` sums the shards' ``*_stats.npz`` and concatenates their shape
files into ``OUTPUT_DIR/{train,valid}``. The shards are items of
:func:`espnet_cause.jobs.parallel.run_items`, so they run on the configured Dask cluster (local, SLURM,
...), and a re-run redoes only the shards that did not finish.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.jobs.parallel import run_items

logger = logging.getLogger(__name__)


def split_key_file(path: str | os.PathLike, n: int, out_paths: Sequence[Path]) -> None:
    """Write ``path``'s lines into ``n`` contiguous shards of sizes differing by at most one.

    Args:
        path: A ``<key> <value>`` file (an ESPnet shape file or ``wav.scp``).
        n: Number of shards (``len(out_paths)``), at most the number of lines.
        out_paths: The shard files, written atomically.

    Raises:
        CauseError: naming the file when it has fewer lines than shards.
    """
    lines = [f"{k} {v}\n" for k, v in read_kaldi_map(path).items()]
    if len(lines) < n:
        raise CauseError(
            f"{len(lines)} lines cannot be split into {n} jobs", path=path, fix="use fewer jobs"
        )
    start = 0
    for i, out in enumerate(out_paths):
        size = len(lines) // n + (1 if i < len(lines) % n else 0)
        with atomic_write(out) as tmp:
            tmp.write_text("".join(lines[start : start + size]), encoding="utf-8")
        start += size


def run_shard(key: str, payload: dict) -> dict:
    """Run one shard's ``cause_train --collect_stats true`` (a module-level Dask item).

    Args:
        key: The shard's name (``stats.<n>``).
        payload: ``args`` (the cause_train arguments without shape files and output dir),
            ``train_shape_file``, ``valid_shape_file``, ``output_dir`` and ``log`` (paths).

    Raises:
        CauseError: naming the shard's log when the job fails.
    """
    cmd = [
        sys.executable, "-m", "espnet_cause.bin.cause_train", "--collect_stats", "true",
        *payload["args"],
        "--train_shape_file", payload["train_shape_file"],
        "--valid_shape_file", payload["valid_shape_file"],
        "--output_dir", payload["output_dir"],
    ]  # fmt: skip
    log = Path(payload["log"])
    with open(log, "w", encoding="utf-8") as f:
        f.write("# " + " ".join(cmd) + "\n")
        f.flush()
        code = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        raise CauseError(
            f"collect_stats job {key} exited with {code}: {' '.join(tail)}",
            path=log,
            fix="read the log",
        )
    return {"output_dir": payload["output_dir"]}


def collect_stats(
    *,
    train_args: Sequence[str],
    train_shape_file: str | os.PathLike,
    valid_shape_file: str | os.PathLike,
    output_dir: str | os.PathLike,
    nj: int,
    parallel_config=None,
) -> Path:
    """ESPnet statistics of a CAUSE training setup, computed in ``nj`` jobs and aggregated.

    Args:
        train_args: ``cause_train`` arguments (config, data paths) except ``--collect_stats``,
            ``--output_dir`` and the shape files.
        train_shape_file: Key file of the training set (``dump/train/wav.scp``).
        valid_shape_file: Key file of the validation set.
        output_dir: Where ESPnet's ``train/`` and ``valid/`` statistics go (``exp/stats``).
        nj: Number of jobs; fewer if a set has fewer utterances.
        parallel_config: From :func:`espnet_cause.jobs.parallel.load_parallel_config`; None runs the
            jobs one after another in this process.

    Returns:
        ``output_dir``.

    Raises:
        CauseError: a job failed (its log is named) or a key file is missing or too short.
    """
    from espnet2.bin.aggregate_stats_dirs import aggregate_stats_dirs

    output_dir = Path(output_dir)
    sizes = [len(read_kaldi_map(p)) for p in (train_shape_file, valid_shape_file)]
    n = max(1, min(nj, *sizes))
    if n < nj:
        logger.warning(
            "%d jobs requested, %d used (the smaller set has %d keys)", nj, n, min(sizes)
        )
    split = output_dir / f"split{n}"
    split.mkdir(parents=True, exist_ok=True)
    shards = {}
    for name, path in (("train", train_shape_file), ("valid", valid_shape_file)):
        shards[name] = [split / f"{name}.{i}.scp" for i in range(1, n + 1)]
        split_key_file(path, n, shards[name])
    items = [
        (
            f"stats.{i}",
            {
                "args": list(train_args),
                "train_shape_file": str(shards["train"][i - 1]),
                "valid_shape_file": str(shards["valid"][i - 1]),
                "output_dir": str(split / f"stats.{i}"),
                "log": str(split / f"stats.{i}.log"),
            },
        )
        for i in range(1, n + 1)
    ]
    records = run_items(
        items,
        run_shard,
        journal=split / "journal.jsonl",
        parallel_config=parallel_config,
        desc="collect_stats jobs",
        retry_errors=True,
    )
    failed = [r for r in records.values() if r.get("status") != "ok"]
    if failed:  # each reason names its job's log and the fix; finished jobs are kept
        raise CauseError(f"{len(failed)} of {n} collect_stats jobs failed; {failed[0]['reason']}")
    aggregate_stats_dirs(
        input_dir=[split / f"stats.{i}" for i in range(1, n + 1)],
        output_dir=output_dir,
        log_level="WARNING",
        skip_sum_stats=False,
    )
    logger.info("statistics of %d jobs aggregated into %s", n, output_dir)
    return output_dir
