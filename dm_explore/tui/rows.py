"""The Requests view's rows, kept up to date incrementally as the model grows.

:func:`dm_explore.model.filter_requests` filters and sorts every request: right for
a report, too slow to repeat every 150 ms over 100k requests on the UI thread.
:class:`RequestRows` gives the same rows in the same order, but each update only
looks at the requests that arrived since the last one and at the ones that were
still in flight then (whose duration, status and errors may have changed).

A new filter over a million requests is seconds of matching: an update that is
not ``exact`` matches new requests for at most :data:`SCAN_BUDGET` seconds,
newest first, and leaves the rest :attr:`RequestRows.pending` for the next one,
so the rows fill in while the UI stays responsive.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Sequence
from itertools import compress
from operator import itemgetter
from typing import overload

from ..model import Model, RequestFilter, Span, SpanKey

__all__ = ["RequestRows"]

Key = tuple[float, int]
_BULK = 64  # new requests past which one merge may beat insertions (_merge_pays)
SCAN_BUDGET = 0.03  # seconds of matching per update that is not exact
_SCAN_CHUNK = 1024  # requests matched between two looks at the clock


def _time_key(span: Span) -> Key:
    return (span.start_ts or span.end_ts or 0.0, span.seq)


def _slow_key(span: Span) -> Key:
    return (span.ms or 0.0, span.seq)


class RequestRows(Sequence[Span]):
    """Requests matching a filter, in ``newest``, ``slowest`` or ``oldest`` order.

    Kept internally ascending by key (time or duration, then arrival) in two
    parallel lists, so finding, inserting and moving a span is a bisection;
    ``newest`` and ``slowest`` read the lists from the end.
    """

    def __init__(
        self,
        flt: RequestFilter | None = None,
        order: str = "newest",
        *,
        every: RequestRows | None = None,
    ) -> None:
        """``every``: the rows of the empty filter in the same order, kept up to date by
        the caller; a new filter then matches requests in their row order, newest
        first, so the rows it shows while it matches are the newest ones."""
        self.flt = flt or RequestFilter()
        self.order: str = order
        self._every = every if every is not None and every.order == order else None
        self._key: Callable[[Span], Key] = _slow_key if order == "slowest" else _time_key
        self._keys: list[Key] = []
        self._spans: list[Span] = []
        self._known: dict[SpanKey, Span] = {}  # every request looked at so far
        self._open: dict[SpanKey, tuple[Span, Key | None]] = {}  # in flight: key if shown
        self._arrivals: deque[Span] = deque()  # the known requests, oldest arrival first
        self._pending: list[Span] = []  # known, not matched yet: the last is matched first
        self._found: list[tuple[Key, Span]] = []  # matched from _pending, not yet merged in
        self._found_stale = False  # a request was forgotten since: _found may hold it
        self._evicted = -1
        self._static = self.flt == RequestFilter()  # matches every request, always
        # Spans that may change place or match once they end: any, unless the filter is
        # empty and the key is the start time, which ending does not change.
        self._track_open = not self._static or order == "slowest"

    # -- reading -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._spans)

    @property
    def pending(self) -> int:
        """Requests not matched against the filter yet (a later update matches them)."""
        return len(self._pending) + len(self._found)

    @overload
    def __getitem__(self, index: int) -> Span: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Span]: ...
    def __getitem__(self, index: int | slice) -> Span | Sequence[Span]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self._spans)
        if not 0 <= index < len(self._spans):
            raise IndexError(index)
        return self._spans[index if self.order == "oldest" else len(self._spans) - 1 - index]

    def index_of(self, span: Span) -> int | None:
        """The row of ``span``, or None when it is not shown."""
        if self._known.get(span.key) is not span:
            return None
        found = self._open.get(span.key)
        key = found[1] if found is not None else self._key(span)
        if key is None:
            return None
        at = bisect_left(self._keys, key)
        if at >= len(self._spans) or self._spans[at] is not span:
            return None
        return at if self.order == "oldest" else len(self._spans) - 1 - at

    # -- updating ----------------------------------------------------------------

    def update(self, model: Model, *, exact: bool = True) -> int:
        """Take in what changed in ``model``; return how many rows were added (net).

        The caller keeps its cursor on the same span with :meth:`index_of`. Requests
        of evicted traces go at once when they were the oldest arrivals. Others (a
        folder read file by file, whose traces span files) cost a pass over every
        row to find: with ``exact`` false they stay until they make a twentieth of
        the rows, so that pass is paid once per that many evictions, not per update.
        """
        before = len(self._spans)
        evicted = model.totals["evicted_traces"]
        present = model.requests
        if evicted != self._evicted:
            self._evicted = evicted
            self._drop_evicted(present)
        self._recheck_open()
        known = self._known
        if not known:  # a new filter or order: every request is new, taken in at C speed
            fresh = list(present.values())
            known.update(present)
            self._arrivals.extend(fresh)
            every = self._every
            if every is not None and len(every) == len(present) and not every.pending:
                fresh = list(every._spans)  # row order: matched from the newest row down
        else:
            fresh = []
            for span_key, span in reversed(present.items()):  # newest arrivals first
                if known.get(span_key) is span:
                    break  # everything older was looked at before
                fresh.append(span)
            fresh.reverse()
            for span in fresh:
                span_key = span.key
                if span_key in known:  # evicted, then seen again: a new Span
                    self._forget(known[span_key])
                known[span_key] = span
                self._arrivals.append(span)
        self._pending.extend(fresh)
        self._match_pending(present, None if exact else time.perf_counter() + SCAN_BUDGET)
        stale = len(self._known) - len(present)  # evicted out of arrival order
        if stale and (exact or stale > max(_BULK, len(present) // 20)):
            self._drop_missing(present)
        return len(self._spans) - before

    def _match_pending(self, present: dict[SpanKey, Span], deadline: float | None) -> None:
        """Match pending requests, newest first, until none is left or ``deadline``.

        What matched joins the rows when the scan is done, or once it makes half
        the rows, so a long scan shows its rows as it goes while the merges, each a
        pass over the rows, stay few.
        """
        pending, found = self._pending, self._found
        key, matches, track, opened = self._key, self.flt.matches, self._track_open, self._open
        while pending:
            chunk = pending[-_SCAN_CHUNK:]
            del pending[-_SCAN_CHUNK:]
            for span in chunk:
                if not matches(span):
                    if track and span.end_ts is None:
                        opened[span.key] = (span, None)  # it may match once it ends
                    continue
                found.append((key(span), span))
            if deadline is not None and time.perf_counter() > deadline:
                break
        if found and (not pending or len(found) * 2 >= len(self._keys)):
            self._add_found(present)

    def _add_found(self, present: dict[SpanKey, Span]) -> None:
        """Put the matched requests in their rows: one merge, or an insertion each."""
        found = self._found
        if self._found_stale:
            found = [(k, span) for k, span in found if present.get(span.key) is span]
            self._found_stale = False
        self._found = []
        found.sort(key=itemgetter(0))
        keys = self._keys
        if found and (not keys or found[-1][0] <= keys[0]):  # all older: scanned newest first
            self._keys[:0] = [k for k, _ in found]
            self._spans[:0] = [span for _, span in found]
        elif self._merge_pays(found):
            self._merge(found)
        else:
            for span_key, span in found:
                self._insert(span_key, span)
        if self._track_open:
            for span_key, span in found:
                if span.end_ts is None:
                    self._open[span.key] = (span, span_key)

    def _merge_pays(self, found: list[tuple[Key, Span]]) -> bool:
        """Whether one merge costs less than inserting ``found`` one by one.

        An insertion moves every row after it: nothing much for requests newer than
        all shown (a live folder), half the list for ones from anywhere in time (a
        folder read file by file). Moving a row costs about a nanosecond, the merge
        a few hundred per row.
        """
        if len(found) <= _BULK or not self._keys:
            return len(found) > _BULK
        first = min(k for k, _ in found)
        moved = len(self._keys) - bisect_left(self._keys, first)
        return len(found) * moved > 150 * len(self._keys)

    def _merge(self, found: list[tuple[Key, Span]]) -> None:
        """Many matched requests (a folder being loaded): one sort, not one insertion each.

        Inserting one at a time moves half the list per request when the new ones
        fall anywhere in time, as they do while a folder is read file by file.
        """
        pairs = list(zip(self._keys, self._spans, strict=True))
        pairs.extend(found)
        pairs.sort(key=itemgetter(0))  # sorted runs: Timsort merges them
        self._keys = [k for k, _ in pairs]
        self._spans = [s for _, s in pairs]

    def _insert(self, key: Key, span: Span) -> None:
        at = bisect_left(self._keys, key)
        self._keys.insert(at, key)
        self._spans.insert(at, span)

    def _remove(self, key: Key, span: Span) -> None:
        at = bisect_left(self._keys, key)
        if not (at < len(self._spans) and self._spans[at] is span):
            try:  # its key changed since it was placed (a start after its end)
                at = self._spans.index(span)
            except ValueError:
                return
        del self._keys[at]
        del self._spans[at]

    def _recheck_open(self) -> None:
        """Spans in flight at the last look: ended ones may have a new key and match."""
        static = self._static
        for span_key, (span, key) in list(self._open.items()):
            if span.end_ts is None:
                if static:
                    continue  # in flight: its key stays, and an empty filter matches it
            else:
                del self._open[span_key]
            if key is not None:
                self._remove(key, span)
            new_key = self._key(span) if self.flt.matches(span) else None
            if new_key is not None:
                self._insert(new_key, span)
            if span.end_ts is None:
                self._open[span_key] = (span, new_key)

    def _forget(self, span: Span) -> None:
        """Take ``span`` out of the rows, wherever its key put it."""
        self._found_stale = True
        found = self._open.pop(span.key, None)
        shown = found is not None or self.flt.matches(span)
        key = found[1] if found is not None else (self._key(span) if shown else None)
        if key is not None:
            self._remove(key, span)
        self._known.pop(span.key, None)

    def _drop_evicted(self, present: dict[SpanKey, Span]) -> None:
        """The model evicted its oldest traces: forget their requests, oldest arrivals first."""
        arrivals, known = self._arrivals, self._known
        while arrivals and present.get(arrivals[0].key) is not arrivals[0]:
            span = arrivals.popleft()
            if known.get(span.key) is span:
                self._forget(span)

    def _drop_missing(self, present: dict[SpanKey, Span]) -> None:
        """Forget every request the model no longer holds, wherever it arrived."""
        self._found_stale = True
        get = present.get
        kept = [get(span.key) is span for span in self._spans]
        self._keys = list(compress(self._keys, kept))
        self._spans = list(compress(self._spans, kept))
        self._known = {sid: s for sid, s in self._known.items() if present.get(sid) is s}
        self._arrivals = deque(s for s in self._arrivals if self._known.get(s.key) is s)
        self._open = {
            sid: entry for sid, entry in self._open.items() if present.get(sid) is entry[0]
        }
