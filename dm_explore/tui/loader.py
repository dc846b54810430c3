"""Reading the folder off the UI thread, and sharing the model with it safely."""

from __future__ import annotations

from ..ingest.live import LiveFolder

__all__ = ["Loader"]


class Loader(LiveFolder):
    """The explorer's folder: read and followed in a worker thread.

    The UI thread never waits long for the model: a redraw takes the lock only
    when it is free (:meth:`try_ui_lock`), and a screen that must read the model
    now holds it with :meth:`ui_lock`, the reading thread standing aside after its
    current slice.
    """

    ui_lock = LiveFolder.holding
    try_ui_lock = LiveFolder.try_lock
