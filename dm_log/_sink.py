"""The per-process file: one complete line per ``write()``, capped, never raising.

``FileSink`` is the structlog "logger" at the end of the pipeline: its ``msg``
takes one rendered line (bytes ending in ``\\n``) and appends it to this
process's own file with a single ``os.write`` on an ``O_APPEND`` descriptor, so
concurrent threads never interleave inside a line and a line is on disk when
the call returns (no buffer to lose on SIGKILL).

Failures (unwritable folder, folder deleted, disk full, file-size limit, a
descriptor closed under us) never reach the caller: the line is counted as
dropped and the count is written as ``dm.dropped`` once writing works again.
At the cap the sink writes ``dm.capped`` and either rotates to a new segment
(keeping two, so disk use stays under the cap) or stops. Each file starts with
``process.start`` and, when a setting was refused, ``dm.config``.

Re-entrancy: a signal handler that logs may interrupt this thread anywhere,
including inside the slow path (opening, rotating). The slow path notes which
thread is inside it; a call from that same thread (necessarily a signal handler)
does not re-enter the half-done work but queues its line (up to
:data:`_MAX_QUEUED`, the rest counted as dropped), and the outer call writes the
queue before it returns, through the same cap checks. So a storm of handlers
cannot recurse, rotate in a loop or pass the cap.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from . import __version__
from ._bounds import MAX_STRING, clip
from ._clock import file_stamp, now_ts
from ._config import Config
from ._redact import redact_argv

__all__ = ["FileSink"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_CHECK_EVERY_S = 1.0
_CAP_RESERVE = 4096
_MAX_QUEUED = 256
_OPENING_KINDS = frozenset({"process.start", "dm.config"})
_monotonic = time.monotonic
_write = os.write


def _safe_name(text: str) -> str:
    return _UNSAFE.sub("-", text).strip("-")[:60] or "x"


class FileSink:
    """Appends lines to ``<dir>/<svc>.<host>.<pid>.<stamp>[.<n>].jsonl``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._reset_state()

    def _reset_state(self) -> None:
        self.pid = os.getpid()
        # The first file's own opening lines (``process.start``, ``dm.config``) come first in
        # it, so they get the first numbers, kept for them: events count on from there.
        self._opening_seqs = list(range(1 + bool(self.config.refused)))
        self._seq = itertools.count(len(self._opening_seqs))
        self._fd: int | None = None
        self._path: Path | None = None
        svc, host = _safe_name(self.config.service), _safe_name(self.config.host)
        self._base = f"{svc}.{host}.{self.pid}.{file_stamp()}"
        self._segment = 0
        self._size = 0
        self._fast_limit = self._segment_limit() - _CAP_RESERVE
        self._stopped = False
        self._dropped = 0
        self._drop_reason = ""
        self._drop_since = ""
        self._next_check = 0.0
        self._retry_open_at = 0.0
        self._lines_since_check = 0
        self._torn = False
        self._inside = 0  # the thread id in the slow path, 0 when none
        self._queued: list[bytes] = []

    # -- public --------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The file written now (None until the first line)."""
        return self._path

    @property
    def dropped(self) -> int:
        """Lines lost and not yet reported in the file."""
        return self._dropped

    def next_seq(self) -> int:
        """The per-process sequence number of the next event."""
        return next(self._seq)

    def seq_source(self) -> Any:
        """The counter behind :meth:`next_seq` as a bare callable (one call per event, not
        two); a forked child gets a new one, so take it again after
        :meth:`after_fork_in_child`."""
        return self._seq.__next__

    def msg(self, line: bytes) -> None:
        """Append one rendered line. Never raises.

        The common case takes no lock: a single ``write()`` on an ``O_APPEND``
        descriptor is atomic for regular files, so threads cannot interleave
        inside a line. Opening, rotation, drop reports and failures go through
        the locked slow path.
        """
        fd = self._fd
        size = len(line)
        if (
            fd is not None
            and not self._dropped
            and self._size + size <= self._fast_limit
            and _monotonic() < self._next_check
        ):
            try:
                n = _write(fd, line)
            except OSError:
                n = -1  # retried, and counted if it fails again, on the slow path
            if n == size:
                self._size += n
                self._lines_since_check += 1
                return
            if n > 0:
                with self._lock:
                    self._end_fragment(fd, n)
                return
        me = threading.get_ident()
        if self._inside == me:  # a signal handler interrupted this thread's slow path
            if len(self._queued) < _MAX_QUEUED:
                self._queued.append(line)
            else:
                self.count_drop("written from a signal handler while the queue was full")
            return
        try:
            with self._lock:
                self._inside = me
                try:
                    self._append(line)
                    while self._queued:
                        self._append(self._queued.pop(0))
                finally:
                    self._inside = 0
        except Exception as exc:  # the application must never see our failure
            self.count_drop(f"{type(exc).__name__}: {exc}")

    info = msg  # structlog's bound loggers name the sink method after the log method

    def after_fork_in_child(self) -> None:
        """A forked child starts a file of its own on its first event."""
        self._lock = threading.RLock()
        fd = self._fd
        self._reset_state()
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                try:
                    os.close(self._fd)
                except OSError:
                    pass
                self._fd = None

    # -- internals -------------------------------------------------------------

    def _append(self, line: bytes) -> None:
        if self._stopped:
            self.count_drop("cap reached")
            return
        now = time.monotonic()
        if self._fd is not None and now >= self._next_check:
            self._next_check = now + _CHECK_EVERY_S
            self._check_file_still_there()
        if self._fd is None and not self._open(now):
            return
        if self._torn:
            self._torn = not self._write_raw(b"\n")
        if self._dropped:
            self._report_drops()
        limit = self._segment_limit()
        if self._size + len(line) > limit - _CAP_RESERVE:
            self._reach_cap(limit)
            if self._stopped or self._fd is None:
                self.count_drop("cap reached")
                return
        self._write(line)

    def _segment_limit(self) -> int:
        cap = self.config.max_bytes
        return cap if self.config.cap_action == "stop" else cap // 2

    def _open(self, now: float) -> bool:
        if now < self._retry_open_at:
            self.count_drop(self._drop_reason or "log folder unavailable")
            return False
        directory = self.config.log_dir
        assert directory is not None
        name = self._base + (f".{self._segment}" if self._segment else "") + ".jsonl"
        path = directory / name
        try:
            if not directory.is_dir():
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(directory, 0o700)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            self._retry_open_at = now + _CHECK_EVERY_S
            self.count_drop(_reason(exc))
            return False
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode):
                os.fchmod(fd, 0o600)
            self._size = st.st_size
        except OSError:
            self._size = 0
        self._fd = fd
        self._path = path
        self._next_check = now + _CHECK_EVERY_S
        self._write(self._own_line("process.start", self._process_fields()))
        if self.config.refused:
            refused = [r.as_fields() for r in self.config.refused]
            self._write(self._own_line("dm.config", {"refused": refused}))
        return self._fd is not None

    def _process_fields(self) -> dict[str, Any]:
        return {
            "argv": redact_argv(sys.argv),
            "python": sys.version.split()[0],
            "cwd": os.getcwd() if os.path.isdir(".") else "",
            "dm_version": __version__,
            "parent_pid": os.getppid(),
            "cap_bytes": self.config.max_bytes,
            "segment": self._segment,
        }

    def _check_file_still_there(self) -> None:
        """Reopen if our file was deleted or replaced (folder removed, rotated by hand)."""
        assert self._fd is not None and self._path is not None
        written, self._lines_since_check = self._lines_since_check, 0
        try:
            here = os.fstat(self._fd)
            there = os.stat(self._path)
            gone = here.st_nlink == 0 or (here.st_ino, here.st_dev) != (there.st_ino, there.st_dev)
            if not gone:
                self._size = here.st_size  # what is on disk, whatever interleaved with us
        except OSError:
            gone = True
        if gone:
            self.close()
            # What went into the removed file since the last look is lost with it.
            if written:
                self.count_drop("log file removed while in use", written)

    def _write(self, line: bytes) -> bool:
        fd = self._fd
        if fd is None:
            self.count_drop("no file")
            return False
        try:
            n = os.write(fd, line)
        except OSError as exc:
            if exc.errno in (errno.EBADF, errno.EIO, errno.ESTALE):
                self._fd = None
            self.count_drop(_reason(exc))
            return False
        if n < len(line):
            self._end_fragment(fd, n)
            return False
        self._size += n
        return True

    def _write_raw(self, data: bytes) -> bool:
        fd = self._fd
        if fd is None:
            return False
        try:
            return os.write(fd, data) == len(data)
        except OSError:
            return False

    def _end_fragment(self, fd: int, written: int) -> None:
        """Disk full mid-line: end the fragment so the next line starts clean."""
        try:
            ended = os.write(fd, b"\n") == 1
        except OSError:
            ended = False
        self._torn = not ended
        self._size += written
        self.count_drop("short write (disk full?)")

    def _own_line(self, kind: str, fields: dict[str, Any]) -> bytes:
        opening = self._opening_seqs
        event = {
            "v": 1,
            "ts": now_ts(),
            "event": kind,
            "svc": self.config.service,
            "host": self.config.host,
            "pid": self.pid,
            "seq": opening.pop(0) if opening and kind in _OPENING_KINDS else self.next_seq(),
            **fields,
        }
        try:
            return orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # text orjson refuses: lone surrogates from undecodable bytes
            return orjson.dumps(clip(event, MAX_STRING, 500, 20), option=orjson.OPT_APPEND_NEWLINE)

    def count_drop(self, reason: str, count: int = 1) -> None:
        """Count lines lost; they are reported as ``dm.dropped`` once writing works."""
        if not self._dropped:
            self._drop_since = now_ts()
        self._dropped += count
        self._drop_reason = reason

    def _report_drops(self) -> None:
        line = self._own_line(
            "dm.dropped",
            {"count": self._dropped, "reason": self._drop_reason, "since": self._drop_since},
        )
        if self._write_raw(line):
            self._size += len(line)
            self._dropped = 0

    def _reach_cap(self, limit: int) -> None:
        if self.config.cap_action == "stop":
            self._write(
                self._own_line("dm.capped", {"limit": self.config.max_bytes, "action": "stop"})
            )
            self._stopped = True
            self.close()
            return
        old_segment = self._segment - 1
        self._segment += 1
        next_name = f"{self._base}.{self._segment}.jsonl"
        self._write(
            self._own_line(
                "dm.capped", {"limit": self.config.max_bytes, "action": "rotate", "next": next_name}
            )
        )
        self.close()
        if old_segment >= 0 and self.config.log_dir is not None:
            stale = self._base + (f".{old_segment}" if old_segment else "") + ".jsonl"
            try:
                os.unlink(self.config.log_dir / stale)
            except OSError:
                pass
        self._open(time.monotonic())


def _reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "OSError")
    return f"{name}: {exc.strerror or exc}"
