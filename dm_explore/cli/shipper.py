"""Following a folder and sending each span, log record and metric point to an OTLP receiver.

:class:`Shipper` reads the folder batch by batch (:class:`~dm_explore.ingest.FolderReader`),
queues each span as its end is read and each ``log``, ``exception``, ``metric`` and
``runtime`` line as it is read (:mod:`dm_explore.outputs.otlp_signals`), sends the
queues in bounded requests, one signal after the other, and records per file where a
restart must read again (:class:`~dm_explore.cli.ship_state.StateFile`).

**Where a restart reads.** A file's resume point is the start of the batch in which
its oldest unsent span began, or in which its oldest unsent log or metric line was
read (or the end of what was read, when nothing waits): a restart re-reads every
line of every span that was not sent yet. The spans that were sent (or dropped) and
whose end lies past the resume point are listed by id, and are not sent again when
re-read; for logs and metrics, the last line whose record was sent is kept per
signal, and lines up to it are not sent again. A span that stays open while more than
:data:`MAX_DONE` spans of its file are sent is *held*: its start line is kept in
the state instead, and the resume point moves on (on a restart its lines written
before the resume point, such as SQL, are not sent with it).

**Files.** A file is known by its first line (the process's first event: service,
host, pid and time), so a file moved or compressed (``gzip f.jsonl``) is read on from
where it was, under its new name, not sent again.

**The queues** hold at most ``queue_limit`` spans (an ended span and its SQL
statements' spans, counted as the receiver counts them), and as many log records
and metric points, while the receiver cannot be reached; past it the oldest are
dropped, counted and reported.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import orjson

from ..ingest import FileState, FolderReader
from ..ingest.decode import decode_batch
from ..model import Model, ProcessKey, Span
from ..outputs.otlp import MAX_ITEMS, batch_requests, otlp_spans
from ..outputs.otlp_send import Refused, Sender, Unreachable, not_served
from ..outputs.otlp_signals import (
    exception_record,
    log_record,
    logs_request,
    metric_points,
    metrics_request,
    process_of,
)
from ..outputs.textsafe import safe_line
from .otlp_tap import Tap
from .ship_state import POINT_SIGNALS, Progress, Queued, QueuedPoint, StateFile, first_line_key

__all__ = ["DEFAULT_QUEUE", "MAX_DONE", "Shipper", "StateFile"]

DEFAULT_QUEUE = 50_000  # ended spans (and as many log records, metric points) waiting, at most
MAX_DONE = 5_000  # sent spans remembered past a file's resume point, at most
MAX_RETRY_WAIT = 30.0


class Shipper:
    """Reads ``folder`` and sends what it holds with ``senders``; progress in ``state``.

    ``senders``: one :class:`Sender` per signal sent (``traces``, ``logs``, ``metrics``),
    or a single one for its own signal. A signal without a sender is not sent.
    """

    def __init__(
        self,
        folder: Path,
        senders: Sender | Mapping[str, Sender],
        state: StateFile | None,
        *,
        queue_limit: int = DEFAULT_QUEUE,
        max_traces: int = 20_000,
        err: IO[str] | None = None,
    ) -> None:
        self.reader = FolderReader(folder, Model(max_traces=max_traces))
        self.tap = Tap(self.reader)
        if isinstance(senders, Sender):
            senders = {senders.endpoint.signal: senders}
        self.senders = dict(senders)
        self.state, self.queue_limit = state, queue_limit
        self.err = err or sys.stderr
        self.saved = state.load() if state is not None else {}
        self.progress: dict[str, Progress] = {}  # by identity
        self.ident: dict[str, str] = {}  # reader's file key (its path) -> identity
        self.retired: set[str] = set()  # paths of files since moved or compressed
        self.queue: deque[Queued] = deque()
        self.waiting = 0  # OTLP spans in the queue: ended spans and their statements
        self.points: dict[str, deque[QueuedPoint]] = {s: deque() for s in POINT_SIGNALS}
        self.points_sent = dict.fromkeys(POINT_SIGNALS, 0)
        self.points_dropped = dict.fromkeys(POINT_SIGNALS, 0)
        self.queued: set[str] = set()
        self.cut: set[str] = set()
        self.sent = self.dropped = self.skipped = 0
        self.next_try = 0.0
        self.backoff = 0.5
        self.down_since: float | None = None
        self.state_failed = False

    # -- reading ----------------------------------------------------------------

    def read(self) -> None:
        """Read what is new in every file, queueing each span whose end is read and each
        log and metric line."""
        reader = self.reader
        reader.discover()
        for path, state in list(reader.files.items()):
            if path in self.retired:
                continue
            key = self.ident.get(path) or self._identify(path, state)
            more = True
            while more and key is not None:
                tail = state.tail
                before = (tail.line_number, tail.offset - len(tail.pending))
                _, more = reader.read_batch(state)
                started, ended, points = self.tap.take()
                progress = self.progress[key]
                for span_id in started:
                    progress.open_from.setdefault(span_id, before)
                for span_id in ended:
                    self._ended(key, span_id, state.tail.line_number)
                if points:
                    self._points(key, progress, points, before)
                if self._request_waits():
                    self.flush(full_only=True)  # a folder read at once must not fill the queue

    def _request_waits(self) -> bool:
        """Whether a queue holds a whole request's worth (:data:`MAX_ITEMS`), or is full."""
        enough = self._whole()
        if self.waiting >= enough and "traces" in self.senders:
            return True
        return any(
            len(queue) >= enough and signal in self.senders for signal, queue in self.points.items()
        )

    def _whole(self) -> int:
        """What a queue holds when a request is worth sending before the end of a read."""
        return min(MAX_ITEMS, self.queue_limit)

    def _points(
        self,
        key: str,
        progress: Progress,
        points: list[tuple[int, str, bytes]],
        before: tuple[int, int],
    ) -> None:
        """Queue the log records and metric points of lines just read, unless sent before."""
        logs, metrics = self.points["logs"], self.points["metrics"]
        send_logs, send_metrics = "logs" in self.senders, "metrics" in self.senders
        logs_upto = progress.sent_upto.get("logs", 0)
        metrics_upto = progress.sent_upto.get("metrics", 0)
        for line, kind, raw in points:
            if kind in ("log", "exception"):
                if not send_logs or line <= logs_upto:
                    continue
                data = orjson.loads(raw)
                record = log_record(data) if kind == "log" else exception_record(data)
                logs.append(QueuedPoint(key, line, process_of(data), [record]))
                progress.points_from.setdefault(("logs", line), before)
            else:
                if not send_metrics or line <= metrics_upto:
                    continue
                data = orjson.loads(raw)
                found = metric_points(data)
                if found:
                    metrics.append(QueuedPoint(key, line, process_of(data), found))
                    progress.points_from.setdefault(("metrics", line), before)
        for signal in POINT_SIGNALS:
            queue = self.points[signal]
            while len(queue) > self.queue_limit:
                self._point_done(signal, queue.popleft())
                self.points_dropped[signal] += 1

    def _point_done(self, signal: str, point: QueuedPoint) -> None:
        progress = self.progress[point.key]
        progress.points_from.pop((signal, point.line), None)
        if point.line > progress.sent_upto.get(signal, 0):
            progress.sent_upto[signal] = point.line

    def _identify(self, path: str, state: FileState) -> str | None:
        """Know a newly found file by its first line; resume it where it was, if known."""
        key = first_line_key(Path(path))
        if key is None:
            return None
        self.ident[path] = key
        tail, gz = state.tail, path.endswith(".gz")
        old = self.progress.get(key)
        if old is not None and old.path != path:  # moved or compressed while followed
            previous = self.reader.files.get(old.path)
            if previous is not None:
                self.retired.add(old.path)  # no longer read under that name
                prev = previous.tail
                tail.line_number = prev.line_number
                if not gz and not prev.gz:
                    tail.offset = prev.offset - len(prev.pending)
                elif not gz:
                    tail.line_number = 0  # decompressed: offsets unknown, read again
            old.path = path
            return key
        progress = self.progress[key] = Progress(path)
        saved = self.saved.get(key)
        if isinstance(saved, dict):
            offset, line = int(saved.get("offset", 0)), int(saved.get("line", 0))
            if gz or not saved.get("gz"):
                tail.line_number = line
                if not gz:
                    tail.offset = offset
            progress.skip = set(saved.get("done") or ())
            points = saved.get("points")
            if isinstance(points, dict):
                progress.sent_upto = {s: int(n) for s, n in points.items() if s in POINT_SIGNALS}
            progress.held = dict(saved.get("held") or {})
            self._reapply_held(state, progress)
        return key

    def _reapply_held(self, state: FileState, progress: Progress) -> None:
        """Apply the start lines of spans held open across the restart."""
        raws = [line.encode() + b"\n" for line in progress.held.values()]
        if raws:
            events, _ = decode_batch(raws, str(state.tail.path), 0)
            self.reader.applier.apply_batch(state.file_id, events, raws, 0)
            self.tap.take()  # those spans were noted when first read

    def _ended(self, key: str, span_id: str, after: int) -> None:
        progress = self.progress[key]
        span = self.reader.model.span(span_id)  # a ref: <trace>-<span>
        if span is None or span.end_ts is None or span_id in self.queued:
            return
        if span_id in progress.skip:  # sent before a restart
            progress.skip.discard(span_id)
            self._done(key, span_id, after)
            self.skipped += 1 + len(span.sql)  # counted as sent: with its statements
            return
        if span.kind == "?":  # its start was never read (before the resume point): not ours
            return
        if "traces" not in self.senders:
            self._done(key, span_id, after)
            return
        progress.held.pop(span_id, None)
        spans = otlp_spans(span, cut_parent=self._closes_cycle(span))
        self.queue.append(Queued(key, span_id, after, span.process, spans))
        self.queued.add(span_id)
        self.waiting += len(spans)
        if self.waiting > self.queue_limit:
            self._flush_spans(wait=False, full_only=True)  # unless the receiver is down
        while self.waiting > self.queue_limit and len(self.queue) > 1:
            lost = self.queue.popleft()
            self.queued.discard(lost.span_id)
            self.waiting -= len(lost.spans)
            self._done(lost.key, lost.span_id, lost.after)
            self.dropped += len(lost.spans)

    def _closes_cycle(self, span: Span) -> bool:
        """Whether the span's parent link leads back to it (then it is cut, once)."""
        spans, node, seen = self.reader.model.spans, span, {span.span_id}
        while node.parent is not None and node.span_id not in self.cut:
            parent = spans.get((node.trace, node.parent))
            if parent is None:
                return False
            if parent is span:
                self.cut.add(span.span_id)
                return True
            if parent.span_id in seen:
                return False
            seen.add(parent.span_id)
            node = parent
        return False

    def _done(self, key: str, span_id: str, after: int) -> None:
        progress = self.progress[key]
        progress.open_from.pop(span_id, None)
        progress.done[span_id] = after

    # -- sending ----------------------------------------------------------------

    def flush(self, *, wait: bool = False, full_only: bool = False) -> bool:
        """Send the queues in bounded requests; False when the receiver could not take them.

        Raises :class:`~dm_explore.outputs.otlp_send.Refused` when the receiver refuses.
        Without ``wait``, a receiver found down is not tried again before its backoff ends.
        With ``full_only``, only full requests are sent; the rest waits for more.
        """
        if "traces" in self.senders and not self._flush_spans(wait, full_only):
            return False
        for signal in POINT_SIGNALS:
            if signal in self.senders and not self._flush_points(signal, wait, full_only):
                return False
        return True

    def _flush_spans(self, wait: bool, full_only: bool = False) -> bool:
        sender = self.senders["traces"]
        while self.queue and (not full_only or self.waiting >= self._whole()):
            batch: list[tuple[ProcessKey, dict[str, Any]]] = []
            weight = whole = part = 0  # entries sent whole; spans of the next one sent
            for queued in self.queue:
                for span in queued.spans:
                    size = 1 + len(span["events"])
                    if batch and weight + size > MAX_ITEMS:
                        break
                    batch.append((queued.process, span))
                    weight += size
                    part += 1
                if part < len(queued.spans):  # the request is full
                    break
                whole, part = whole + 1, 0
            (request,) = batch_requests(batch, weight * 10**6)
            if not self._send(sender, request, wait):
                return False
            for _ in range(whole):
                queued = self.queue.popleft()
                self.queued.discard(queued.span_id)
                self._done(queued.key, queued.span_id, queued.after)
            if part:  # a span with more statements than a request holds: the rest follow
                del self.queue[0].spans[:part]
            self.waiting -= len(batch)
            self.sent += len(batch)
            self.save()
        return True

    def _flush_points(self, signal: str, wait: bool, full_only: bool = False) -> bool:
        queue, sender = self.points[signal], self.senders[signal]
        build = logs_request if signal == "logs" else metrics_request
        while queue and (not full_only or len(queue) >= self._whole()):
            items = [queue[i] for i in range(min(len(queue), MAX_ITEMS))]
            request = build((q.process, item) for q in items for item in q.items)
            if not self._send(sender, request, wait):
                return signal not in self.senders  # True: a signal the receiver does not serve
            for point in items:
                queue.popleft()
                self._point_done(signal, point)
            self.points_sent[signal] += sum(len(q.items) for q in items)
            self.save()
        return True

    def _send(self, sender: Sender, request: dict[str, Any], wait: bool) -> bool:
        """Send one request; False (and back off) when the receiver cannot be reached.

        A signal that was not asked for and that the receiver does not serve is no longer
        sent (its queue is emptied): False too, and the signal leaves :attr:`senders`.
        """
        if not wait and time.monotonic() < self.next_try:
            return False
        try:
            sender.send(request)
        except Refused as exc:
            if not not_served(sender.endpoint, exc):
                raise
            signal = sender.endpoint.signal
            self.say(f"{safe_line(str(exc))}: {signal} not sent")
            del self.senders[signal]
            queue = self.points.get(signal)
            while queue:
                self._point_done(signal, queue.popleft())
            return False
        except Unreachable as exc:
            if self.down_since is None:
                self.down_since = time.monotonic()
                waiting = self.waiting + sum(len(q) for q in self.points.values())
                self.say(
                    f"receiver unreachable ({exc}); {waiting} queued, at most "
                    f"{self.queue_limit} kept (spans, and as many log and metric lines)"
                )
            delay = max(self.backoff, exc.retry_after or 0.0)
            self.backoff = min(self.backoff * 2, MAX_RETRY_WAIT)
            self.next_try = time.monotonic() + delay
            return False
        if self.down_since is not None:
            self.say(f"receiver back after {time.monotonic() - self.down_since:.0f}s")
            self.down_since = None
        self.backoff = 0.5
        return True

    # -- state ------------------------------------------------------------------

    def save(self) -> None:
        """Write every file's resume point, held spans and recently sent ids."""
        if self.state is None:
            return
        files: dict[str, Any] = dict(self.saved)
        for key, progress in self.progress.items():
            state = self.reader.files.get(progress.path)
            if state is None:
                continue
            tail = state.tail
            line, offset = tail.line_number, tail.offset - len(tail.pending)
            if progress.open_from:
                oldest = min(progress.open_from.values())
                if len(progress.done) > MAX_DONE:  # hold the oldest open spans instead
                    self._hold(progress, oldest)
                    oldest = min(progress.open_from.values(), default=(line, offset))
                line, offset = min(oldest, (line, offset))
            if progress.points_from:
                line, offset = min(min(progress.points_from.values()), (line, offset))
            progress.done = {s: a for s, a in progress.done.items() if a > line}
            files[key] = {
                "path": progress.path,
                "gz": tail.gz,
                "offset": offset,
                "line": line,
                "done": sorted(progress.done) + sorted(progress.skip),
                "held": progress.held,
                "points": progress.sent_upto,
            }
        try:
            self.state.save(files)
        except OSError as exc:
            if not self.state_failed:
                self.say(f"cannot write the state {safe_line(self.state.path)}: {exc}")
            self.state_failed = True
        else:
            self.state_failed = False

    def _hold(self, progress: Progress, oldest: tuple[int, int]) -> None:
        for span_id, line in list(progress.open_from.items()):
            if line != oldest:
                continue
            span = self.reader.model.span(span_id)
            if span is not None and span.start_raw:
                progress.held[span_id] = span.start_raw.decode("utf-8", "replace").rstrip("\n")
            del progress.open_from[span_id]  # held, or evicted from the model: never sent

    def say(self, text: str) -> None:
        print(f"dm-explore ship: {text}", file=self.err, flush=True)

    def counts(self) -> str:
        requests = sum(sender.requests for sender in self.senders.values())
        text = (
            f"{self.sent} spans sent in {requests} requests, "
            f"{self.waiting} queued, {self.dropped} dropped (queue full), "
            f"{self.skipped} already sent before a restart"
        )
        for signal, what in (("logs", "log records"), ("metrics", "metric points")):
            if signal in self.senders:
                queue = self.points[signal]
                text += (
                    f"; {self.points_sent[signal]} {what} sent, {len(queue)} queued, "
                    f"{self.points_dropped[signal]} dropped"
                )
        return text
