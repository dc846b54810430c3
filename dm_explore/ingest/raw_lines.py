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

__all__ = ["file_batches", "file_size", "folder_batches", "folder_files", "share_files"]


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


def file_size(path: Path) -> int:
    """A file's size in bytes; 0 if it cannot be read (gone since it was listed)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def share_files(files: list[Path], shares: int) -> list[list[Path]]:
    """``files`` in ``shares`` of about equal size (the biggest first, each to the lightest
    share), each in the given order; no share is empty."""
    sizes = {path: file_size(path) for path in files}
    order = {path: i for i, path in enumerate(files)}
    taken: list[tuple[int, list[Path]]] = [(0, []) for _ in range(shares)]
    for path in sorted(files, key=sizes.__getitem__, reverse=True):
        i = min(range(shares), key=lambda j: taken[j][0])
        taken[i] = (taken[i][0] + sizes[path], [*taken[i][1], path])
    return [sorted(share, key=order.__getitem__) for _, share in taken if share]
