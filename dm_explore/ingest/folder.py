"""A folder of files read into a model: discovery, tails, problems, process liveness.

:class:`FolderReader` finds the folder's files, owns one
:class:`~dm_explore.ingest.tail.Tail` per file, decodes what is new and has an
:class:`~dm_explore.ingest.apply.Applier` apply it to a
:class:`~dm_explore.model.Model`. It never raises on file content; problems are
counted per file and line in the model. :func:`dm_explore.ingest.follow.follow`
keeps it up to date.

A file is the same file when it moves or is compressed while it is read: the
same device and inode under another path (``mv f.jsonl archive/``), or, once
the old path is gone, a file that begins with the same first line, the writing
process's own (service, host, pid and time: ``gzip f.jsonl``). It keeps its id
and is listed once; only the lines it did not hold before are read.
"""

from __future__ import annotations

import os
import socket
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..model import Model
from ..model.problems import Problem
from .apply import Applier
from .decode import decode_batch
from .tail import MAX_LINE, Tail

__all__ = ["FileState", "FolderReader"]

PATTERNS = (".jsonl", ".jsonl.gz")
_HOST = socket.gethostname()


_FIRST_LINE = 64 * 1024  # the most read of a file to find its first line

# (svc, host, pid, ts, the line itself) of a file's first line: who wrote it, and when
FirstLine = tuple[Any, Any, Any, Any, bytes]


@dataclass(slots=True)
class FileState:
    file_id: int
    tail: Tail
    counted: int = 0  # of the file's bytes, those counted in FolderReader.bytes_read
    first: FirstLine | None = None  # who wrote the first line, and when: the file's identity


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class FolderReader:
    """Reads every ``*.jsonl`` and ``*.jsonl.gz`` under ``root`` into ``model``."""

    def __init__(self, root: Path, model: Model | None = None, *, max_line: int = MAX_LINE) -> None:
        self.root = Path(root)
        self.model = model if model is not None else Model()
        self.applier = Applier(self.model)
        self.max_line = max_line
        self.files: dict[str, FileState] = {}
        self.problems: list[Problem] = []  # of paths never read (not regular, cannot stat)
        self._reported: set[str] = set()
        self.moved = 0  # files found under another path (moved or compressed)
        self.bytes_total = 0  # the registered files' sizes when last discovered

    # -- discovery ------------------------------------------------------------------

    @property
    def bytes_read(self) -> int:
        """Of the registered files' bytes, those read (against :attr:`bytes_total`)."""
        return sum(state.counted for state in self.files.values())

    def discover(self) -> list[Path]:
        """Register files not seen before; return them. Symlinked folders are not entered.

        :attr:`bytes_total` becomes the size of every registered file.
        """
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(
            self.root, followlinks=False, onerror=self._walk_error
        ):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith(PATTERNS):
                    continue
                path = Path(dirpath) / name
                key = str(path)
                if key in self.files or key in self._reported:
                    continue
                try:
                    st = os.stat(path)
                except OSError as exc:
                    self._path_problem(key, f"cannot stat: {exc.strerror or exc}")
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self._path_problem(key, "not a regular file (FIFO, device or socket): skipped")
                    continue
                identity = (st.st_dev, st.st_ino)
                first = _first_line(path)
                if self._same_file(path, identity, first):
                    continue
                file_id = self.model.add_file(key)
                tail = Tail(path, self.max_line, identity=identity)
                self.files[key] = FileState(file_id, tail, first=first)
                found.append(path)
        self.bytes_total = sum(_size(Path(p)) for p in self.files)
        return found

    def _same_file(self, path: Path, identity: tuple[int, int], first: FirstLine | None) -> bool:
        """Whether ``path`` is a file already known under another path.

        Moved (the same inode), it is read on from where it was; compressed (the
        same first line, the old path gone), it is read past the lines already read.
        A compressed copy waits while the old path still holds the file.
        """
        for old, state in self.files.items():
            tail = state.tail
            same_first = first is not None and state.first == first
            # The same inode with another first line is a new file where a deleted one was.
            same_inode = (
                tail.identity == identity
                and tail.gz == path.name.endswith(".gz")
                and (state.first is None or same_first)
            )
            if not (same_inode or same_first):
                continue
            if _still_there(tail):
                # A hard link is listed once; a compressed copy (gzip under way, or
                # gzip -k) waits while the file it copies is there; a plain copy is a file.
                return same_inode or (path.name.endswith(".gz") and not tail.gz)
            del self.files[old]
            key = str(path)
            self.files[key] = state
            if same_inode:
                tail.path = path
            else:
                state.tail = Tail(path, self.max_line, skip_bytes=tail.given)
                state.counted = 0
            self.model.files[state.file_id].path = key
            self.model.set_file_state(state.file_id, gone=False)
            self.moved += 1
            return True
        return False

    def _walk_error(self, exc: OSError) -> None:
        """A folder under the root that cannot be listed: said once, as a path problem."""
        where = str(exc.filename) if exc.filename is not None else str(self.root)
        if where not in self._reported:
            self._path_problem(where, f"cannot read folder: {exc.strerror or exc}")

    def _path_problem(self, path: str, reason: str) -> None:
        self._reported.add(path)
        self.problems.append(Problem(path, 0, "path", reason))

    # -- reading --------------------------------------------------------------------

    def read(self, on_slice: Callable[[], None] | None = None) -> int:
        """Read what is new in every file into the model; return the number of lines read.

        ``on_slice()`` as in :meth:`read_batch`.
        """
        self.discover()
        count = sum(self.read_in_turns(on_slice))
        self._check_processes()
        return count

    def read_in_turns(
        self, on_slice: Callable[[], None] | None = None, slice_lines: int = 2000
    ) -> Iterator[int]:
        """Read what is new in every registered file, a batch of each in turn; yield lines read.

        Files in turn rather than one after the other: the lines of one request,
        written to several files at about the same time, are applied close
        together, while its trace and spans are still in the CPU's cache.
        ``on_slice`` and ``slice_lines`` as in :meth:`read_batch`; ``on_slice()`` is
        also called between batches.
        """
        pending = list(self.files.values())
        while pending:
            still: list[FileState] = []
            for state in pending:
                lines, more = self.read_batch(state, on_slice, slice_lines)
                yield lines
                if more:
                    still.append(state)
                if on_slice is not None:
                    on_slice()
            pending = still

    def read_batch(
        self,
        state: FileState,
        on_slice: Callable[[], None] | None = None,
        slice_lines: int = 2000,
    ) -> tuple[int, bool]:
        """Read the next batch of one file into the model: the lines read, and whether more wait.

        With ``on_slice``, the lines are applied ``slice_lines`` at a time and
        ``on_slice()`` is called between slices (:attr:`bytes_read` moves on per
        batch): a caller sharing the model with another thread releases its lock there.
        """
        model, tail, file_id = self.model, state.tail, state.file_id
        count = 0
        was_gone, restarted = tail.gone, tail.restarted
        batch = tail.read_batch()
        if tail.gone != was_gone:
            model.set_file_state(file_id, gone=tail.gone)
        if tail.restarted != restarted:
            reason = "file was truncated or replaced: read again from the start"
            model.add_problem(file_id, Problem(str(tail.path), 0, "file", reason))
            state.counted = 0  # what it held then is not there to read
        for problem in batch.problems:
            model.add_problem(file_id, problem)
        raws, total = batch.raws, len(batch.raws)
        if state.first is None and batch.first == 0 and raws:
            state.first = _identity(raws[0])
        step = slice_lines if on_slice is not None else 1000
        for start in range(0, total, step):
            end = min(start + step, total)
            count += self._apply_lines(state, raws, batch.first, start, end)
            if on_slice is not None and end < total:
                on_slice()
        state.counted += batch.bytes
        if not batch.more:
            info = model.files[file_id]
            if info.partial != tail.partial:
                model.set_file_state(file_id, partial=tail.partial)
        return count, batch.more

    def _apply_lines(
        self, state: FileState, raws: list[bytes], first: int, start: int, end: int
    ) -> int:
        """Decode and apply ``raws[start:end]`` (line ``first + i + 1`` each); return lines seen."""
        lines = raws[start:end] if start or end < len(raws) else raws
        path, file_id = str(state.tail.path), state.file_id
        events, problems = decode_batch(lines, path, first + start)
        refused = self.applier.apply_batch(file_id, events, lines, first + start)
        add_problem = self.model.add_problem
        for problem in problems:
            add_problem(file_id, problem)
        for problem in refused:
            add_problem(file_id, problem)
        return len(events) - events.count(None) + len(problems)

    def _check_processes(self) -> None:
        """Processes of this host whose pid is gone: their open spans were cut short."""
        for key, proc in self.model.processes.items():
            if key[1] == _HOST and proc.alive is not False:
                alive = _pid_alive(key[2])
                if proc.alive != alive:
                    self.model.set_process_alive(key, alive)


def _identity(raw: bytes) -> FirstLine | None:
    """(svc, host, pid, ts, the whole line) of an event's line, or None for any other line."""
    raw = raw.rstrip(b"\r\n")
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(event) is not dict or "ts" not in event or "pid" not in event:
        return None
    return (event.get("svc"), event.get("host"), event.get("pid"), event["ts"], raw)


def _first_line(path: Path) -> FirstLine | None:
    """The identity of a file's first complete line, reading at most 64 KiB of it."""
    try:
        with open(path, "rb") as file:
            data = file.read(_FIRST_LINE)
        if path.name.endswith(".gz"):
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, _FIRST_LINE)
    except (OSError, zlib.error):
        return None
    end = data.find(b"\n")
    return _identity(data[:end].removeprefix(b"\xef\xbb\xbf")) if end >= 0 else None


def _still_there(tail: Tail) -> bool:
    """Whether the file a tail reads is still at its path (the same inode)."""
    try:
        st = os.stat(tail.path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == tail.identity


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
