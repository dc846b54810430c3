"""The public instrumentation API. Every function is a cheap no-op while recording is off."""

from __future__ import annotations

import functools
import inspect
import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, overload

from ._context import (
    SpanContext,
    current_span,
    format_traceparent,
    new_span_id,
    new_trace_id,
    parse_traceparent,
)
from ._frames import exception_fields
from ._panels import table_rows
from ._writer import emit, enabled

__all__ = [
    "Span",
    "capture_exception",
    "metric",
    "panel",
    "progress",
    "record",
    "span",
    "start_span",
    "traceparent",
]

PanelType = Literal["text", "markdown", "code", "kv", "table", "json"]
F = TypeVar("F", bound=Callable[..., Any])
_perf = time.perf_counter


def record(kind: str, /, **fields: Any) -> None:
    """Write one point event of ``kind`` in the current span (``sql``, ``log``, ``x.mine``…).

    The building block of the integrations; ``fields`` sit at top level beside
    the envelope. Kinds outside the hot path are validated before writing.
    """
    emit(kind, fields)  # ``fields`` is this call's own dict


class Span:
    """An open span: written as ``<kind>.start`` on creation and ``<kind>.end`` by :meth:`end`.

    While open it is the current span of the context that opened it, so events
    recorded there (and spans started there) hang under it.
    """

    __slots__ = ("_end_fields", "_ended", "_t0", "_token", "context", "kind")

    def __init__(self, kind: str, context: SpanContext | None, fields: dict[str, Any]) -> None:
        """Open the span (``context`` None: a span that records nothing); ``fields``, the
        start event's, are taken over, not copied."""
        self.kind = kind
        self.context = context
        self._end_fields: dict[str, Any] | None = None
        self._ended = context is None
        self._t0 = _perf()
        self._token = None
        if context is not None:
            self._token = current_span.set(context)
            fields["_dm_ctx"] = context  # the caller's own dict (``start_span``'s keywords)
            emit(kind + ".start", fields)

    @property
    def trace_id(self) -> str | None:
        return self.context.trace if self.context else None

    @property
    def span_id(self) -> str | None:
        return self.context.span if self.context else None

    def traceparent(self) -> str | None:
        """The W3C header value naming this span as the caller."""
        ctx = self.context
        return format_traceparent(ctx.trace, ctx.span) if ctx else None

    def set(self, **fields: Any) -> None:
        """Fields to write with the end event (status, rows, …).

        They sit at the top of the end event and are redacted like any other field:
        ``set(password=...)`` writes ``[redacted]``, and the value is scrubbed from
        the end's ``error`` text and from later events of the request.
        """
        if self._end_fields is None:
            self._end_fields = {}
        self._end_fields.update(fields)

    def end(
        self, *, outcome: str | None = None, error: BaseException | str | None = None, **fields: Any
    ) -> None:
        """Write ``<kind>.end`` with ``ms`` and the outcome, and restore the previous span."""
        if self._ended:
            return
        self._ended = True
        ctx = self.context
        assert ctx is not None
        end: dict[str, Any] = {"_dm_ctx": ctx, "ms": round((_perf() - self._t0) * 1000, 3)}
        if self._end_fields:
            end.update(self._end_fields)
        if fields:
            end.update(fields)
        if error is not None and "error" not in end:
            end["error"] = _describe(error)
        if not outcome:
            outcome = end.get("outcome") or ("error" if error is not None else "ok")
        end["outcome"] = outcome
        emit(self.kind + ".end", end)
        token, self._token = self._token, None
        if token is not None:
            try:
                current_span.reset(token)
            except ValueError:  # ended in another context than it started in
                self._restore_elsewhere(token)

    def _restore_elsewhere(self, token: Any) -> None:
        if current_span.get() is self.context:
            current_span.set(token.old_value if token.old_value is not token.MISSING else None)

    def __enter__(self) -> Span:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.end(error=exc)

    async def __aenter__(self) -> Span:
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.end(error=exc)


def _describe(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"


def start_span(
    kind: str,
    /,
    *,
    root: bool = False,
    traceparent: str | bytes | None = None,
    **fields: Any,
) -> Span:
    """Open a span of ``kind`` (``request``, ``http``, ``task``, ``command``, ``test``, ``span``).

    With ``traceparent`` (a W3C header value) the span continues that trace as a
    child of the caller's span; an invalid value starts a new trace. Otherwise
    it is a child of the current span, or the root of a new trace.

    With ``root=True`` the span is the root of a new trace, with no parent,
    whatever span is current (``traceparent`` is then ignored). It is the current
    span while open, and ending it makes the span that was current before it
    current again. Values redacted in that span are still scrubbed in it. This is
    for work that runs inside one span but is not part of it, such as a test
    session's shared setup running in whichever test needs it first.
    """
    if not enabled():
        return _OFF
    parent = current_span.get()
    if root:
        secrets = parent.secrets if parent is not None else set()
        return Span(kind, SpanContext(new_trace_id(), new_span_id(), None, secrets), fields)
    remote = parse_traceparent(traceparent) if traceparent is not None else None
    if remote is not None:
        ctx = SpanContext(remote[0], new_span_id(), remote[1], set())
    elif parent is not None:
        ctx = SpanContext(parent.trace, new_span_id(), parent.span, parent.secrets)
    else:
        ctx = SpanContext(new_trace_id(), new_span_id(), None, set())
    return Span(kind, ctx, fields)


_OFF = Span("span", None, {})


class _CustomSpan:
    """What :func:`span` returns: a context manager (sync and async) and a decorator."""

    __slots__ = ("_fields", "_name", "_open", "_traceparent")

    def __init__(self, name: str, traceparent: str | None, fields: dict[str, Any]) -> None:
        self._name, self._traceparent, self._fields = name, traceparent, fields
        self._open: list[Span] = []

    def _start(self) -> Span:
        extra: dict[str, Any] = {"fields": self._fields} if self._fields else {}
        return start_span("span", traceparent=self._traceparent, name=self._name, **extra)

    def _finish(self, exc: BaseException | None) -> None:
        self._open.pop().end(name=self._name, error=exc)

    def __enter__(self) -> Span:
        opened = self._start()
        self._open.append(opened)
        return opened

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._finish(exc)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._finish(exc)

    def __call__(self, fn: F) -> F:
        name, tp, fields = self._name, self._traceparent, self._fields
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with _CustomSpan(name, tp, fields):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _CustomSpan(name, tp, fields):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def span(name: str, *, traceparent: str | None = None, **fields: Any) -> _CustomSpan:
    """Time a code segment as a ``span``, under the current span.

    ``with dm_log.span("price-quote", sku=sku): ...``, ``async with``, or
    ``@dm_log.span("price-quote")`` on a function or coroutine function. The
    explorer reports min/max/p50/p99 of each name's durations.
    """
    return _CustomSpan(name, traceparent, fields)


def traceparent() -> str | None:
    """The W3C ``traceparent`` value for the current span, or None outside any span."""
    ctx = current_span.get()
    return format_traceparent(ctx.trace, ctx.span) if ctx is not None else None


@overload
def panel(
    title: str,
    type: Literal["text", "markdown", "code"],
    content: str,
    *,
    op: str = ...,
    **options: Any,
) -> None: ...
@overload
def panel(
    title: str, type: Literal["kv"], content: Mapping[str, Any], *, op: str = ..., **options: Any
) -> None: ...
@overload
def panel(title: str, type: PanelType, content: Any, *, op: str = ..., **options: Any) -> None: ...


def panel(title: str, type: PanelType, content: Any, *, op: str = "append", **options: Any) -> None:
    """Show ``content`` in the panel ``title`` of the current span (or the process).

    ``type`` is ``text``, ``markdown``, ``code`` (``lang=``), ``kv`` (a mapping),
    ``table`` (rows as lists, with ``columns=``; or rows as mappings, the columns then
    their keys in first-seen order unless ``columns=`` picks them) or ``json`` (any
    JSON value). ``op`` is
    ``append`` (add below what the panel holds) or ``replace``. An invalid call
    is written as ``dm.invalid`` for the plugin author to see, never raised.
    """
    if not enabled():
        return
    # Rows as tuples, a kv Mapping, a 100 MB table: the writer's first pass bounds the
    # content and makes it plain JSON before anything else looks at it.
    fields: dict[str, Any] = {"panel": title, "op": op, "type": type, "content": content}
    fields.update(options)
    if type == "table":
        try:
            columns, fields["content"] = table_rows(content, fields.get("columns"))
        except Exception:  # a row mapping that cannot be read: the schema refuses it
            pass
        else:
            if columns is not None:
                fields["columns"] = columns
    emit("panel", fields)


def metric(name: str, value: float, *, unit: str | None = None, **tags: Any) -> None:
    """One sample of the series ``name``: ``dm_log.metric("queue.depth", 12, queue="mail")``."""
    if not enabled():
        return
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)  # type: ignore[assignment]  # refused by validation, kept in dm.invalid
    fields: dict[str, Any] = {"name": name, "value": value}
    if unit is not None:
        fields["unit"] = unit
    if tags:
        fields["tags"] = tags
    emit("metric", fields)


def progress(done: float, total: float | None = None, message: str | None = None) -> None:
    """How far the current span's loop has come: ``progress(40, 100, "rows")``."""
    if not enabled() or current_span.get() is None:
        return
    fields: dict[str, Any] = {"done": done, "total": total}
    if message is not None:
        fields["message"] = message
    emit("progress", fields)


def capture_exception(
    exc: BaseException | None = None, *, handled: bool = True, mechanism: str = "user"
) -> None:
    """Record ``exc`` (default: the one being handled) with its frames and fingerprint.

    An exception is recorded once: later calls for the same object (the logging
    handler after the middleware, say) do nothing.
    """
    if not enabled():
        return
    if exc is None:
        exc = sys.exc_info()[1]
        if exc is None:
            return
    if getattr(exc, "__dm_captured__", False):
        return  # one exception, one event, however many layers report it
    try:
        exc.__dm_captured__ = True  # type: ignore[attr-defined]
    except Exception:  # exceptions with __slots__ or a read-only __dict__
        pass
    try:
        fields = exception_fields(exc)
    except Exception as failure:  # never let reporting break the caller
        fields = {
            "type": type(exc).__name__,
            "message": f"<unreportable: {failure}>",
            "frames": [],
            "fingerprint": "0" * 15 + "1",
        }
    fields["handled"] = handled
    fields["mechanism"] = mechanism
    emit("exception", fields)
