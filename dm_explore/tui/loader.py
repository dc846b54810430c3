"""Reading the folder off the UI thread, and sharing the model with it safely."""

from __future__ import annotations

import threading
from pathlib import Path

from ..model import Model
from ..reader import FolderReader

__all__ = ["Loader"]


class Loader:
    """Owns the reader and the model; a thread keeps the model up to date.

    The model is not thread-safe: the reading thread applies events while holding
    :attr:`lock`, and the UI holds it while it reads the model to redraw.
    """

    def __init__(self, folder: Path, *, poll: bool = False, model: Model | None = None) -> None:
        self.folder = folder
        self.poll = poll
        self.model = model if model is not None else Model()
        self.reader = FolderReader(folder, self.model)
        self.lock = threading.RLock()
        self.loaded = False  # the history present at start has been read
        self.error: str | None = None
        self._stop = threading.Event()

    def progress(self) -> float:
        """0..1 of the bytes present at start that have been read."""
        if self.loaded:
            return 1.0
        total = self.reader.bytes_total
        return min(self.reader.bytes_read / total, 1.0) if total else 0.0

    def run(self) -> None:
        """Read everything, then follow changes until :meth:`stop`. Runs in a thread."""
        try:
            self._read_in_slices()
            self.loaded = True
            self.model.live = True
            self._follow()
        except Exception as exc:  # the explorer never dies of a file; say what happened
            self.error = f"{type(exc).__name__}: {exc}"

    def _read_in_slices(self) -> None:
        # One file at a time, releasing the lock between files, so the first screen
        # draws before a large folder has been read to the end.
        with self.lock:
            self.reader.discover()
            self.reader.bytes_total = sum(_size(Path(p)) for p in self.reader.files)
        for state in list(self.reader.files.values()):
            if self._stop.is_set():
                return
            with self.lock:
                self.reader.read_file(state)

    def read_now(self) -> int:
        with self.lock:
            return self.reader.read()

    def _follow(self) -> None:
        if self.poll:
            while not self._stop.wait(0.25):
                self.read_now()
            return
        from watchfiles import watch

        self.read_now()
        try:
            for _changes in watch(self.folder, debounce=50, step=10, stop_event=self._stop):
                self.read_now()
        except (OSError, RuntimeError):
            pass  # the folder went away or cannot be watched: fall back to polling
        # watch() ends on stop or when the folder disappears: keep polling if still running
        while not self._stop.wait(0.5):
            self.read_now()

    def stop(self) -> None:
        self._stop.set()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
