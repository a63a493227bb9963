"""Fixtures: the sample extract and the `strata` binary whose outputs the
Python package must equal."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample-data"
INDEX_DATE = "2026-03-31"


def _binary() -> Path:
    given = os.environ.get("STRATA_BIN")
    if given:
        return Path(given)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "strata"


@pytest.fixture(scope="session")
def strata_bin() -> Path:
    """The CLI built from this checkout (`cargo build`); STRATA_BIN overrides."""
    path = _binary()
    if not path.is_file():
        pytest.fail(f"{path}: no strata binary; run `cargo build` first or set STRATA_BIN")
    return path


@pytest.fixture(scope="session")
def cli(strata_bin):
    """Runs the binary in the repository root (so its default model path
    resolves) and returns the completed process."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(strata_bin), "-q", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"strata {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done

    return run
