"""Shared test fixtures: paths into ../shared, resolved in one place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The read-only directory of real media and models that sits beside the clone.
SHARED = Path(os.environ.get("ESPNET_CAUSE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared():
    """Resolve a file under ../shared, skipping the test with a reason naming it if it is absent.

    Usage: ``def test_x(shared): wav = shared("fixtures/speech/arctic_a0007.wav")``.
    """

    def resolve(relative: str) -> Path:
        path = SHARED / relative
        if not path.exists():
            pytest.skip(
                f"needs {path} (the shared fixtures beside the clone; set ESPNET_CAUSE_SHARED "
                "to their directory)"
            )
        return path

    return resolve
