"""Following a folder as it grows: one loop, with watchfiles or by polling.

The TUI's reading thread and ``dm-explore tail`` both follow with
:func:`follow`; what they do on a change (read into the model, print the new
events) is theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["POLL_SECONDS", "follow"]

POLL_SECONDS = 0.25  # between two looks with --poll
FALLBACK_POLL_SECONDS = 0.5  # between two looks once the folder cannot be watched


def follow(
    root: Path,
    on_change: Callable[[], object],
    stop: threading.Event,
    *,
    poll: bool = False,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Call ``on_change()`` once now, then each time files under ``root`` may have changed.

    Returns when ``stop`` is set. Watches with watchfiles (debounce 50 ms, step
    10 ms: about 16 ms from a write to the call), or, with ``poll``, looks every
    ``poll_seconds`` (network filesystems, containers). A folder that cannot be
    watched, or stops being watchable (deleted), is polled instead.
    """
    if stop.is_set():
        return
    if not poll:
        # Imported here, as only following needs it, and before the first read: a file
        # written while the import ran would otherwise wait for the next change.
        from watchfiles import watch
    on_change()  # what arrived before the watch began
    interval = poll_seconds
    if not poll:
        try:
            for _changes in watch(root, debounce=50, step=10, stop_event=stop, recursive=True):
                on_change()
        except (OSError, RuntimeError):
            pass  # the folder went away or cannot be watched
        interval = FALLBACK_POLL_SECONDS
    while not stop.wait(interval):
        on_change()
