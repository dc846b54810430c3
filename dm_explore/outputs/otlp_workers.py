"""A folder streamed to OTLP by several processes at once, each reading its share of the files.

Every line of a span (its start, end and the lines that name it) is in the file of
the process that wrote it, so the files of a folder can be read apart: each worker
process runs a :class:`~dm_explore.outputs.otlp_stream.Stream` over the lines of its
share (:func:`dm_explore.ingest.raw_lines.share_files`) and hands the encoded
requests back over a bounded queue; :class:`Workers` gives them in the order they
come, as one ``Stream`` would give them. What differs from one stream: a parent link
that closes a cycle through spans of two shares is not cut.

Workers are forked (the encoder is loaded once, each share's lines are read by its
own process), so this is for POSIX systems.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Collection, Iterable, Iterator, Sequence
from multiprocessing.queues import Queue
from typing import Any

from . import otlp
from .otlp_stream import Stream

__all__ = ["WorkerFailed", "Workers"]

IN_FLIGHT = 4  # requests waiting in the queue, at most


class WorkerFailed(Exception):
    """A reading process failed: its traceback, or how it ended."""


class Workers:
    """The requests of ``shares`` of a folder's lines (each a file's batches after another's,
    as :func:`~dm_explore.ingest.raw_lines.file_batches` gives them, not yet read), each
    share read by its own process.

    Iterates ``(signal, body, items)`` as :class:`~dm_explore.outputs.otlp_stream.Stream`
    does; :attr:`trace_ids` and :attr:`bad_lines` are complete once it is exhausted.
    Leaving the loop early stops the workers.
    """

    def __init__(
        self, shares: Sequence[Iterable[list[bytes]]], signals: Collection[str], *,
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
                    self.trace_ids |= item[1]  # each capped: this one at most a few times
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

    def _work(self, share: Iterable[list[bytes]], results: Queue[tuple[Any, ...]]) -> None:
        try:
            stream = Stream(share, self.signals, json=self.json, max_items=self.max_items)
            for item in stream:
                results.put(item)
            results.put(("done", stream.trace_ids, stream.bad_lines))
        except BaseException:  # told to the parent, which raises it
            results.put(("failed", traceback.format_exc()))
        results.close()
        results.join_thread()
