"""Folders of hostile shapes for the scale suite and bench/bench_scale.py.

Each writer returns what it wrote; sizes are parameters, so the tests use small
ones and the bench the sizes of the targets (a million spans, 100k levels).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson

TRACE = "ab" * 16


def event(
    seq: int,
    kind: str,
    span: str | None = None,
    parent: str | None = None,
    second: float = 0.0,
    *,
    pid: int = 9,
    svc: str = "web",
    **fields: object,
) -> bytes:
    """One line of ``TRACE`` (or process-level without ``span``) at 09:00 plus ``second``."""
    micros = round(second * 1_000_000)
    whole, frac = divmod(micros, 1_000_000)
    stamp = f"2026-11-23T09:{whole // 60 % 60:02d}:{whole % 60:02d}.{frac:06d}Z"
    line: dict[str, object] = {
        "v": 1,
        "ts": stamp,
        "event": kind,
        "svc": svc,
        "host": "h",
        "pid": pid,
        "seq": seq,
    }
    if span is not None:
        line["trace"], line["span"] = TRACE, span
        if parent is not None:
            line["parent"] = parent
    line.update(fields)
    return orjson.dumps(line) + b"\n"  # fmt: skip


def span_id(n: int) -> str:
    return f"{n:016x}"


def write_chain(path: Path, depth: int) -> None:
    """One trace: a request, then a chain of custom spans ``depth`` levels deep."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(event(0, "request.start", span_id(1), None, 0.0, method="GET", path="/deep"))
        for i in range(1, depth):
            parent = span_id(i)
            out.write(event(i, "span.start", span_id(i + 1), parent, i / depth, name=f"level {i}"))


def write_wide(path: Path, spans: int, fanout: int = 10) -> None:
    """One trace of ``spans`` spans: a request, each span with ``fanout`` children."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(event(0, "request.start", span_id(1), None, 0.0, method="GET", path="/wide"))
        chunk: list[bytes] = []
        for i in range(1, spans):
            parent = span_id(i // fanout + 1 if i >= fanout else 1)
            chunk.append(event(i, "span.start", span_id(i + 1), parent, i / spans, name=f"s{i}"))
            if len(chunk) >= 10_000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))


def write_cycles(path: Path) -> dict[str, str]:
    """A request, a span its own parent, two spans each other's parent and one below them."""
    ids = {"root": "1" * 16, "self": "a" * 16, "b": "b" * 16, "c": "c" * 16, "below": "d" * 16}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        event(1, "request.start", ids["root"], None, 0.0, method="GET", path="/root")
        + event(2, "span.start", ids["self"], ids["self"], 0.1, name="self-parent")
        + event(3, "span.start", ids["b"], ids["c"], 0.2, name="b-under-c")
        + event(4, "span.start", ids["c"], ids["b"], 0.3, name="c-under-b")
        + event(5, "span.start", ids["below"], ids["c"], 0.4, name="below-c")
    )
    return ids


def write_bomb(path: Path, lines: int, line: bytes = b"x\n") -> None:
    """A small ``.jsonl.gz`` that inflates to ``lines`` copies of ``line``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = line * (1 << 16)
    with open(path, "wb") as out:
        left = lines
        while left:
            n = min(left, 1 << 16)
            out.write(packer.compress(block[: n * len(line)]))
            left -= n
        out.write(packer.flush())
