"""Tail one file: complete lines only, from where the last read stopped.

A half-written last line waits for its newline. A file that shrank or was
replaced (another inode at the same path) is read again from the start. A line
longer than ``max_line`` is skipped without being held in memory and reported.
``*.jsonl.gz`` files are decompressed as a stream, in the same bounded batches
as plain files (a decompression bomb costs time, never memory); a compressed
file rewritten in place is decompressed again and only its new lines are given.
The first ``skip_bytes`` bytes (or ``skip_lines`` lines) were read before under
another name (the file was compressed while followed) and are not given again.

:meth:`Tail.read_batch` is the reader's fast path: the raw lines of one batch in
a plain list, line numbers implied by position. :meth:`Tail.read` gives
:class:`Line` objects for callers that want them one by one.
"""

from __future__ import annotations

import errno
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
_GZ_IN = 64 * 1024  # compressed bytes read at a time
_GZIP = 16 + zlib.MAX_WBITS  # zlib's wbits for the gzip format
_MARK = 64  # compressed bytes before the read position, compared to find a rewrite
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

    def __init__(
        self,
        path: Path,
        max_line: int = MAX_LINE,
        *,
        skip_lines: int = 0,
        skip_bytes: int = 0,
        identity: tuple[int, int] | None = None,
    ) -> None:
        self.path = path
        self.max_line = max_line
        self.gz = path.name.endswith(".gz")
        self.skip = skip_lines  # the first lines, already given under another name
        self.skip_bytes = skip_bytes  # or the first bytes (of the decompressed stream)
        self.offset = 0  # bytes consumed (of the decompressed stream for .gz)
        self.line_number = 0  # lines complete so far
        self.pending = b""  # the unfinished last line
        self.skipping = False  # inside an over-long line, discarding until its newline
        self.identity = identity  # (device, inode) of the file last read
        self.size_seen = -1
        self.restarted = 0  # times the file was found truncated or replaced
        self.gone = False
        self.head = b""  # the file's first bytes: rewritten in place if they change
        # Of a .gz file: the inflater, the compressed bytes read into it, those held
        # back for the next batch, and the compressed bytes just before gz_offset.
        self._inflate = zlib.decompressobj(_GZIP)
        self.gz_offset = 0
        self._gz_input = b""
        self._gz_mark = b""
        self.gz_done = True  # the compressed stream ended cleanly where it was last read
        self.gz_error = False  # broken compressed data was met: nothing more is read
        self._gz_more = False  # the last read stopped at its limit

    def _reset(self) -> None:
        self._restart_stream()
        self.head = b""
        self.skip = self.skip_bytes = 0
        self.restarted += 1

    def _restart_stream(self) -> None:
        """From the file's first byte again (line numbers restart too)."""
        self.offset = 0
        self.line_number = 0
        self.pending = b""
        self.skipping = False
        self._inflate = zlib.decompressobj(_GZIP)
        self.gz_offset = 0
        self._gz_input = b""
        self._gz_mark = b""
        self.gz_done = True
        self.gz_error = False
        self._gz_more = False

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
        batch = self._read_batch(limit)
        if self.skip and batch.first < self.skip:
            drop = min(self.skip - batch.first, len(batch.raws))
            del batch.raws[:drop]
            batch.first += drop
            batch.problems = [p for p in batch.problems if p.line == 0 or p.line > self.skip]
        return batch

    def _read_batch(self, limit: int) -> Batch:
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
                return self._read_gz(fd, st.st_size, limit)
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

    def _read_gz(self, fd: int, size: int, limit: int) -> Batch:
        """The next lines of a compressed file, inflated a bounded piece at a time."""
        if self.gz_offset and (
            size < self.gz_offset
            or os.pread(fd, len(self._gz_mark), self.gz_offset - len(self._gz_mark))
            != self._gz_mark
        ):
            # Rewritten in place (compressed again, longer): the lines already given
            # are dropped by number as the new stream is read.
            self.skip = max(self.skip, self.line_number)
            self._restart_stream()
        if self.gz_error or (size == self.size_seen and not self._gz_more):
            return Batch(self.line_number)
        self.size_seen = size
        batch = Batch(self.line_number)
        start_in, start_out = self.gz_offset - len(self._gz_input), self.offset
        self._gz_more = False
        while True:
            if self.offset - start_out >= limit:
                self._gz_more = batch.more = True
                break
            data = self._gz_input
            if not data:
                data = os.pread(fd, _GZ_IN, self.gz_offset)
                self.gz_offset += len(data)
                self._gz_mark = (self._gz_mark + data)[-_MARK:]
                if not data and self._inflate.eof:
                    break
            try:
                if self._inflate.eof:  # another gzip member follows the one that ended
                    self._inflate = zlib.decompressobj(_GZIP)
                out = self._inflate.decompress(data, _CHUNK)
            except zlib.error as exc:
                self.gz_error, self._gz_input = True, b""
                reason = f"compressed data: {exc}"
                batch.problems.append(self._problem(self.line_number + 1, "file", reason))
                break
            self._gz_input = self._inflate.unconsumed_tail or self._inflate.unused_data
            if out:
                self._consume(out, batch)
            elif not data:
                break  # everything written so far is inflated
        self.gz_done = self._inflate.eof and not self._gz_input
        # Progress counts the file's own (compressed) bytes, as its size does.
        batch.bytes = max(self.gz_offset - len(self._gz_input) - start_in, 0)
        return batch

    def _consume(self, chunk: bytes, batch: Batch) -> None:
        """Split ``chunk`` into complete lines appended to ``batch``; keep the unfinished rest."""
        if self.offset == 0 and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]
            self.offset = len(_BOM)
        elif self.offset == 0 and _BOM.startswith(chunk):
            return  # the first bytes of a byte-order mark: read again once it is whole
        if self.skip_bytes > self.offset:  # read before, under another name: counted only
            drop = min(self.skip_bytes - self.offset, len(chunk))
            self.line_number += chunk.count(b"\n", 0, drop)
            self.offset += drop
            chunk = chunk[drop:]
            if not chunk:
                return
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
    def given(self) -> int:
        """Bytes of the (decompressed) file given as complete lines so far."""
        return self.offset - len(self.pending) if not self.skipping else self.offset

    @property
    def partial(self) -> bool:
        """True while an unfinished last line waits for its newline (or a compressed
        stream for its end)."""
        return bool(self.pending) or self.skipping or (self.gz and not self.gz_done)

    def read_last(self, count: int) -> list[bytes]:
        """The last ``count`` non-blank complete lines, without their newlines; never raises.

        A plain file is read backwards from its end, so the time does not grow with
        its size; a compressed one is inflated through, keeping only ``count`` lines.
        Later reads go on after the lines returned.
        """
        keep = max(count, 1)
        found = None if self.gz else self._read_last_plain(keep)
        if found is None:
            found = []
            while True:
                batch = self.read_batch()
                found.extend(raw.rstrip(b"\r\n") for raw in batch.raws if raw.strip())
                del found[:-keep]
                if not batch.more:
                    break
        return found[-count:] if count > 0 else []

    def _read_last_plain(self, count: int) -> list[bytes] | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            data, pos, lines = b"", st.st_size, []
            while pos > 0:
                step = min(_CHUNK, pos)
                pos -= step
                data = os.pread(fd, step, pos) + data
                end = data.rfind(b"\n") + 1
                lines = [line for line in data[:end].split(b"\n")[1:] if line.strip()]
                if len(lines) >= count or st.st_size - pos > count * self.max_line:
                    break
            end = pos + data.rfind(b"\n") + 1
            if pos == 0:
                body = data[: data.rfind(b"\n") + 1].removeprefix(_BOM)
                lines = [line for line in body.split(b"\n") if line.strip()]
            self.identity, self.size_seen = (st.st_dev, st.st_ino), st.st_size
            self.head = os.pread(fd, _HEAD, 0)
            self.offset, self.pending, self.skipping = end, b"", False
            return [line.rstrip(b"\r") for line in lines[-count:]]
        except OSError:
            return None
        finally:
            os.close(fd)

    def _problem(self, line: int, kind: ProblemKind, reason: str) -> Problem:
        return Problem(str(self.path), line, kind, reason)

    def _os_problem(self, line: int, what: str, exc: OSError) -> Problem:
        return self._problem(line, "file", f"{what}: {exc.strerror or exc}")
