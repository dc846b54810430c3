"""Tail one file: complete lines only, from where the last read stopped.

A half-written last line waits for its newline. A file that shrank or was
replaced (another inode at the same path) is read again from the start. A line
longer than ``max_line`` is skipped without being held in memory and reported.
``*.jsonl.gz`` files are decompressed as a whole and re-read when they change.
"""

from __future__ import annotations

import errno
import gzip
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_LINE", "Line", "Tail", "TailProblem"]

MAX_LINE = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_HEAD = 64


@dataclass(slots=True)
class Line:
    number: int
    offset: int
    raw: bytes


@dataclass(slots=True)
class TailProblem:
    line: int  # 0: the file as a whole
    reason: str


class Tail:
    """Reads what was appended to ``path`` since the previous :meth:`read`."""

    def __init__(self, path: Path, max_line: int = MAX_LINE) -> None:
        self.path = path
        self.max_line = max_line
        self.gz = path.name.endswith(".gz")
        self.offset = 0  # bytes consumed (of the decompressed stream for .gz)
        self.line_number = 0
        self.pending = b""
        self.skipping = False  # inside an over-long line, discarding until its newline
        self.identity: tuple[int, int] | None = None
        self.size_seen = -1
        self.restarted = 0  # times the file was found truncated or replaced
        self.gone = False
        self.head = b""  # the file's first bytes: rewritten in place if they change

    def _reset(self) -> None:
        self.head = b""
        self.offset = 0
        self.line_number = 0
        self.pending = b""
        self.skipping = False
        self.restarted += 1

    def read(self) -> tuple[list[Line], list[TailProblem]]:
        """New complete lines and any problems met on the way. Never raises."""
        problems: list[TailProblem] = []
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                self.gone = True
                return [], []
            return [], [TailProblem(0, f"cannot open: {exc.strerror or exc}")]
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return [], [TailProblem(0, "not a regular file (FIFO, device or socket): skipped")]
            self.gone = False
            identity = (st.st_dev, st.st_ino)
            if self.identity is not None and (
                identity != self.identity or st.st_size < self.size_seen
            ):
                self._reset()
            self.identity = identity
            if st.st_size == self.size_seen and not self.gz:
                return [], []
            if self.gz:
                if st.st_size == self.size_seen:
                    return [], []
                self.size_seen = st.st_size
                return self._read_gz(problems)
            self.size_seen = st.st_size
            if self.head and os.pread(fd, len(self.head), 0) != self.head:
                self._reset()  # truncated and rewritten past our offset before we looked
            if not self.head:
                self.head = os.pread(fd, _HEAD, 0)
            return self._read_plain(fd, problems), problems
        finally:
            os.close(fd)

    def _read_plain(self, fd: int, problems: list[TailProblem]) -> list[Line]:
        lines: list[Line] = []
        while True:
            try:
                chunk = os.pread(fd, _CHUNK, self.offset)
            except OSError as exc:
                problems.append(TailProblem(self.line_number + 1, f"read error: {exc.strerror}"))
                break
            if not chunk:
                break
            self._consume(chunk, lines, problems)
            if len(chunk) < _CHUNK:
                break
        return lines

    def _read_gz(self, problems: list[TailProblem]) -> tuple[list[Line], list[TailProblem]]:
        # A compressed file is read whole; lines already taken are skipped by offset.
        lines: list[Line] = []
        already, self.offset, self.line_number, self.pending = self.offset, 0, 0, b""
        fresh: list[Line] = []
        try:
            with gzip.open(self.path, "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    self._consume(chunk, fresh, problems)
        except (OSError, EOFError, zlib.error) as exc:
            problems.append(TailProblem(self.line_number + 1, f"compressed data: {exc}"))
        lines = [line for line in fresh if line.offset >= already]
        problems[:] = [p for p in problems if p.line == 0 or not lines or p.line >= lines[0].number]
        return lines, problems

    def _consume(self, chunk: bytes, lines: list[Line], problems: list[TailProblem]) -> None:
        if self.offset == 0 and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]
            self.offset = len(_BOM)
        pieces = chunk.split(b"\n")
        last = pieces.pop()  # after the final newline: a partial line, or b""
        offset = self.offset - len(self.pending)
        number = self.line_number
        max_line = self.max_line
        for i, piece in enumerate(pieces):
            number += 1
            if i == 0 and (self.pending or self.skipping):
                if self.skipping:
                    self.skipping = False
                    problems.append(
                        TailProblem(number, f"line longer than {max_line} bytes: skipped")
                    )
                    offset += len(self.pending) + len(piece) + 1
                    self.pending = b""
                    continue
                piece = self.pending + piece
                self.pending = b""
            size = len(piece)
            if size > max_line:
                problems.append(TailProblem(number, f"line longer than {max_line} bytes: skipped"))
            elif size and (piece[0] == 123 or piece.strip()):  # 123: "{", the usual first byte
                lines.append(Line(number, offset, piece))
            offset += size + 1
        self.line_number = number
        if pieces:
            self.pending = b""
        if not self.skipping:
            if len(self.pending) + len(last) > max_line:
                self.skipping = True
                self.pending = b""
            else:
                self.pending += last
        self.offset += len(chunk)

    @property
    def partial(self) -> bool:
        """True while an unfinished last line waits for its newline."""
        return bool(self.pending) or self.skipping
