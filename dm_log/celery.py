"""Celery: tasks as ``task`` spans continuing the trace of whoever queued them.

:func:`instrument` connects Celery's signals (once per process, whatever ``app``):

* ``before_task_publish``: the current span's ``traceparent`` goes into the
  message headers (a task queued from a request or another task);
* ``task_prerun``: ``task.start`` with the task name, id, a redacted and
  truncated summary of its arguments, the retry count and the queue, continuing
  the publisher's trace; the span is current while the task body runs, so its
  SQL, HTTP calls, logs and the tasks it queues hang under it;
* ``task_failure`` / ``task_retry``: the exception is recorded in the span;
* ``task_postrun``: ``task.end`` with the final state (SUCCESS, FAILURE, RETRY…).

Call it where the Celery app is defined (both the publishing and the worker
processes import that module)::

    app = Celery("proj")
    dm_log.celery.instrument(app)
"""

from __future__ import annotations

import re
import threading
from typing import Any

import dm_log

__all__ = ["args_summary", "instrument"]

_MAX_ARGS = 1000
_SECRET_KEY = re.compile(
    r"passw|pwd|secret|token|api[-_]?key|session|cookie|authori[sz]ation|credential|private", re.I
)
_spans: dict[str, dm_log.Span] = {}
_lock = threading.Lock()
_connected = False


def args_summary(args: Any, kwargs: Any) -> str:
    """``repr``-style summary of a call's arguments, values of secret-looking keywords hidden."""
    parts: list[str] = []
    try:
        for value in args or ():
            parts.append(repr(value)[:200])
        for key, value in (kwargs or {}).items():
            shown = dm_log.REDACTED if _SECRET_KEY.search(str(key)) else repr(value)[:200]
            parts.append(f"{key}={shown}")
    except Exception:
        return "<unrepresentable>"
    text = ", ".join(parts)
    return text if len(text) <= _MAX_ARGS else text[:_MAX_ARGS] + "…"


def _header(request: Any, name: str) -> Any:
    value = getattr(request, name, None)
    if value is None:
        headers = getattr(request, "headers", None) or {}
        value = headers.get(name) if isinstance(headers, dict) else None
    return value


def _on_publish(sender: Any = None, headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    try:
        if headers is None or not dm_log.enabled():
            return
        value = dm_log.traceparent()
        if value is not None:
            headers["traceparent"] = value
    except Exception:
        pass


def _on_prerun(
    task_id: str | None = None, task: Any = None, args: Any = None, kwargs: Any = None, **extra: Any
) -> None:
    if task_id is None or task is None or not dm_log.enabled():
        return
    try:
        request = task.request
        delivery = getattr(request, "delivery_info", None) or {}
        span = dm_log.start_span(
            "task",
            traceparent=_header(request, "traceparent"),
            task=str(task.name),
            task_id=str(task_id),
            args=args_summary(args, kwargs),
            retries=int(getattr(request, "retries", 0) or 0),
            queue=delivery.get("routing_key") if isinstance(delivery, dict) else None,
        )
        with _lock:
            _spans[task_id] = span
    except Exception:
        pass


def _on_failure(
    task_id: str | None = None, exception: BaseException | None = None, **kwargs: Any
) -> None:
    try:
        span = _spans.get(task_id or "")
        if span is None or exception is None:
            return
        dm_log.capture_exception(exception, handled=False, mechanism="celery")
        span.set(error=f"{type(exception).__name__}: {exception}"[:2000])
    except Exception:
        pass


def _on_retry(request: Any = None, reason: Any = None, **kwargs: Any) -> None:
    try:
        span = _spans.get(str(getattr(request, "id", "")))
        if span is None:
            return
        if isinstance(reason, BaseException):
            dm_log.capture_exception(reason, handled=True, mechanism="celery")
        span.set(error=f"retry: {reason}"[:2000])
    except Exception:
        pass


def _on_postrun(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    try:
        with _lock:
            span = _spans.pop(task_id or "", None)
        if span is None:
            return
        state = state or "SUCCESS"
        retries = int(getattr(getattr(task, "request", None), "retries", 0) or 0)
        outcome = "ok" if state == "SUCCESS" else "error"
        span.end(
            outcome=outcome, task=str(getattr(task, "name", "?")), state=state, retries=retries
        )
    except Exception:
        pass


def instrument(app: Any = None) -> None:
    """Connect the signal handlers (idempotent). ``app`` is accepted for symmetry, unused:
    Celery's signals are process-wide."""
    global _connected
    if _connected:
        return
    from celery import signals

    signals.before_task_publish.connect(
        _on_publish, weak=False, dispatch_uid="dm_log.celery.publish"
    )
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="dm_log.celery.prerun")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="dm_log.celery.failure")
    signals.task_retry.connect(_on_retry, weak=False, dispatch_uid="dm_log.celery.retry")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="dm_log.celery.postrun")
    _connected = True
