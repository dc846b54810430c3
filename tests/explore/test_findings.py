"""Findings from hand-written folders: each detector, its threshold, and what it never counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dm_explore.ingest import ALL_TRACES, load_folder
from dm_explore.model import Model
from dm_explore.model.endpoints import endpoint_stats
from dm_explore.model.findings import FindingOptions, find_findings, url_pattern
from dm_explore.model.sql_kinds import is_transaction_control, normalize_sql
from tests.explore.fixtures import Writer

SITE = {"file": "/srv/app/shop/views.py", "line": 12, "func": "items"}
OTHER_SITE = {"file": "/home/ci/checkout/shop/views.py", "line": 40, "func": "items"}


def _trace(n: int) -> str:
    return f"{n:032x}"


def _span(n: int) -> str:
    return f"{n:016x}"


def _request(w: Writer, n: int, path: str, body: list[tuple[str, dict[str, Any]]]) -> None:
    """Request ``n`` on ``path`` (route ``items/<int:pk>/``) running ``body`` events under it."""
    trace, span = _trace(n), _span(n)
    w.ev("request.start", n, trace, span, method="GET", path=path)
    for kind, fields in body:
        w.ev(kind, n + 0.1, trace, fields.pop("span", span), fields.pop("parent", None), **fields)
    w.ev("request.end", n + 0.5, trace, span, ms=500.0, outcome="ok", status=200,
         route="items/<int:pk>/")  # fmt: skip


def _sql(
    sql: str, params: list[Any], ms: float = 1.0, site: dict[str, Any] = SITE
) -> tuple[str, dict[str, Any]]:
    return ("sql", {"sql": sql, "params": params, "ms": ms, "site": site})


def _load(w: Writer, folder: Path) -> Model:
    w.write(folder / "web.jsonl")
    return load_folder(folder, max_traces=ALL_TRACES).model


def test_sql_kinds() -> None:
    for sql in (
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        'SAVEPOINT "s1"',
        'RELEASE SAVEPOINT "s1"',
        "ROLLBACK TO SAVEPOINT s1",
        "START TRANSACTION",
        "end",
        "/* x */ commit;",
    ):
        assert is_transaction_control(sql), sql
    for sql in ("SELECT 1", "STARTING", "END_TIME", "UPDATE t SET end = 1", "RELEASED", ""):
        assert not is_transaction_control(sql), sql
    assert normalize_sql("SELECT * FROM t WHERE id IN (%s, %s, %s)") == normalize_sql(
        "SELECT  *  FROM t WHERE id IN (%s, %s)"
    )
    assert (
        normalize_sql("SELECT a FROM t WHERE id = 7 AND s = 'x'")
        == "SELECT a FROM t WHERE id = ? AND s = ?"
    )
    assert url_pattern("http://api:8001/api/courses/42/?x=1") == "http://api/api/courses/{id}/"
    assert url_pattern("https://h/u/3f2b9c1de0a14b7f/x") == "https://h/u/{id}/x"
    assert url_pattern("/items/") == "/items/"


def test_n_plus_one_and_duplicates_grouped_across_requests(tmp_path: Path) -> None:
    w = Writer("web", 1)
    select = 'SELECT "name" FROM "category" WHERE "id" = %s'
    for n, loops in ((1, 5), (2, 7), (3, 4)):  # the third stays under the threshold
        body = [_sql(select, [i]) for i in range(loops)]
        body += [_sql("SELECT 1 FROM flags", []), _sql("SELECT 1 FROM flags", [])]
        body += [_sql("BEGIN", []), _sql("COMMIT", [])] * 5  # transaction control: never
        _request(w, n, f"/items/{n}/", body)
    model = _load(w, tmp_path / "logs")
    found = {(f.kind, f.subject): f for f in find_findings(model)}
    assert {kind for kind, _ in found} == {"n_plus_one", "duplicate_query"}
    n1 = found[("n_plus_one", select)]
    assert (n1.svc, n1.where, n1.units, n1.min_per_unit, n1.max_per_unit) == (
        "web", "GET items/<int:pk>/", 2, 5, 7)  # fmt: skip
    assert n1.example_trace == _trace(2)  # the worst run is the one to open
    assert n1.site == "/srv/app/shop/views.py:12 in items"
    dup = found[("duplicate_query", "SELECT ? FROM flags")]
    assert (dup.units, dup.max_per_unit) == (3, 2)
    assert len(find_findings(model, FindingOptions(n_plus_one=4))) == 2
    assert (
        found[("n_plus_one", select)].fingerprint
        == next(
            f for f in find_findings(model, FindingOptions(n_plus_one=4)) if f.kind == "n_plus_one"
        ).fingerprint
    )
    assert [f.units for f in find_findings(model, FindingOptions(n_plus_one=4))
            if f.kind == "n_plus_one"] == [3]  # fmt: skip
    # The fingerprint leaves the folder and the line out: another checkout, an edit above.
    w2 = Writer("web", 2)
    _request(w2, 1, "/items/1/", [_sql(select, [i], site=OTHER_SITE) for i in range(5)])
    other = find_findings(_load(w2, tmp_path / "other"))
    assert [f.fingerprint for f in other] == [n1.fingerprint]


def test_slow_queries_api_n_plus_one_and_consecutive_calls(tmp_path: Path) -> None:
    w = Writer("web", 1)
    body: list[tuple[str, dict[str, Any]]] = [_sql("SELECT * FROM big", [], ms=250.0)]
    for i in range(6):  # six calls one after the other, the same pattern but one
        call = _span(100 + i)
        url = f"http://api:8001/api/courses/{i}/" if i else "http://api:8001/api/courses/"
        body.append(("http.start", {"span": call, "parent": _span(1), "method": "GET", "url": url}))
        body.append(("http.end", {"span": call, "parent": _span(1), "ms": 40.0, "outcome": "ok",
                                  "status": 200}))  # fmt: skip
    _request(w, 1, "/items/1/", body)
    model = _load(w, tmp_path / "logs")
    # The events above share one time: spread the calls out so that each follows the last.
    calls = sorted((s for s in model.spans.values() if s.kind == "http"), key=lambda s: s.seq)
    for i, call in enumerate(calls):
        call.start_ts, call.end_ts = 1000.0 + i, 1000.5 + i
    found = {f.kind: f for f in find_findings(model)}
    assert set(found) == {"slow_query", "n_plus_one_api", "consecutive_http"}
    assert found["slow_query"].subject == "SELECT * FROM big"
    assert found["n_plus_one_api"].subject == "GET http://api/api/courses/{id}/"
    assert found["n_plus_one_api"].max_per_unit == 5
    consecutive = found["consecutive_http"]
    assert consecutive.max_per_unit == 6
    assert consecutive.subject == "GET http://api/api/courses/ ; GET http://api/api/courses/{id}/"
    options = FindingOptions(slow_query_ms=300, n_plus_one_api=6, consecutive_http=7)
    assert find_findings(model, options) == []
    calls[2].start_ts = calls[1].start_ts  # two calls at once: the run is broken in two
    runs = [f for f in find_findings(model) if f.kind == "consecutive_http"]
    assert [f.max_per_unit for f in runs] == [4]  # 2 + 4: only the second is long enough


def test_celery_retry_is_not_an_issue_nor_a_failure(tmp_path: Path) -> None:
    w = Writer("worker", 3)
    trace = _trace(9)
    for attempt, (state, outcome) in enumerate((("RETRY", "error"), ("SUCCESS", "ok"))):
        span = _span(90 + attempt)
        w.ev("task.start", 1 + attempt, trace, span, task="shop.flaky", task_id="t1",
             retries=attempt)  # fmt: skip
        if state == "RETRY":
            w.ev("exception", 1.1, trace, span, type="celery.exceptions.Retry",
                 message="Retry in 0s", fingerprint="f" * 16, handled=True, frames=[])  # fmt: skip
        w.ev("task.end", 1.5 + attempt, trace, span, task="shop.flaky", state=state,
             outcome=outcome, ms=10.0, retries=attempt)  # fmt: skip
    w.ev("exception", 3.0, trace, _span(91), type="ValueError", message="real",
         fingerprint="e" * 16, handled=False, frames=[])  # fmt: skip
    model = _load(w, tmp_path / "logs")
    assert [i.type for i in model.issues.values()] == ["ValueError"]
    assert model.totals["exceptions"] == 1 and model.totals["control_flow"] == 1
    (task,) = endpoint_stats(model)
    assert (task.key, task.count, task.retries, task.errors) == ("worker task shop.flaky", 2, 1, 0)
    # The attempt that asked to be run again is shown as a retry, not as a failure.
    first, second = (model.span(_span(90 + n), trace) for n in range(2))
    assert first is not None and second is not None
    assert (first.outcome, first.has_error) == ("retry", False)
    assert (second.outcome, second.errors) == ("ok", 1)  # the ValueError above
