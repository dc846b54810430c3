"""The model's test list: every test span it holds, none it evicted."""

from __future__ import annotations

import orjson

from dm_explore.model import Model
from dm_explore.model.suite import suite_rows
from tests.explore.applying import apply_event
from tests.explore.fixtures import Writer


def _tests(count: int) -> Writer:
    w = Writer("pytest", 3)
    for i in range(count):
        trace, span = f"{i + 1:032x}", f"{i + 1:016x}"
        w.ev("test.start", 1 + i, trace, span, nodeid=f"t.py::test_{i}")
        w.ev("sql", 1 + i + 0.1, trace, span, sql="SELECT 1", params=[], ms=0.5)
        result = "failed" if i % 10 == 3 else "passed"
        w.ev("test.end", 1 + i + 0.2, trace, span, nodeid=f"t.py::test_{i}", ms=200.0,
             outcome="error" if result == "failed" else "ok", result=result)  # fmt: skip
    return w


def test_evicted_tests_leave_the_list_and_the_list_stays_bounded() -> None:
    model = Model(max_traces=10)
    fid = model.add_file("x")
    versions = []
    for line in _tests(50).lines:
        apply_event(model, fid, orjson.loads(line))
        versions.append(model.tests_version)
    assert len(model.tests) == 10 and len(model.traces) == 10
    assert all(model.spans.get(key) is span for key, span in model.tests.items())
    assert sorted(s.target or "" for s in model.tests.values()) == sorted(
        f"t.py::test_{i}" for i in range(40, 50)
    )
    assert versions == sorted(versions) and versions[-1] > 50  # moved on start, end, eviction
    suite = suite_rows(model)
    assert suite.total == 10 and suite.results == {"failed": 1, "passed": 9}
    assert [r.nodeid for r in suite.rows[:2]] == ["t.py::test_43", "t.py::test_49"]
    assert all(r.sql == 1 and r.requests == 0 for r in suite.rows)


def test_a_test_whose_process_died_is_killed_and_counted_a_failure() -> None:
    model = Model()
    fid = model.add_file("x")
    w = Writer("pytest", 3)
    w.ev("test.start", 1.0, "a" * 32, "b" * 16, nodeid="t.py::test_hangs")
    apply_event(model, fid, orjson.loads(w.lines[0]))
    assert suite_rows(model).rows[0].result == "running"
    before = model.tests_version
    model.set_process_alive(("pytest", "h1", 3), False)
    assert model.tests_version > before
    (row,) = suite_rows(model).rows
    assert row.result == "killed" and row.failed and row.ms is None
