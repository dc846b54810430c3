"""A folder read once into a fresh model, as the batch commands (summary, tree, report) do."""

from __future__ import annotations

import gc
from pathlib import Path

from ..model import Model
from .folder import FolderReader

__all__ = ["ALL_TRACES", "load_folder"]

ALL_TRACES = 10**9  # max_traces for a reader that must evict nothing, whatever the folder's size


def load_folder(folder: Path, *, n_plus_one: int = 5, max_traces: int = 1_000_000) -> FolderReader:
    """Read every file under ``folder`` into a fresh model; the reader keeps its problems.

    The model is millions of small objects without cycles: the cyclic garbage
    collector would walk them again and again while they are made, so it is paused
    during the read and what was built is frozen out of its way afterwards.
    """
    reader = FolderReader(folder, Model(n_plus_one=n_plus_one, max_traces=max_traces))
    collecting = gc.isenabled()
    gc.disable()
    try:
        reader.read()
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    return reader
