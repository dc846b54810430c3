"""A folder read in a thread and followed, its model shared with readers behind a lock.

:class:`LiveFolder` is what the explorer and the MCP server both read from. A
thread reads what the folder holds (in slices of :data:`SLICE_LINES` lines, the
lock held for one slice at a time), then follows it
(:func:`~dm_explore.ingest.follow.follow`). Whoever reads the model (a redraw,
an answer) either takes the lock when it is free (:meth:`LiveFolder.try_lock`)
or says it waits (:meth:`LiveFolder.holding`), and the reading thread stands
aside after its current slice, for at most :data:`YIELD_LIMIT` seconds.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..model import Model
from .folder import FolderReader
from .follow import follow

__all__ = ["SLICE_LINES", "YIELD_LIMIT", "LiveFolder"]

SLICE_LINES = 2000  # lines applied per hold of the lock (a few ms of work)
YIELD_LIMIT = 0.1  # longest the reading thread stands aside for a waiting reader, seconds
_FREEZE_PAST = 200_000  # events loaded past which the loaded objects are frozen for gc


class LiveFolder:
    """Owns a folder's reader and model; :meth:`run` keeps the model up to date.

    The model is not thread-safe: the reading thread applies events while holding
    :attr:`lock`, and readers hold it while they read the model. Subclasses add
    work done in the reading thread with :meth:`after_load` (once, when what the
    folder held at start has been read) and :meth:`after_read` (after each batch
    read while following), both with the lock held.
    """

    def __init__(self, folder: Path, *, poll: bool = False, model: Model | None = None) -> None:
        self.folder = folder
        self.poll = poll
        self.model = model if model is not None else Model()
        self.reader = FolderReader(folder, self.model)
        self.lock = threading.RLock()
        self.loaded = False  # what the folder held at start has been read
        self.error: str | None = None  # why the reading thread stopped, if it did
        self.not_following: str | None = None  # why following stopped, while it is stopped
        self._stop = threading.Event()
        self._waiting = 0  # readers waiting for, or holding, the lock
        self._counting = threading.Lock()  # guards _waiting (readers on several threads)
        self._wants = False  # a reader found the lock busy and will try again

    # -- the readers' side ---------------------------------------------------------------

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Hold the lock; the reading thread yields it after its current slice."""
        with self._counting:
            self._waiting += 1
        try:
            with self.lock:
                yield
        finally:
            with self._counting:
                self._waiting -= 1

    def try_lock(self) -> bool:
        """Take the lock if it is free now (release with ``lock.release()``).

        When it is busy, the reading thread is asked to stand aside after its current
        slice, so the next try (the next redraw tick) succeeds.
        """
        if self.lock.acquire(blocking=False):
            self._wants = False
            return True
        self._wants = True
        return False

    def progress(self) -> float:
        """0..1 of the bytes present at start that have been read."""
        if self.loaded:
            return 1.0
        total = self.reader.bytes_total
        return min(self.reader.bytes_read / total, 1.0) if total else 0.0

    def stop(self) -> None:
        """Stop following; the reading thread ends after its current batch."""
        self._stop.set()

    # -- the reading thread ----------------------------------------------------------------

    def run(self) -> None:
        """Read everything, then follow changes until :meth:`stop`. Runs in a thread."""
        try:
            # The history is millions of small objects kept for the session, with no
            # garbage cycles: the cyclic collector would walk it again and again (half
            # the load time, and pauses of a second in the UI). It is off while the
            # history loads, and then told to leave what was loaded alone.
            collecting = gc.isenabled()
            gc.disable()
            try:
                self._read_in_slices()
            finally:
                if self.model.totals.get("events", 0) > _FREEZE_PAST:
                    gc.freeze()
                if collecting:
                    gc.enable()
            with self.lock:
                self.after_load()
            self.loaded = True
            self.model.live = True
            follow(self.folder, self.read_now, self._stop, poll=self.poll, on_state=self._state)
        except Exception as exc:  # never dies of a file: the readers say what happened
            self.error = f"{type(exc).__name__}: {exc}"

    def read_now(self) -> int:
        """Read what is new in every file (in slices, standing aside); lines read."""
        with self.lock:
            count = self.reader.read(on_slice=self.stand_aside)
            self.after_read()
        self._let_readers_in()
        return count

    def after_load(self) -> None:
        """Called once in the reading thread, the lock held, when the start is read."""

    def after_read(self) -> None:
        """Called in the reading thread, the lock held, after each batch followed."""

    def stand_aside(self) -> None:
        """Between two slices, with the lock held: let a waiting reader have it, briefly."""
        if not (self._waiting or self._wants):
            return
        self.lock.release()
        try:
            self._let_readers_in()
        finally:
            self.lock.acquire()

    def _let_readers_in(self) -> None:
        deadline = time.monotonic() + YIELD_LIMIT
        while (self._waiting or self._wants) and time.monotonic() < deadline:
            time.sleep(0.0005)

    def _read_in_slices(self) -> None:
        # The first screen draws before a large folder has been read to the end: the
        # lock is released between slices, and between the batches read in turns.
        with self.lock:
            self.reader.discover()
            turns = self.reader.read_in_turns(self.stand_aside, SLICE_LINES)
        while not self._stop.is_set():
            with self.lock:
                if next(turns, None) is None:
                    return
            self._let_readers_in()

    def _state(self, reason: str | None) -> None:
        """Following stopped (the folder is gone), or goes on again."""
        with self.lock:
            self.not_following = reason
            self.model.version += 1  # what readers show changed
