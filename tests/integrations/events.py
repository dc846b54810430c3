"""Reading a logs folder in tests: events, spans and traces straight from the files."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

Event = dict[str, Any]


def events(folder: Path) -> list[Event]:
    """Every event under ``folder``, in file order per file (partial last lines skipped)."""
    out: list[Event] = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
    return out


def of(evs: list[Event], kind: str, **match: Any) -> list[Event]:
    return [e for e in evs if e["event"] == kind and all(e.get(k) == v for k, v in match.items())]


def in_span(evs: list[Event], span: str, kind: str | None = None) -> list[Event]:
    return [e for e in evs if e.get("span") == span and (kind is None or e["event"] == kind)]


def children(evs: list[Event], span: str, kind: str) -> list[Event]:
    """``<kind>.start`` events whose parent is ``span``."""
    return [e for e in evs if e["event"] == f"{kind}.start" and e.get("parent") == span]


def by_trace(evs: list[Event]) -> dict[str, list[Event]]:
    traces: dict[str, list[Event]] = defaultdict(list)
    for e in evs:
        if "trace" in e:
            traces[e["trace"]].append(e)
    return traces
