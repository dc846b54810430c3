"""A folder streamed to OTLP by several processes at once, each reading its share of the files.

Every line of a span (its start, end and the lines that name it) is in the file of
the process that wrote it, so the files of a folder can be read apart: each worker
process runs a :class:`~dm_explore.outputs.otlp_stream.Stream` over its share
(:func:`share_files`, the biggest files first, each to the lightest share) and hands
the encoded requests back over a bounded queue; :class:`Workers` gives them in the
order they come, as one ``Stream`` would give them. What differs from one stream:
a parent link that closes a cycle through spans of two shares is not cut.

Workers are forked (the encoder is loaded once), so this is for POSIX systems;
:func:`jobs_for` says how many a folder is worth.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Collection, Iterator
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from ..ingest.raw_lines import file_batches
from . import otlp
from .otlp_stream import Stream

__all__ = ["MIN_BYTES_PER_JOB", "WorkerFailed", "Workers", "jobs_for", "share_files"]

MIN_BYTES_PER_JOB = 8 * 2**20  # below this a worker costs more than it saves
IN_FLIGHT = 4  # requests waiting in the queue, at most


def jobs_for(files: list[Path], jobs: int | None = None) -> int:
    """How many processes read ``files``: ``jobs`` if given (at most one per file), else
    one per CPU, at most 4, and no more than one per :data:`MIN_BYTES_PER_JOB`."""
    if jobs is None:
        if not hasattr(os, "fork"):
            return 1
        size = sum(_size(path) for path in files)
        jobs = min(os.cpu_count() or 1, 4, max(size // MIN_BYTES_PER_JOB, 1))
    return max(min(jobs, len(files)), 1)


def share_files(files: list[Path], jobs: int) -> list[list[Path]]:
    """``files`` in ``jobs`` shares of about equal size, each in the folder's order."""
    shares: list[tuple[int, list[Path]]] = [(0, []) for _ in range(jobs)]
    order = {path: i for i, path in enumerate(files)}
    for path in sorted(files, key=_size, reverse=True):
        i = min(range(jobs), key=lambda j: shares[j][0])
        shares[i] = (shares[i][0] + _size(path), [*shares[i][1], path])
    return [sorted(share, key=order.__getitem__) for _, share in shares if share]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class WorkerFailed(Exception):
    """A reading process failed: its traceback, or how it ended."""


class Workers:
    """The requests of ``shares`` of a folder's files, each share read by its own process.

    Iterates ``(signal, body, items)`` as :class:`~dm_explore.outputs.otlp_stream.Stream`
    does; :attr:`trace_ids` and :attr:`bad_lines` are complete once it is exhausted.
    Leaving the loop early stops the workers.
    """

    def __init__(
        self, shares: list[list[Path]], signals: Collection[str], *,
        json: Collection[str] = (), max_items: int = otlp.MAX_ITEMS,
    ) -> None:  # fmt: skip
        self.shares, self.signals = shares, tuple(signals)
        self.json, self.max_items = tuple(json), max_items
        self.trace_ids: set[int] = set()
        self.bad_lines = 0
        self._results: Queue[tuple[Any, ...]] | None = None
        self._workers: list[multiprocessing.process.BaseProcess] = []

    def start(self) -> None:
        """Fork the workers now, before the caller starts threads of its own (a fork copies
        only the thread that calls it). Iterating starts them if this was not called."""
        if self._results is not None:
            return
        context = multiprocessing.get_context("fork")
        self._results = results = context.Queue(IN_FLIGHT)
        self._workers = [
            context.Process(target=self._work, args=(share, results), daemon=True)
            for share in self.shares
        ]
        for worker in self._workers:
            worker.start()

    def __iter__(self) -> Iterator[tuple[str, bytes, int]]:
        self.start()
        results, workers = self._results, self._workers
        assert results is not None
        try:
            running = len(workers)
            while running:
                try:
                    item = results.get(timeout=1.0)
                except queue.Empty:
                    lost = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                    if lost:
                        raise WorkerFailed(f"a reading process ended with {lost[0]}") from None
                    continue
                if item[0] == "done":
                    self.trace_ids |= item[1]
                    self.bad_lines += item[2]
                    running -= 1
                elif item[0] == "failed":
                    raise WorkerFailed(item[1])
                else:
                    yield item
            for worker in workers:
                worker.join()
        finally:
            for worker in workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join()
            results.close()

    def _work(self, share: list[Path], results: Queue[tuple[Any, ...]]) -> None:
        try:
            stream = Stream(
                file_batches(share), self.signals, json=self.json, max_items=self.max_items
            )
            for item in stream:
                results.put(item)
            results.put(("done", stream.trace_ids, stream.bad_lines))
        except BaseException:  # told to the parent, which raises it
            results.put(("failed", traceback.format_exc()))
        results.close()
        results.join_thread()
