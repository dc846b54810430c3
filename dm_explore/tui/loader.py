"""Reading the folder off the UI thread, and sharing the model with it safely."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..ingest import FolderReader
from ..ingest.follow import follow
from ..model import Model

__all__ = ["Loader"]

SLICE_LINES = 2000  # lines applied per hold of the lock (a few ms of work)
_YIELD_LIMIT = 0.1  # longest the reader stands aside for a waiting UI, seconds
_FREEZE_PAST = 200_000  # events loaded past which the loaded objects are frozen for gc


class Loader:
    """Owns the reader and the model; a thread keeps the model up to date.

    The model is not thread-safe: the reading thread applies events while holding
    :attr:`lock`, :data:`SLICE_LINES` lines at a time, and the UI holds it while it
    reads the model. The UI never waits long: it either takes the lock at once
    (:meth:`try_ui_lock`) or says it wants it, and the reader stands aside after its
    current slice until the UI is done (:meth:`ui_lock`).
    """

    def __init__(self, folder: Path, *, poll: bool = False, model: Model | None = None) -> None:
        self.folder = folder
        self.poll = poll
        self.model = model if model is not None else Model()
        self.reader = FolderReader(folder, self.model)
        self.lock = threading.RLock()
        self.loaded = False  # the history present at start has been read
        self.error: str | None = None
        self.not_following: str | None = None  # why following stopped, while it is stopped
        self._stop = threading.Event()
        self._ui_waiting = 0  # UI callers waiting for, or holding, the lock
        self._ui_wants = False  # the UI found the lock busy and will try again

    # -- the UI side ------------------------------------------------------------------

    @contextmanager
    def ui_lock(self) -> Iterator[None]:
        """Hold the model lock on the UI thread; the reader yields it after its slice."""
        self._ui_waiting += 1
        try:
            with self.lock:
                yield
        finally:
            self._ui_waiting -= 1

    def try_ui_lock(self) -> bool:
        """Take the lock if it is free now (release with ``lock.release()``).

        When it is busy, the reader is asked to stand aside after its current slice,
        so the next try (the next redraw tick) succeeds.
        """
        if self.lock.acquire(blocking=False):
            self._ui_wants = False
            return True
        self._ui_wants = True
        return False

    def progress(self) -> float:
        """0..1 of the bytes present at start that have been read."""
        if self.loaded:
            return 1.0
        total = self.reader.bytes_total
        return min(self.reader.bytes_read / total, 1.0) if total else 0.0

    # -- the reading thread -----------------------------------------------------------

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
            self.loaded = True
            self.model.live = True
            self._follow()
        except Exception as exc:  # the explorer never dies of a file; say what happened
            self.error = f"{type(exc).__name__}: {exc}"

    def _stand_aside(self) -> None:
        """Between two slices: let a waiting UI have the lock, for a bounded time."""
        if not (self._ui_waiting or self._ui_wants):
            return
        self.lock.release()
        try:
            deadline = time.monotonic() + _YIELD_LIMIT
            while (self._ui_waiting or self._ui_wants) and time.monotonic() < deadline:
                time.sleep(0.001)
        finally:
            self.lock.acquire()

    def _read_in_slices(self) -> None:
        # The first screen draws before a large folder has been read to the end: the
        # lock is released between slices, and between the batches read in turns.
        with self.lock:
            self.reader.discover()
            turns = self.reader.read_in_turns(self._stand_aside, SLICE_LINES)
        while not self._stop.is_set():
            with self.lock:
                if next(turns, None) is None:
                    return
            self._stand_aside_unlocked()

    def _stand_aside_unlocked(self) -> None:
        deadline = time.monotonic() + _YIELD_LIMIT
        while (self._ui_waiting or self._ui_wants) and time.monotonic() < deadline:
            time.sleep(0.001)

    def read_now(self) -> int:
        """Read what is new in every file (in slices, yielding to the UI); lines read."""
        with self.lock:
            count = self.reader.read(on_slice=self._stand_aside)
        self._stand_aside_unlocked()
        return count

    def _follow(self) -> None:
        follow(self.folder, self.read_now, self._stop, poll=self.poll, on_state=self._follow_state)

    def _follow_state(self, reason: str | None) -> None:
        """Following stopped (the folder is gone), or goes on again: for the status line."""
        with self.lock:
            self.not_following = reason
            self.model.version += 1  # the status line changed: the UI draws again

    def stop(self) -> None:
        self._stop.set()
