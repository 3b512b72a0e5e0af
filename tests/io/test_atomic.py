"""atomic_write and the output checks: real errors, named, never hidden by the clean-up."""

from __future__ import annotations

import errno
import os

import pytest

from espnet_cause.errors import CauseError
from espnet_cause.io import atomic
from espnet_cause.io.atomic import atomic_write, check_output, check_output_dir


def test_failed_rename_on_read_only_fs_is_the_reported_error(tmp_path, monkeypatch):
    """On a read-only file system both the rename and the clean-up fail; the first one counts."""
    target = tmp_path / "out.npy"

    def replace(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(src), None, str(dst))

    def unlink(self, missing_ok=False):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    monkeypatch.setattr(atomic.os, "replace", replace)
    monkeypatch.setattr(atomic.Path, "unlink", unlink)
    with pytest.raises(CauseError, match="out.npy: cannot write the output: Read-only file system"):
        with atomic_write(target) as tmp:
            tmp.write_bytes(b"x")


def test_body_error_on_the_temporary_file_names_the_output(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(CauseError, match="out.txt: cannot write the output"):
        with atomic_write(target) as tmp:
            raise PermissionError(errno.EACCES, "Permission denied", str(tmp))
    assert not any(tmp_path.iterdir())


def test_other_errors_pass_through_and_leave_nothing(tmp_path):
    with pytest.raises(ValueError):
        with atomic_write(tmp_path / "out.txt") as tmp:
            tmp.write_text("half")
            raise ValueError("computation failed")
    assert not any(tmp_path.iterdir())


def test_output_path_that_is_a_directory(tmp_path):
    with pytest.raises(CauseError, match="is a directory"):
        with atomic_write(tmp_path):
            pass
    with pytest.raises(CauseError, match="--output is a directory"):
        check_output(tmp_path, what="--output")


def test_check_output_writes_nothing(tmp_path):
    before = os.stat(tmp_path).st_mtime_ns
    check_output(tmp_path / "new" / "deeper" / "out.csv", suffixes=(".csv",))
    check_output_dir(tmp_path / "dir")
    assert os.stat(tmp_path).st_mtime_ns == before and not any(tmp_path.iterdir())


def test_output_dir_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(CauseError, match="not a directory"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(CauseError, match="not a directory"):
        check_output(tmp_path / "f" / "out.csv")
