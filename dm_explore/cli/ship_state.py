"""What ``ship`` keeps: per-file progress, written atomically, and what waits to be sent.

:class:`StateFile` holds, per file (known by a digest of its first line, see
:func:`first_line_key`), where a restart reads again, the spans sent past that
point, the spans held open, and for logs and metrics the last line whose record
was sent: :class:`~dm_explore.cli.shipper.Shipper` fills it.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..model import ProcessKey
from ..outputs.textsafe import safe_line

__all__ = [
    "POINT_SIGNALS",
    "STATE_VERSION",
    "Progress",
    "Queued",
    "QueuedPoint",
    "StateFile",
    "first_line_key",
]

STATE_VERSION = 1
POINT_SIGNALS = ("logs", "metrics")  # sent a line at a time, not a span at a time


@dataclass(slots=True)
class Progress:
    """One file's sending progress, known by its first line."""

    path: str
    # unsent span -> (line, byte offset) where its batch began
    open_from: dict[str, tuple[int, int]] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)  # sent span -> lines read after its end
    held: dict[str, str] = field(default_factory=dict)  # open span -> its start line
    resume: tuple[int, int] = (0, 0)  # from the state: (offset, line) to read again from
    skip: set[str] = field(default_factory=set)  # from the state: sent before the restart
    # unsent log or metric record (signal, line) -> (line, byte offset) where its batch began
    points_from: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    # signal -> the last line whose log or metric records were sent (or dropped)
    sent_upto: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Queued:
    key: str  # the file's identity
    span_id: str
    after: int  # lines of the file read when its end was
    process: ProcessKey
    spans: list[dict[str, Any]]  # OTLP/JSON: the span and its statements' spans


@dataclass(slots=True)
class QueuedPoint:
    """A line's log record, or its metric points (each in its ``Metric``), waiting to be sent."""

    key: str  # the file's identity
    line: int  # its line in the file
    process: ProcessKey
    items: list[dict[str, Any]]


class StateFile:
    """Per-file progress written atomically (a temporary file renamed over it), mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, orjson.JSONDecodeError) as exc:
            reason = f"dm-explore: cannot read state {safe_line(self.path)}: {exc}"
            raise SystemExit(reason) from None
        files = data.get("files") if isinstance(data, dict) else None
        return files if data.get("version") == STATE_VERSION and isinstance(files, dict) else {}

    def save(self, files: dict[str, Any]) -> None:
        body = orjson.dumps({"version": STATE_VERSION, "files": files})
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def first_line_key(path: Path) -> str | None:
    """A file's identity: a digest of its first complete line, or None before it has one."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                head = stream.readline(65536)
        else:
            with path.open("rb") as stream:
                head = stream.readline(65536)
    except (OSError, EOFError, ValueError):
        return None
    if not head.endswith(b"\n"):
        return None
    return hashlib.blake2b(head, digest_size=12).hexdigest()
