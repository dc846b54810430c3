"""A folder's lines as raw bytes, a bounded batch at a time, without building a model.

For readers that keep nothing but what they stream out (``export otlp --endpoint``):
:func:`folder_batches` walks the folder as :class:`~dm_explore.ingest.FolderReader`
finds files (``*.jsonl`` and ``*.jsonl.gz``, sorted, symlinked folders not entered)
and reads each through :class:`~dm_explore.ingest.tail.Tail`, so a line longer than
the limit is skipped without being held, a compressed file is inflated as a stream,
and memory holds one batch (about :data:`~dm_explore.ingest.tail.BATCH_BYTES`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .folder import PATTERNS
from .tail import Tail

__all__ = ["file_batches", "folder_batches", "folder_files"]


def folder_files(folder: Path) -> Iterator[Path]:
    """The folder's event files, in the order the explorer reads them."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(PATTERNS):
                yield Path(dirpath) / name


def folder_batches(folder: Path) -> Iterator[list[bytes]]:
    """Every complete line of every file, file after file, in bounded batches."""
    return file_batches(folder_files(folder))


def file_batches(paths: Iterable[Path]) -> Iterator[list[bytes]]:
    """Every complete line of each of ``paths``, file after file, in bounded batches."""
    for path in paths:
        tail = Tail(path)
        more = True
        while more:
            batch = tail.read_batch()
            more = batch.more
            if batch.raws:
                yield batch.raws
