"""A corpus of hostile files for the reader, the model, every CLI command and the TUI.

``build_corpus(folder)`` writes them next to a few valid lines (so a test can check
that everything valid around the damage is still read) and returns what it made.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import orjson

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"

# Text a terminal must never interpret: Rich markup, ANSI colour, cursor moves, an
# OSC 52 clipboard write, an OSC 0 title change, bidi overrides, very wide characters.
NASTY = (
    "[red]x[/red][bold link=https://evil]y[/] \x1b[31mred\x1b[0m \x1b[2J\x1b[H"
    "\x1b]52;c;aGVsbG8=\x07\x1b]0;pwned\x07 \u202eevil\u202c \u2066iso\u2069 "
    "\u5bbd\u5bbd\u5bbd\U0001f600 \x00nul \x9bcsi \r\n\ttab"
)


def valid_line(seq: int, **extra: object) -> bytes:
    """One valid ``log`` line at process level."""
    event = {
        "v": 1, "ts": f"2026-11-23T09:00:{seq % 60:02d}.000000Z", "event": "log",
        "svc": "hostile", "host": "h", "pid": 1, "seq": seq, "level": "info", "msg": f"valid {seq}",
    }  # fmt: skip
    event.update(extra)
    return orjson.dumps(event) + b"\n"


def nasty_request(seq: int) -> bytes:
    """A valid request whose every displayed field is hostile text."""
    return b"".join(
        orjson.dumps(e) + b"\n"
        for e in (
            {"v": 1, "ts": "2026-11-23T09:01:00.000000Z", "event": "request.start", "svc": NASTY[:40],
             "host": "h", "pid": 2, "seq": seq, "trace": TRACE, "span": SPAN, "method": "GET",
             "path": "/[red]x[/red]/\x1b[31m" + NASTY, "headers": {NASTY[:20]: NASTY}},
            {"v": 1, "ts": "2026-11-23T09:01:00.100000Z", "event": "sql", "svc": "hostile", "host": "h",
             "pid": 2, "seq": seq + 1, "trace": TRACE, "span": SPAN, "sql": "SELECT '" + NASTY + "'", "ms": 1.0},
            {"v": 1, "ts": "2026-11-23T09:01:00.150000Z", "event": "log", "svc": "hostile", "host": "h",
             "pid": 2, "seq": seq + 2, "trace": TRACE, "span": SPAN, "level": "error", "msg": NASTY},
            {"v": 1, "ts": "2026-11-23T09:01:00.160000Z", "event": "panel", "svc": "hostile", "host": "h",
             "pid": 2, "seq": seq + 3, "trace": TRACE, "span": SPAN, "panel": NASTY[:30], "op": "append",
             "type": "markdown", "content": "# " + NASTY + "\n[link](javascript:alert(1))"},
            {"v": 1, "ts": "2026-11-23T09:01:00.170000Z", "event": "exception", "svc": "hostile",
             "host": "h", "pid": 2, "seq": seq + 4, "trace": TRACE, "span": SPAN, "type": NASTY[:30],
             "message": NASTY, "fingerprint": "0123456789abcdef",
             "frames": [{"file": NASTY, "line": 1, "func": NASTY[:20], "src": NASTY}]},
            {"v": 1, "ts": "2026-11-23T09:01:00.200000Z", "event": "request.end", "svc": NASTY[:40],
             "host": "h", "pid": 2, "seq": seq + 5, "trace": TRACE, "span": SPAN, "ms": 200.0,
             "outcome": "error", "status": 500},
        )
    )  # fmt: skip


def _wrong_types() -> list[bytes]:
    base = {
        "v": 1, "ts": "2026-11-23T09:02:00.000000Z", "event": "request.end", "svc": "s", "host": "h",
        "pid": 3, "trace": TRACE, "span": "00f067aa0ba902b8", "ms": 1.0, "outcome": "ok", "status": 200,
    }  # fmt: skip
    odd_values: list[object] = [None, True, -1, 1e308, "x", [], {}, [1, [2]], {"a": {"b": 1}}]
    lines = []
    for key in base:
        for value in odd_values:
            if value == base[key] or type(value) is type(base[key]):
                continue
            lines.append(orjson.dumps({**base, key: value}) + b"\n")
    return lines


@dataclass
class Corpus:
    folder: Path
    files: list[Path] = field(default_factory=list)
    valid_per_file: dict[str, int] = field(default_factory=dict)
    special: list[Path] = field(default_factory=list)  # symlink loop, FIFO: not regular files


def build_corpus(folder: Path, *, big_line_mb: int = 50, seed: int = 1) -> Corpus:
    """Write the hostile corpus into ``folder`` (created)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(folder)

    def put(name: str, *chunks: bytes, valid: int = 2) -> None:
        path = folder / name
        body = valid_line(1) + b"".join(chunks) + valid_line(2)
        path.write_bytes(body)
        corpus.files.append(path)
        corpus.valid_per_file[name] = valid

    put("random-bytes.jsonl", bytes(rng.getrandbits(8) for _ in range(64 * 1024)) + b"\n")
    put("invalid-utf8.jsonl", b'{"v":1,"msg":"\xff\xfe\xc3\x28"}\n', b"\xed\xa0\x80\n")
    put("nul-bytes.jsonl", b"\x00" * 4096 + b"\n", b'{"v":1,\x00"ts":1}\n')
    put(
        "big-line.jsonl",
        b'{"v":1,"event":"log","msg":"' + b"A" * (big_line_mb * 1024 * 1024) + b'"}\n',
    )
    put(
        "deep.jsonl",
        b"[" * 10_000 + b"]" * 10_000 + b"\n",
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"\n",
    )
    put("huge-numbers.jsonl", b'{"v":1,"ts":"2026-11-23T09:00:00Z","event":"metric","svc":"s","host":"h","pid":1,"name":"m","value":1e999}\n',
        b'{"v":1e999,"event":"log"}\n', b'{"v":1,"pid":99999999999999999999999999999}\n')  # fmt: skip
    put("wrong-types.jsonl", *_wrong_types())
    put(
        "duplicate-keys.jsonl",
        b'{"v":1,"v":2,"event":"log","event":"sql","ts":"x","ts":"2026-11-23T09:00:00Z"}\n',
    )
    put("bom.jsonl", b"\xef\xbb\xbf" + valid_line(3), valid=2)
    (folder / "crlf.jsonl").write_bytes(
        valid_line(1).replace(b"\n", b"\r\n") + valid_line(2).replace(b"\n", b"\r\n")
    )
    corpus.files.append(folder / "crlf.jsonl")
    corpus.valid_per_file["crlf.jsonl"] = 2
    put("newer-version.jsonl", orjson.dumps({"v": 2, "ts": "2026-11-23T09:00:00.000000Z", "event": "log",
        "svc": "future", "host": "h", "pid": 1, "level": "info", "msg": "from the future"}) + b"\n")  # fmt: skip
    put(
        "not-objects.jsonl",
        b"[]\n",
        b'"string"\n',
        b"42\n",
        b"null\n",
        b"true\n",
        b"{}\n",
        b"\n",
        b"   \n",
    )
    (folder / "truncated.jsonl").write_bytes(
        valid_line(1) + valid_line(2) + b'{"v":1,"ts":"2026-11-23T09:00:00.000000Z","event":"lo'
    )
    corpus.files.append(folder / "truncated.jsonl")
    corpus.valid_per_file["truncated.jsonl"] = 2
    (folder / "empty.jsonl").write_bytes(b"")
    corpus.files.append(folder / "empty.jsonl")
    corpus.valid_per_file["empty.jsonl"] = 0
    put("nasty-text.jsonl", nasty_request(10), valid=8)
    (folder / "gz-garbage.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage-not-gzip")
    corpus.files.append(folder / "gz-garbage.jsonl.gz")
    corpus.valid_per_file["gz-garbage.jsonl.gz"] = 0

    loop = folder / "loop"
    loop.mkdir(exist_ok=True)
    link = loop / "again"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(loop, target_is_directory=True)
    (folder / "self.jsonl").symlink_to(folder / "self.jsonl") if not (
        folder / "self.jsonl"
    ).is_symlink() else None
    corpus.special += [link, folder / "self.jsonl"]
    fifo = folder / "fifo.jsonl"
    if not fifo.exists():
        os.mkfifo(fifo)
    corpus.special.append(fifo)
    return corpus
