"""Following a folder and sending each span to an OTLP receiver when it ends.

:class:`Shipper` reads the folder batch by batch (:class:`~dm_explore.ingest.FolderReader`),
queues each span as its end is read, sends the queue in bounded requests and
records, per file, where a restart must read again (:class:`StateFile`).

**Where a restart reads.** A file's resume point is the start of the batch in which
its oldest unsent span began (or the end of what was read, when no span waits): a
restart re-reads every line of every span that was not sent yet. The spans that
were sent (or dropped) and whose end lies past the resume point are listed by id,
and are not sent again when re-read. A span that stays open while more than
:data:`MAX_DONE` spans of its file are sent is *held*: its start line is kept in
the state instead, and the resume point moves on (on a restart its lines written
before the resume point, such as SQL, are not sent with it).

**Files.** A file is known by its first line (the process's first event: service,
host, pid and time), so a file moved or compressed (``gzip f.jsonl``) is read on from
where it was, under its new name, not sent again.

**The queue** holds at most ``queue_limit`` ended spans while the receiver cannot be
reached; past it the oldest are dropped, counted and reported.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from ..ingest import FileState, FolderReader
from ..ingest.decode import decode_batch
from ..model import Model, ProcessKey, Span
from ..outputs.otlp import MAX_ITEMS, batch_requests, span_to_otlp
from ..outputs.otlp_send import Sender, Unreachable
from ..outputs.textsafe import safe_line
from .otlp_tap import Tap

__all__ = ["DEFAULT_QUEUE", "MAX_DONE", "Shipper", "StateFile"]

DEFAULT_QUEUE = 50_000  # ended spans waiting for the receiver, at most
MAX_DONE = 5_000  # sent spans remembered past a file's resume point, at most
MAX_RETRY_WAIT = 30.0
STATE_VERSION = 1


@dataclass(slots=True)
class Progress:
    """One file's sending progress, known by its first line."""

    path: str
    # unsent span -> (line, byte offset) where its batch began
    open_from: dict[str, tuple[int, int]] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)  # sent span -> lines read after its end
    held: dict[str, str] = field(default_factory=dict)  # open span -> its start line
    resume: tuple[int, int] = (0, 0)  # from the state: (offset, line) to read again from
    skip: set[str] = field(default_factory=set)  # from the state: sent before the restart


@dataclass(slots=True)
class Queued:
    key: str  # the file's identity
    span_id: str
    after: int  # lines of the file read when its end was
    process: ProcessKey
    otlp: dict[str, Any]


class StateFile:
    """Per-file progress written atomically (a temporary file renamed over it), mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, orjson.JSONDecodeError) as exc:
            reason = f"dm-explore: cannot read state {safe_line(self.path)}: {exc}"
            raise SystemExit(reason) from None
        files = data.get("files") if isinstance(data, dict) else None
        return files if data.get("version") == STATE_VERSION and isinstance(files, dict) else {}

    def save(self, files: dict[str, Any]) -> None:
        body = orjson.dumps({"version": STATE_VERSION, "files": files})
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def first_line_key(path: Path) -> str | None:
    """A file's identity: a digest of its first complete line, or None before it has one."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                head = stream.readline(65536)
        else:
            with path.open("rb") as stream:
                head = stream.readline(65536)
    except (OSError, EOFError, ValueError):
        return None
    if not head.endswith(b"\n"):
        return None
    return hashlib.blake2b(head, digest_size=12).hexdigest()


class Shipper:
    """Reads ``folder`` and sends ended spans with ``sender``; progress in ``state``."""

    def __init__(
        self,
        folder: Path,
        sender: Sender,
        state: StateFile | None,
        *,
        queue_limit: int = DEFAULT_QUEUE,
        max_traces: int = 20_000,
        err: IO[str] | None = None,
    ) -> None:
        self.reader = FolderReader(folder, Model(max_traces=max_traces))
        self.tap = Tap(self.reader)
        self.sender, self.state, self.queue_limit = sender, state, queue_limit
        self.err = err or sys.stderr
        self.saved = state.load() if state is not None else {}
        self.progress: dict[str, Progress] = {}  # by identity
        self.ident: dict[str, str] = {}  # reader's file key (its path) -> identity
        self.retired: set[str] = set()  # paths of files since moved or compressed
        self.queue: deque[Queued] = deque()
        self.queued: set[str] = set()
        self.cut: set[str] = set()
        self.sent = self.dropped = self.skipped = 0
        self.next_try = 0.0
        self.backoff = 0.5
        self.down_since: float | None = None
        self.state_failed = False

    # -- reading ----------------------------------------------------------------

    def read(self) -> None:
        """Read what is new in every file, queueing each span whose end is read."""
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
                started, ended = self.tap.take()
                progress = self.progress[key]
                for span_id in started:
                    progress.open_from.setdefault(span_id, before)
                for span_id in ended:
                    self._ended(key, span_id, state.tail.line_number)

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
            progress.held = dict(saved.get("held") or {})
            self._reapply_held(state, progress)
        return key

    def _reapply_held(self, state: FileState, progress: Progress) -> None:
        """Apply the start lines of spans held open across the restart."""
        raws = [line.encode() + b"\n" for line in progress.held.values()]
        if raws:
            events, _ = decode_batch(raws, str(state.tail.path), 0)
            self.reader.applier.apply_batch(state.file_id, events, raws, 0)
            self.tap.take()

    def _ended(self, key: str, span_id: str, after: int) -> None:
        progress = self.progress[key]
        span = self.reader.model.span(span_id)  # a ref: <trace>-<span>
        if span is None or span.end_ts is None or span_id in self.queued:
            return
        if span_id in progress.skip:  # sent before a restart
            progress.skip.discard(span_id)
            self._done(key, span_id, after)
            self.skipped += 1
            return
        if span.kind == "?":  # its start was never read (before the resume point): not ours
            return
        progress.held.pop(span_id, None)
        otlp = span_to_otlp(span, cut_parent=self._closes_cycle(span))
        self.queue.append(Queued(key, span_id, after, span.process, otlp))
        self.queued.add(span_id)
        while len(self.queue) > self.queue_limit:
            lost = self.queue.popleft()
            self.queued.discard(lost.span_id)
            self._done(lost.key, lost.span_id, lost.after)
            self.dropped += 1

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

    def flush(self, *, wait: bool = False) -> bool:
        """Send the queue in bounded requests; False when the receiver could not take it.

        Raises :class:`~dm_explore.outputs.otlp_send.Refused` when the receiver refuses.
        Without ``wait``, a receiver found down is not tried again before its backoff ends.
        """
        while self.queue:
            if not wait and time.monotonic() < self.next_try:
                return False
            items: list[Queued] = []
            weight = 0
            for queued in self.queue:
                size = 1 + len(queued.otlp["events"])
                if items and weight + size > MAX_ITEMS:
                    break
                items.append(queued)
                weight += size
            (request,) = batch_requests(((q.process, q.otlp) for q in items), len(items) * 10**6)
            try:
                self.sender.send(request)
            except Unreachable as exc:
                if self.down_since is None:
                    self.down_since = time.monotonic()
                    self.say(
                        f"receiver unreachable ({exc}); {len(self.queue)} spans queued, "
                        f"at most {self.queue_limit} kept"
                    )
                delay = max(self.backoff, exc.retry_after or 0.0)
                self.backoff = min(self.backoff * 2, MAX_RETRY_WAIT)
                self.next_try = time.monotonic() + delay
                return False
            if self.down_since is not None:
                self.say(f"receiver back after {time.monotonic() - self.down_since:.0f}s")
                self.down_since = None
            self.backoff = 0.5
            for queued in items:
                self.queue.popleft()
                self.queued.discard(queued.span_id)
                self._done(queued.key, queued.span_id, queued.after)
            self.sent += len(items)
            self.save()
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
            progress.done = {s: a for s, a in progress.done.items() if a > line}
            files[key] = {
                "path": progress.path,
                "gz": tail.gz,
                "offset": offset,
                "line": line,
                "done": sorted(progress.done) + sorted(progress.skip),
                "held": progress.held,
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
        return (
            f"{self.sent} spans sent in {self.sender.requests} requests, "
            f"{len(self.queue)} queued, {self.dropped} dropped (queue full), "
            f"{self.skipped} already sent before a restart"
        )
