"""Following a folder as it grows: one loop, with watchfiles or by polling.

The TUI's reading thread and ``dm-explore tail`` both follow with
:func:`follow`; what they do on a change (read into the model, print the new
events) is theirs. The folder itself may be removed and made again (``rm -rf
logs; mkdir logs``): following goes on in the new folder, and says meanwhile
that it stopped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["POLL_SECONDS", "follow"]

POLL_SECONDS = 0.25  # between two looks with --poll
FALLBACK_POLL_SECONDS = 0.5  # between two looks once the folder cannot be watched
CHECK_MS = 500  # between two looks at the folder's own identity while watching

FOLDER_GONE = "the folder is gone: waiting for it to come back"


def follow(
    root: Path,
    on_change: Callable[[], object],
    stop: threading.Event,
    *,
    poll: bool = False,
    poll_seconds: float = POLL_SECONDS,
    on_state: Callable[[str | None], object] | None = None,
) -> None:
    """Call ``on_change()`` once now, then each time files under ``root`` may have changed.

    Returns when ``stop`` is set. Watches with watchfiles (debounce 50 ms, step
    10 ms: about 16 ms from a write to the call), or, with ``poll``, looks every
    ``poll_seconds`` (network filesystems, containers). A folder that cannot be
    watched is polled instead. When ``root`` is removed, ``on_state(reason)``
    says that following stopped; when a folder is there again (made anew, or
    moved back), it is followed and ``on_state(None)`` says so.
    """
    if stop.is_set():
        return
    if not poll:
        # Imported here, as only following needs it, and before the first read: a file
        # written while the import ran would otherwise wait for the next change.
        from watchfiles import watch
    on_change()  # what arrived before the watch began
    state: list[str | None] = [None]

    def tell(reason: str | None) -> None:
        if reason != state[0]:
            state[0] = reason
            if on_state is not None:
                on_state(reason)

    watching = not poll
    watched = _identity(root)
    while not stop.is_set():
        folder = _identity(root)
        if folder is None:
            tell(FOLDER_GONE)
            if stop.wait(poll_seconds if poll else FALLBACK_POLL_SECONDS):
                return
            continue
        tell(None)
        if folder != watched:
            watched = folder
            on_change()  # what the new folder holds already
        if watching:
            catch_up = True
            try:
                for changes in watch(
                    root, debounce=50, step=10, stop_event=stop, recursive=True,
                    rust_timeout=CHECK_MS, yield_on_timeout=True,
                ):  # fmt: skip
                    if _identity(root) != folder:
                        break  # removed or replaced: look again, then watch the new one
                    if changes or catch_up:
                        on_change()
                    # The first look after the watch began also reads what was written
                    # between the read before it and its start.
                    catch_up = False
                else:
                    return  # stopped
                continue
            except (OSError, RuntimeError):
                watching = False  # the folder cannot be watched: poll it
        interval = poll_seconds if poll else FALLBACK_POLL_SECONDS
        while not stop.wait(interval):
            if _identity(root) != folder:
                break
            on_change()


def _identity(root: Path) -> tuple[int, int] | None:
    """(device, inode) of the folder, or None when there is no folder at ``root``."""
    try:
        st = os.stat(root)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(root) else None
