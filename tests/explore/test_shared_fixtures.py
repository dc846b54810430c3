"""A test run's shared fixtures: traces of their own, not tests, with their own findings.

Two hand-written runs of the same two tests: in ``serial`` the database setup
(2 s, an N+1 of its own) runs inside ``test_a``, under ``-n 2`` inside whichever
test each worker ran first; each time inside the setup of the class fixture that
asked for it (another trace, 2.1 s), as pytest-django's unittest support does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from dm_explore.cli import main
from tests.explore.fixtures import Writer

A, B = "tests/test_x.py::test_a", "tests/test_x.py::test_b"
SETUP = {"fixture": "django_db_setup", "scope": "session", "phase": "setup"}
CLASS = {"fixture": "_django_setup_unittest", "scope": "class", "phase": "setup"}
_SHAPE = "SELECT name FROM django_migrations WHERE app = %s"


def _test(w: Writer, nodeid: str, trace: str, at: float, fixture: str | None) -> None:
    """``nodeid`` from ``at``: 50 ms of its own, plus the database setup if ``fixture``."""
    span = trace[:16]
    w.ev("test.start", at, trace, span, nodeid=nodeid)
    w.ev("sql", at + 0.01, trace, span, sql="SAVEPOINT s1", params=[], ms=0.1)
    took = 0.05
    if fixture is not None:
        outer = "e" + fixture[1:]
        w.ev("span.start", at + 0.015, outer, outer[:16], name="fixture _django_setup_unittest",
             fields=CLASS)  # fmt: skip
        w.ev("span.start", at + 0.02, fixture, fixture[:16], name="fixture django_db_setup",
             fields=SETUP)  # fmt: skip
        for app in range(6):
            w.ev("sql", at + 0.03 + app / 1000, fixture, fixture[:16], sql=_SHAPE,
                 params=[f"app{app}"], ms=1.0)  # fmt: skip
        w.ev("span.end", at + 2.02, fixture, fixture[:16], ms=2000.0, outcome="ok",
             name="fixture django_db_setup")  # fmt: skip
        w.ev("span.end", at + 2.115, outer, outer[:16], ms=2100.0, outcome="ok",
             name="fixture _django_setup_unittest")  # fmt: skip
        took += 2.1
    w.ev("test.end", at + took, trace, span, ms=took * 1000, outcome="ok", nodeid=nodeid,
         result="passed")  # fmt: skip


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    return write_runs(tmp_path)


def write_runs(tmp_path: Path) -> tuple[Path, Path]:
    """The ``serial`` and ``parallel`` folders under ``tmp_path``."""
    serial = Writer("pytest", 10)
    serial.ev("process.start", 0.0, argv=["pytest"])
    _test(serial, A, "a1" * 16, 1.0, "f1" * 16)
    _test(serial, B, "b1" * 16, 4.0, None)
    serial.write(tmp_path / "serial" / "pytest.h1.10.jsonl")
    for pid, nodeid in ((11, A), (12, B)):  # one test per worker, each setting up the database
        worker = Writer("pytest", pid)
        worker.ev("process.start", 0.0, argv=["-c"])
        _test(worker, nodeid, f"{pid}" * 16, 1.0, f"f{pid - 10}" * 16)
        worker.write(tmp_path / "parallel" / f"pytest.h1.{pid}.jsonl")
    return tmp_path / "serial", tmp_path / "parallel"


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--format", "json"])
    return code, orjson.loads(capsys.readouterr().out)


def test_a_fixture_trace_is_no_test_and_holds_its_own_findings(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    serial, _ = runs
    code, report = _json(capsys, "report", str(serial), "--fail-on-error")
    assert code == 0 and report["failed"] is False
    assert report["summary"]["tests"] == 2 and report["summary"]["failed_tests"] == 0
    assert [t["nodeid"] for t in report["tests"]] == [A, B]
    assert [t["queries"] for t in report["tests"]] == [1, 1]  # the setup's SQL is not test_a's
    found = [(f["kind"], f["where"], f["max_per_unit"], f["example_trace"])
             for f in report["findings"]]  # fmt: skip
    assert found == [("n_plus_one", "fixture django_db_setup", 6, "f1" * 16)]


def test_diff_of_a_serial_and_a_parallel_run_finds_the_tests_unchanged(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    serial, parallel = runs
    code, diff = _json(capsys, "diff", str(serial), str(parallel), "--max-query-increase", "0",
                       "--max-slowdown", "2", "--fail-on-new-findings")  # fmt: skip
    assert code == 0, diff["crossed"]
    tests = {t["key"]: t for t in diff["tests"]}
    assert {key: t["change"] for key, t in tests.items()} == {A: "same", B: "same"}
    # A test's time is its own: the 2.1 s of setup that ran in it is left out, once.
    assert {key: (t["base"]["p50_ms"], t["head"]["p50_ms"]) for key, t in tests.items()} == {
        A: (50.0, 50.0), B: (50.0, 50.0)
    }  # fmt: skip
    assert diff["new_findings"] == [] and diff["fixed_findings"] == []
