"""What the OTLP tests share: a receiver on loopback, and the CLI run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otlp.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def dm_explore(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``dm-explore ARGS`` in a subprocess (the environment plus ``env``), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args], capture_output=True, text=True,
        timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )  # fmt: skip
