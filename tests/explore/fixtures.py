"""Hand-written fixture folders for the explorer: every line chosen, every time fixed."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

T1 = "4bf92f3577b34da6a3ce929d0e0e4736"  # web -> api -> worker
T2 = "a3ce929d0e0e47364bf92f3577b34da6"  # the killed command
T3 = "0e0e47364bf92f3577b34da6a3ce929d"  # an older trace in the rotated segment
WEB_REQ, WEB_HTTP, API_REQ, TASK, ORPHAN = (
    "1000000000000001",
    "1000000000000002",
    "2000000000000001",
    "3000000000000001",
    "2000000000000009",
)
CMD = "4000000000000001"
_BASE = datetime(2026, 11, 23, 9, 0, 0)  # second 0 of every fixture


class Writer:
    """Lines for one process's file, with the envelope filled in."""

    def __init__(self, svc: str, pid: int, host: str = "h1") -> None:
        self.svc, self.pid, self.host, self.seq = svc, pid, host, 0
        self.lines: list[bytes] = []

    def ev(
        self,
        kind: str,
        second: float,
        trace: str | None = None,
        span: str | None = None,
        parent: str | None = None,
        **fields: Any,
    ) -> Writer:
        at = _BASE + timedelta(microseconds=round(second * 1_000_000))
        event: dict[str, Any] = {
            "v": 1,
            "ts": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "event": kind,
            "svc": self.svc,
            "host": self.host,
            "pid": self.pid,
            "seq": self.seq,
        }
        if span is not None:
            event["trace"], event["span"] = trace, span
            if parent is not None:
                event["parent"] = parent
        event.update(fields)
        self.lines.append(orjson.dumps(event) + b"\n")
        self.seq += 1
        return self

    def write(self, path: Path, *, tail: bytes = b"") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(self.lines) + tail)
        return path


def three_services(folder: Path) -> Path:
    """web -> http -> api -> task, an orphan, a killed command, garbage, a truncated line,
    a rotated segment and a gzipped file."""
    web = Writer("web", 101)
    web.ev("process.start", 0.0, argv=["manage.py", "runserver"])
    web.ev(
        "request.start",
        1.0,
        T1,
        WEB_REQ,
        method="GET",
        path="/courses/",
        headers={"Accept": "text/html"},
    )
    web.ev("sql", 1.01, T1, WEB_REQ, sql="SELECT * FROM page WHERE id = %s", params=[1], ms=0.5)
    web.ev(
        "http.start", 1.02, T1, WEB_HTTP, WEB_REQ, method="GET", url="http://127.0.0.1:8001/api/"
    )
    web.ev("http.end", 1.30, T1, WEB_HTTP, WEB_REQ, ms=280.0, outcome="ok", status=200)
    web.ev(
        "panel",
        1.31,
        T1,
        WEB_REQ,
        panel="Enrollment",
        op="append",
        type="markdown",
        content="**3** seats",
    )
    web.ev(
        "panel",
        1.32,
        T1,
        WEB_REQ,
        panel="Enrollment",
        op="append",
        type="table",
        columns=["who"],
        content=[["ann"]],
    )
    web.ev(
        "request.end",
        1.40,
        T1,
        WEB_REQ,
        ms=400.0,
        outcome="ok",
        status=200,
        view="courses.views.page",
    )
    web.write(folder / "web.h1.101.jsonl")

    api = Writer("api", 202)
    api.ev("process.start", 0.0, argv=["uvicorn"])
    api.ev("request.start", 1.05, T1, API_REQ, WEB_HTTP, method="GET", path="/api/")
    for i in range(6):  # an N+1 pattern: one query per course
        api.ev(
            "sql",
            1.06 + i / 100,
            T1,
            API_REQ,
            WEB_HTTP,
            sql="SELECT * FROM enrollment WHERE course_id = %s",
            params=[i],
            ms=2.0,
            site={"file": "/srv/api/views.py", "line": 40, "func": "detail"},
        )
    api.ev("sql", 1.13, T1, API_REQ, WEB_HTTP, sql="SELECT 1", params=[], ms=0.1)
    api.ev("sql", 1.14, T1, API_REQ, WEB_HTTP, sql="SELECT 1", params=[], ms=0.1)
    api.ev(
        "exception",
        1.2,
        T1,
        API_REQ,
        WEB_HTTP,
        type="KeyError",
        message="'grade'",
        fingerprint="8c1f0e2d3b4a5968",
        frames=[
            {
                "file": "/srv/api/views.py",
                "line": 48,
                "func": "detail",
                "module": "api.views",
                "in_app": True,
                "src": "row['grade']",
            }
        ],
        handled=True,
    )
    api.ev(
        "log", 1.21, T1, API_REQ, WEB_HTTP, level="warning", msg="grade missing", logger="api.views"
    )
    api.ev("request.end", 1.25, T1, API_REQ, WEB_HTTP, ms=200.0, outcome="ok", status=200)
    # The orphan: its parent (ORPHAN's parent API_REQ2) is in a later file.
    api.ev("span.start", 2.0, T1, ORPHAN, "2000000000000008", name="late-child")
    api.ev(
        "span.end", 2.1, T1, ORPHAN, "2000000000000008", ms=100.0, outcome="ok", name="late-child"
    )
    api.write(
        folder / "api.h1.202.jsonl", tail=b'{"v":1,"ts":"2026-11-23T09:00:03.000000Z","event":"lo'
    )

    worker = Writer("worker", 303, host="h2")
    worker.ev(
        "task.start",
        1.5,
        T1,
        TASK,
        API_REQ,
        task="courses.tasks.recount",
        task_id="t-1",
        args="(1,)",
    )
    worker.ev("sql", 1.51, T1, TASK, API_REQ, sql="UPDATE course SET n = %s", params=[3], ms=1.0)
    worker.ev(
        "task.end",
        1.6,
        T1,
        TASK,
        API_REQ,
        ms=100.0,
        outcome="ok",
        state="SUCCESS",
        task="courses.tasks.recount",
    )
    worker.ev(
        "exception",
        1.55,
        T1,
        TASK,
        API_REQ,
        type="KeyError",
        message="'grade'",
        fingerprint="8c1f0e2d3b4a5968",
        frames=[],
        handled=True,
    )
    path = folder / "sub" / "worker.h2.303.jsonl"
    worker.write(path)

    late = Writer("api", 204)
    late.ev("request.start", 1.9, T1, "2000000000000008", WEB_HTTP, method="GET", path="/api/late/")
    late.ev(
        "request.end", 2.2, T1, "2000000000000008", WEB_HTTP, ms=300.0, outcome="error", status=500
    )
    late.write(folder / "zz-api.h1.204.jsonl")

    cmd = Writer("manage", 404)
    cmd.ev(
        "command.start", 10.0, T2, CMD, command="import_grades", params={"course": 1}, interval=1.0
    )
    cmd.ev("command.heartbeat", 11.0, T2, CMD, command="import_grades", interval=1.0)
    cmd.ev("progress", 11.5, T2, CMD, done=40, total=100, message="rows")
    cmd.write(folder / "manage.h9.404.jsonl")
    later = Writer("web", 101)  # something much later, so "now" is past the heartbeats
    later.ev("metric", 30.0, name="queue.depth", value=4, unit="tasks")
    later.ev("metric", 30.5, name="queue.depth", value=8, unit="tasks")
    later.write(folder / "web.h1.101.metrics.jsonl")

    rotated = Writer("web", 101)
    rotated.ev("request.start", 0.2, T3, "5000000000000001", method="GET", path="/old/")
    rotated.ev("request.end", 0.3, T3, "5000000000000001", ms=100.0, outcome="ok", status=404)
    rotated.ev("dm.capped", 0.4, limit=1024, action="rotate", next="web.h1.101.1.jsonl")
    rotated.write(folder / "web.h1.101.0.jsonl")

    (folder / "garbage.jsonl").write_bytes(
        b"not json at all\n\xff\xfe\x00binary\n"
        + Writer("g", 9).ev("log", 5.0, level="info", msg="fine").lines[0]
        + b'{"v":1,"ts":"2026-11-23T09:00:05Z","event":"log","svc":"g","host":"h","pid":"nine","level":"info","msg":"x"}\n'
        + b'{"v":2,"ts":"2026-11-23T09:00:05Z","event":"log","svc":"g","host":"h","pid":9,"level":"info","msg":"x"}\n'
    )
    gz = Writer("archive", 505)
    gz.ev(
        "request.start",
        0.5,
        "5555555555555555aaaaaaaaaaaaaaaa",
        "6000000000000001",
        method="POST",
        path="/gz/",
    )
    gz.ev(
        "request.end",
        0.6,
        "5555555555555555aaaaaaaaaaaaaaaa",
        "6000000000000001",
        ms=100.0,
        outcome="ok",
        status=201,
    )
    with gzip.open(folder / "archive.h1.505.jsonl.gz", "wb") as f:
        f.write(b"".join(gz.lines))
    return folder
