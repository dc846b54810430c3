"""Trace and span ids never repeat, whatever the application does to ``random``.

Test suites seed ``random`` in fixtures (factories, fakers); scripts seed it for
reproducible runs. None of that may make two processes, two runs or two tests write
the same trace or span id: the writer draws ids from a generator of its own, seeded
from ``os.urandom`` and reseeded in every forked child.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import dm_log
from tests.conftest import read_events

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import random, dm_log
random.seed(1234)
with dm_log.span("seeded-script"):
    with dm_log.span("child"):
        dm_log.metric("m", 1)
"""

SEEDED_TESTS = """
import random
import pytest
import dm_log

@pytest.fixture(autouse=True)
def seeded():
    random.seed(1234)

@pytest.mark.parametrize("n", range(4))
def test_seeded(n):
    with dm_log.span("in-test", n=n):
        dm_log.metric("m", n)
"""


def _env(folder: Path) -> dict[str, str]:
    env = {**os.environ, "DM_LOG_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    for name in ("DM_SERVICE", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    return env


def _starts(folder: Path) -> list[dict]:
    return [e for e in read_events(folder) if e["event"].endswith(".start") and "span" in e]


def test_seeded_processes_and_seeded_tests_never_share_an_id(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    script = tmp_path / "seeded.py"
    script.write_text(SCRIPT)
    tests = tmp_path / "test_seeded.py"
    tests.write_text(textwrap.dedent(SEEDED_TESTS))
    for _ in range(2):  # the same seeded script, twice
        subprocess.run([sys.executable, str(script)], env=_env(folder), check=True, timeout=60)
    for _ in range(2):  # a seeded pytest session of four tests, twice
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
             str(tests)],
            env=_env(folder), cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    starts = _starts(folder)
    names = [e.get("name") for e in starts]
    assert names.count("seeded-script") == 2 and names.count("in-test") == 8, names
    spans = [e["span"] for e in starts]
    assert len(spans) == len(set(spans)), "a span id repeated"
    roots = [e["trace"] for e in starts if "parent" not in e]
    assert len(roots) == len(set(roots)), "a trace id repeated"
    # Each trace holds spans of one process only: no two runs merged into one trace.
    pids_per_trace: dict[str, set[int]] = {}
    for e in starts:
        pids_per_trace.setdefault(e["trace"], set()).add(e["pid"])
    assert all(len(p) == 1 for p in pids_per_trace.values()), pids_per_trace


def _span_ids_after_seeding() -> tuple[str, str]:
    random.seed(1234)
    with dm_log.span("seeded") as s:
        assert s.trace_id is not None and s.span_id is not None
        return s.trace_id, s.span_id


def test_seeding_random_in_a_test_does_not_steer_the_ids(log_dir: Path) -> None:
    first = _span_ids_after_seeding()
    second = _span_ids_after_seeding()
    assert first[0] != second[0] and first[1] != second[1]
    random.seed(1234)
    assert first[1] != f"{random.getrandbits(64) | 1:016x}"  # not the global generator's draw


def test_seeding_random_in_another_test_gives_other_ids_again(log_dir: Path) -> None:
    ids = {_span_ids_after_seeding() for _ in range(20)}
    assert len(ids) == 20


def test_a_forked_child_draws_ids_of_its_own(log_dir: Path) -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            with dm_log.span("child") as s:
                os.write(write, json.dumps([s.trace_id, s.span_id]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with dm_log.span("parent") as s:
        mine = [s.trace_id, s.span_id]
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        theirs = json.loads(f.read())
    assert mine[0] != theirs[0] and mine[1] != theirs[1]
