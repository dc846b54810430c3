"""``dm-explore report``: queries, repeats, slow spots and errors per test and per request.

The report is one plain dict (what ``--format json`` prints); text and markdown
are renderings of it (``dm_explore.report_render``). Definitions:

- *queries* of a request: its own ``sql`` events (SQL run in the spans it
  opened, such as custom spans, counts too); of a test: every ``sql`` event in
  its trace, fixtures and requests included.
- *repeats* of a statement: how often the same SQL text ran in one request or
  test; *identical* when the parameters were the same each time too.
- *N+1 suspect*: the same SQL text from the same call site at least
  :data:`N_PLUS_ONE` times in one request, with differing parameters.
- *errors*: ``exception`` events grouped by fingerprint.

Thresholds: ``max_queries`` and ``max_duplicates`` apply to each request and
task (a test's count includes its fixtures, so it is reported, never gated);
``fail_on_error`` to any ``exception`` event. Each crossing is listed under
``thresholds.crossed``; ``failed`` is true when there is any.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .otlp import SpanLike

__all__ = ["N_PLUS_ONE", "build_report"]

N_PLUS_ONE = 3
TOP = 10
_SQL_TEXT = 200


def _key(params: Any) -> str:
    return repr(params)


def _sql_stats(sql_events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts, time, repeats and N+1 suspects of a list of ``sql`` events."""
    by_text: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in sql_events:
        by_text[str(event.get("sql", ""))].append(event)
    repeated: list[dict[str, Any]] = []
    suspects: list[dict[str, Any]] = []
    for text, runs in by_text.items():
        if len(runs) < 2:
            continue
        identical = len({_key(r.get("params")) for r in runs}) == 1
        repeated.append({"sql": text[:_SQL_TEXT], "count": len(runs), "identical": identical})
        sites = Counter(_site(r) for r in runs)
        for site, count in sites.items():
            if count >= N_PLUS_ONE and not identical:
                suspects.append({"sql": text[:_SQL_TEXT], "count": count, "site": site})
    repeated.sort(key=lambda r: -r["count"])
    suspects.sort(key=lambda r: -r["count"])
    return {
        "queries": len(sql_events),
        "sql_ms": round(sum(float(e.get("ms") or 0) for e in sql_events), 3),
        "max_repeats": repeated[0]["count"] if repeated else (1 if sql_events else 0),
        "repeated": repeated,
        "n_plus_one": suspects,
    }


def _site(event: Mapping[str, Any]) -> str | None:
    site = event.get("site")
    if isinstance(site, Mapping) and site.get("file"):
        return f"{site['file']}:{site.get('line')}"
    return None


def _exception_summary(event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": event.get("type"),
        "message": event.get("message"),
        "fingerprint": event.get("fingerprint"),
        "svc": event.get("svc"),
    }


class _Index:
    """The spans of the folder, by id and by parent, with the subtree walk the report needs."""

    def __init__(self, spans: Iterable[SpanLike]) -> None:
        self.spans = list(spans)
        self.children: dict[str, list[SpanLike]] = defaultdict(list)
        for span in self.spans:
            if span.parent:
                self.children[span.parent].append(span)

    def subtree(self, root: SpanLike) -> list[SpanLike]:
        found, stack, seen = [], [root], {root.span}
        while stack:
            span = stack.pop()
            found.append(span)
            for child in self.children.get(span.span, ()):
                if child.span not in seen:
                    seen.add(child.span)
                    stack.append(child)
        return found

    def own(self, root: SpanLike, kind: str) -> list[Mapping[str, Any]]:
        """Events of ``kind`` in ``root`` and the spans under it that are not requests/tasks."""
        events: list[Mapping[str, Any]] = []
        stack = [root]
        while stack:
            span = stack.pop()
            events.extend(e for e in span.events if e.get("event") == kind)
            stack.extend(c for c in self.children.get(span.span, ()) if c.kind == "span")
        return events


def _fields(span: SpanLike) -> dict[str, Any]:
    return {**(span.start or {}), **(span.end or {})}


def _request_row(span: SpanLike, index: _Index) -> dict[str, Any]:
    fields = _fields(span)
    row = {
        "kind": span.kind,
        "svc": span.svc,
        "trace": span.trace,
        "span": span.span,
        "name": (
            f"{fields.get('method', '')} {fields.get('path', '')}".strip()
            if span.kind == "request"
            else str(fields.get("task", span.kind))
        ),
        "status": fields.get("status") if span.kind == "request" else fields.get("state"),
        "ms": fields.get("ms"),
        "finished": span.end is not None,
        **_sql_stats(index.own(span, "sql")),
        "errors": [_exception_summary(e) for e in index.own(span, "exception")],
    }
    return row


def _test_row(span: SpanLike, index: _Index) -> dict[str, Any]:
    fields = _fields(span)
    tree = index.subtree(span)
    sql = [e for s in tree for e in s.events if e.get("event") == "sql"]
    return {
        "nodeid": fields.get("nodeid"),
        "result": fields.get("result", "unfinished" if span.end is None else None),
        "message": fields.get("message"),
        "ms": fields.get("ms"),
        "svc": span.svc,
        "trace": span.trace,
        **_sql_stats(sql),
        "requests": [
            {
                "name": f"{_fields(s).get('method', '')} {_fields(s).get('path', '')}".strip(),
                "status": _fields(s).get("status"),
                "svc": s.svc,
            }
            for s in tree
            if s.kind == "request"
        ],
        "errors": [
            _exception_summary(e) for s in tree for e in s.events if e.get("event") == "exception"
        ],
    }


def build_report(
    spans: Iterable[SpanLike],
    *,
    max_queries: int | None = None,
    max_duplicates: int | None = None,
    fail_on_error: bool = False,
) -> dict[str, Any]:
    """The whole report as one JSON-ready dict (see the module docstring)."""
    index = _Index(spans)
    units = [s for s in index.spans if s.kind in ("request", "task")]
    requests = [_request_row(s, index) for s in units]
    tests = [_test_row(s, index) for s in index.spans if s.kind == "test"]
    sql = [(s, e) for s in index.spans for e in s.events if e.get("event") == "sql"]
    slow_sql = sorted(sql, key=lambda pair: -float(pair[1].get("ms") or 0))[:TOP]
    exceptions = [e for s in index.spans for e in s.events if e.get("event") == "exception"]
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in exceptions:
        groups[str(event.get("fingerprint"))].append(event)
    errors = [
        {
            **_exception_summary(events[0]),
            "count": len(events),
            "services": sorted({str(e.get("svc")) for e in events}),
        }
        for events in sorted(groups.values(), key=lambda g: (-len(g), str(g[0].get("fingerprint"))))
    ]
    crossed = []
    for row in requests:
        if max_queries is not None and row["queries"] > max_queries:
            crossed.append(
                f"{row['name']} [{row['svc']}]: {row['queries']} queries > {max_queries}"
            )
        if max_duplicates is not None and row["max_repeats"] > max_duplicates:
            crossed.append(
                f"{row['name']} [{row['svc']}]: one statement ran {row['max_repeats']} times"
                f" > {max_duplicates}"
            )
    if fail_on_error and exceptions:
        crossed.append(f"{len(exceptions)} exceptions recorded ({len(errors)} distinct)")
    return {
        "summary": {
            "tests": len(tests),
            "failed_tests": sum(t["result"] in ("failed", "error") for t in tests),
            "requests": sum(r["kind"] == "request" for r in requests),
            "tasks": sum(r["kind"] == "task" for r in requests),
            "queries": len(sql),
            "exceptions": len(exceptions),
            "unfinished_spans": sum(s.end is None for s in index.spans),
        },
        "failing_tests": [t for t in tests if t["result"] in ("failed", "error")],
        "tests": tests,
        "requests": requests,
        "slowest_requests": sorted(
            (r for r in requests if r["kind"] == "request" and r["ms"] is not None),
            key=lambda r: -float(r["ms"]),
        )[:TOP],
        "slowest_queries": [
            {
                "ms": e.get("ms"),
                "sql": str(e.get("sql", ""))[:_SQL_TEXT],
                "svc": s.svc,
                "site": _site(e),
                "trace": s.trace,
            }
            for s, e in slow_sql
        ],
        "n_plus_one": [
            {**suspect, "request": r["name"], "svc": r["svc"]}
            for r in requests
            for suspect in r["n_plus_one"]
        ],
        "errors": errors,
        "thresholds": {
            "max_queries": max_queries,
            "max_duplicates": max_duplicates,
            "fail_on_error": fail_on_error,
            "crossed": crossed,
        },
        "failed": bool(crossed),
    }
