"""Tail one file: complete lines only, from where the last read stopped.

A half-written last line waits for its newline. A file that shrank or was
replaced (another inode at the same path) is read again from the start. A line
longer than ``max_line`` is skipped without being held in memory and reported.
``*.jsonl.gz`` files are decompressed as a whole and re-read when they change.

:meth:`Tail.read_batch` is the reader's fast path: the raw lines of one batch in
a plain list, line numbers implied by position. :meth:`Tail.read` gives
:class:`Line` objects for callers that want them one by one.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..model.problems import Problem, ProblemKind

__all__ = ["BATCH_BYTES", "MAX_LINE", "Batch", "Line", "Tail"]

MAX_LINE = 8 * 1024 * 1024
# Bytes read per batch: small enough that a batch's lines are still in the CPU's cache
# when they are decoded, and a bound on the memory a big file's read holds at once.
BATCH_BYTES = 256 * 1024
_CHUNK = 256 * 1024
_BOM = b"\xef\xbb\xbf"
_HEAD = 64


@dataclass(slots=True)
class Line:
    number: int  # 1-based line number in the file
    raw: bytes  # without its newline


@dataclass(slots=True)
class Batch:
    """Complete lines read in one go.

    ``raws[i]`` is line ``first + i + 1`` of the file with its newline (as JSON,
    whitespace); a line that was skipped (too long) is ``b""``. Neither a skipped
    nor an empty line has an event.
    """

    first: int = 0
    raws: list[bytes] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    bytes: int = 0  # bytes of the file consumed by this batch
    more: bool = False  # the batch stopped at BATCH_BYTES: read again for the rest


class Tail:
    """Reads what was appended to ``path`` since the previous read."""

    def __init__(self, path: Path, max_line: int = MAX_LINE) -> None:
        self.path = path
        self.max_line = max_line
        self.gz = path.name.endswith(".gz")
        self.offset = 0  # bytes consumed (of the decompressed stream for .gz)
        self.line_number = 0  # lines complete so far
        self.pending = b""  # the unfinished last line
        self.skipping = False  # inside an over-long line, discarding until its newline
        self.identity: tuple[int, int] | None = None
        self.size_seen = -1
        self.restarted = 0  # times the file was found truncated or replaced
        self.gone = False
        self.head = b""  # the file's first bytes: rewritten in place if they change
        self.gz_counted = 0  # of a .gz file: compressed bytes given as read so far

    def _reset(self) -> None:
        self.head = b""
        self.offset = 0
        self.line_number = 0
        self.pending = b""
        self.skipping = False
        self.gz_counted = 0
        self.restarted += 1

    def read(self) -> tuple[list[Line], list[Problem]]:
        """Every new complete line and any problems met on the way. Never raises."""
        lines: list[Line] = []
        problems: list[Problem] = []
        while True:
            batch = self.read_batch()
            problems.extend(batch.problems)
            number = batch.first
            for raw in batch.raws:
                number += 1
                if raw and (raw[0] == 123 or raw.strip()):  # 123: "{", the usual first byte
                    lines.append(Line(number, raw[:-1] if raw[-1] == 10 else raw))
            if not batch.more:
                return lines, problems

    def read_batch(self, limit: int = BATCH_BYTES) -> Batch:
        """The next complete lines, up to about ``limit`` bytes of them. Never raises."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                self.gone = True
                return Batch(self.line_number)
            return Batch(self.line_number, problems=[self._os_problem(0, "cannot open", exc)])
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                reason = "not a regular file (FIFO, device or socket): skipped"
                return Batch(self.line_number, problems=[self._problem(0, "file", reason)])
            self.gone = False
            identity = (st.st_dev, st.st_ino)
            if self.identity is not None and (
                identity != self.identity or st.st_size < self.size_seen
            ):
                self._reset()
            self.identity = identity
            if self.gz:
                if st.st_size == self.size_seen:
                    return Batch(self.line_number)
                self.size_seen = st.st_size
                return self._read_gz()
            if st.st_size == self.size_seen and self.offset >= st.st_size:
                return Batch(self.line_number)
            self.size_seen = st.st_size
            if self.head and os.pread(fd, len(self.head), 0) != self.head:
                self._reset()  # truncated and rewritten past our offset before we looked
            if not self.head:
                self.head = os.pread(fd, _HEAD, 0)
            return self._read_plain(fd, limit)
        except OSError as exc:
            problem = self._os_problem(self.line_number + 1, "read", exc)
            return Batch(self.line_number, problems=[problem])
        finally:
            os.close(fd)

    def _read_plain(self, fd: int, limit: int) -> Batch:
        batch = Batch(self.line_number)
        start = self.offset
        while True:
            chunk = os.pread(fd, _CHUNK, self.offset)
            if not chunk:
                break
            self._consume(chunk, batch)
            if len(chunk) < _CHUNK:
                break
            if self.offset - start >= limit:
                batch.more = True
                break
        batch.bytes = self.offset - start
        return batch

    def _read_gz(self) -> Batch:
        # A compressed file is read whole; lines already taken are dropped by number.
        already = self.line_number
        self.offset, self.line_number, self.pending, self.skipping = 0, 0, b"", False
        batch = Batch(0)
        try:
            with gzip.open(self.path, "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    self._consume(chunk, batch)
        except (OSError, EOFError, zlib.error) as exc:
            reason = f"compressed data: {exc}"
            batch.problems.append(self._problem(self.line_number + 1, "file", reason))
        if already:
            del batch.raws[: min(already, len(batch.raws))]
            batch.first = already
            batch.problems = [p for p in batch.problems if p.line == 0 or p.line > already]
        # Progress counts the file's own (compressed) bytes, as its size does.
        batch.bytes = max(self.size_seen - self.gz_counted, 0)
        self.gz_counted = self.size_seen
        return batch

    def _consume(self, chunk: bytes, batch: Batch) -> None:
        """Split ``chunk`` into complete lines appended to ``batch``; keep the unfinished rest."""
        if self.offset == 0 and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]
            self.offset = len(_BOM)
        elif self.offset == 0 and _BOM.startswith(chunk):
            return  # the first bytes of a byte-order mark: read again once it is whole
        self.offset += len(chunk)
        # Lines with their newline. Iterating a BytesIO finds each newline with memchr,
        # in C; bytes.split would look at one byte at a time.
        pieces = list(io.BytesIO(chunk))
        last = pieces.pop() if pieces and pieces[-1][-1] != 10 else b""  # 10: "\n"
        max_line = self.max_line + 1  # a line of max_line bytes, and its newline
        if pieces:
            too_long: list[int] = []
            if self.skipping:
                self.skipping = False
                pieces[0] = b""
                too_long.append(0)
            elif self.pending:
                pieces[0] = self.pending + pieces[0]
            self.pending = b""
            if len(chunk) + len(pieces[0]) > max_line and max(map(len, pieces)) > max_line:
                for i, piece in enumerate(pieces):
                    if len(piece) > max_line:
                        pieces[i] = b""
                        too_long.append(i)
            reason = f"line longer than {self.max_line} bytes: skipped"
            for i in sorted(too_long):
                batch.problems.append(self._problem(self.line_number + i + 1, "line", reason))
            batch.raws += pieces
            self.line_number += len(pieces)
        if not self.skipping:
            if len(self.pending) + len(last) > self.max_line:
                self.skipping = True
                self.pending = b""
            else:
                self.pending += last

    @property
    def partial(self) -> bool:
        """True while an unfinished last line waits for its newline."""
        return bool(self.pending) or self.skipping

    def _problem(self, line: int, kind: ProblemKind, reason: str) -> Problem:
        return Problem(str(self.path), line, kind, reason)

    def _os_problem(self, line: int, what: str, exc: OSError) -> Problem:
        return self._problem(line, "file", f"{what}: {exc.strerror or exc}")
