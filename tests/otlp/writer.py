"""A process's file written line by line for the OTLP tests: requests with SQL, spans, cycles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

HOST = "shiphost"


class Writer:
    """Appends events of one process to ``folder/<svc>.<host>.<pid>.<stamp>.jsonl``."""

    def __init__(self, folder: Path, svc: str = "web", pid: int = 4242) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{svc}.{HOST}.{pid}.20261123T091500.jsonl"
        self.svc, self.pid, self.seq, self.micros = svc, pid, 0, 0
        self.add("process.start", argv=[svc], python="3.11.7", cwd="/srv",
                 dm_version="0.1.0", cap_bytes=268435456, segment=0)  # fmt: skip

    def ts(self) -> str:
        self.micros += 1500
        seconds, micros = divmod(self.micros, 1_000_000)
        minutes, seconds = divmod(seconds, 60)
        return f"2026-11-23T09:{15 + minutes:02d}:{seconds:02d}.{micros:06d}Z"

    def line(self, kind: str, **fields: Any) -> bytes:
        event = {"v": 1, "ts": self.ts(), "event": kind, "svc": self.svc, "host": HOST,
                 "pid": self.pid, "seq": self.seq, **fields}  # fmt: skip
        self.seq += 1
        return orjson.dumps(event) + b"\n"

    def add(self, kind: str, **fields: Any) -> None:
        with self.path.open("ab") as out:
            out.write(self.line(kind, **fields))

    def request(self, n: int, *, end: bool = True, sql: int = 1) -> tuple[str, str]:
        """Request number ``n``: its start, ``sql`` statements and (with ``end``) its end."""
        trace, span = f"{n:032x}", f"{n + 1:016x}"
        ids = {"trace": trace, "span": span}
        lines = [self.line("request.start", **ids, method="GET", path=f"/items/{n}/",
                           scheme="http", remote="127.0.0.1", protocol="http")]  # fmt: skip
        lines += [
            self.line("sql", **ids, sql=f"SELECT {i} FROM items WHERE id = %s", params=[n],
                      ms=0.25, alias="default", vendor="sqlite", many=False,
                      site={"file": "/srv/items/views.py", "line": 12, "func": "item"})
            for i in range(sql)
        ]  # fmt: skip
        if end:
            lines.append(self.end(n))
        with self.path.open("ab") as out:
            out.write(b"".join(lines))
        return trace, span

    def end(self, n: int) -> bytes:
        trace, span = f"{n:032x}", f"{n + 1:016x}"
        return self.line("request.end", trace=trace, span=span, ms=1.5, outcome="ok",
                         status=200, route="items/<int:pk>/", view="items.views.item")  # fmt: skip

    def finish(self, n: int) -> None:
        with self.path.open("ab") as out:
            out.write(self.end(n))
