"""``DebugMonitorMiddleware``: one ``request`` span per request, sync or async.

The middleware is natively sync- and async-capable: under ASGI with an async
chain it runs as a coroutine (no thread hop); under WSGI it runs synchronously.
It should come first in ``MIDDLEWARE`` so the span covers the whole chain.

``request.start`` carries method, path, query string, headers (the writer
redacts secret ones), scheme, remote address, whether the chain is async, and
the form fields of an url-encoded POST; an incoming ``traceparent`` header
continues the caller's trace. ``request.end`` carries status, resolved route,
view, URL name and view arguments, the authenticated user's id and username and
the session's keys (only if the app already loaded them: no extra query),
response headers, size and content type, the request's SQL count and time, the
static files its templates named, the signals it sent, and ``cpu_ms`` beside
``ms``. Every recorded response carries W3C Trace Context's ``traceresponse``
header (``00-<trace>-<span>-01``), which names the recorded request.

Exceptions raised by views, or reaching Django's handler, are recorded with
:func:`dm_log.capture_exception` in the request's span, except those Django
answers with a 4xx (``Http404``, ``PermissionDenied``, ``BadRequest``,
``SuspiciousOperation``): those are what happened, not bugs, and ``request.end``
names them as ``client_error``. Django's ``django.request`` log line for a 4xx
or 5xx response is written inside the request's span.

``DM_PROFILE`` (environment or settings) profiles requests with a sampling
profiler (see :mod:`dm_log.profile`) and writes a ``profile`` event in the
request's span: ``off`` (default), ``all``, ``slow:MS`` (kept only for requests
slower than MS), ``header`` (only requests sent with ``X-DM-Profile: 1``).

With recording off when the middleware chain is built, the middleware removes
itself (``MiddlewareNotUsed``) and costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponseBase
from django.utils.log import log_response

import dm_log
from dm_log import profile

from . import detail, panels, request_fields, templates
from .conf import active, checked
from .sql import SqlStats, sql_stats

__all__ = ["DebugMonitorMiddleware"]

_enabled = dm_log.enabled
_FORM_TYPE = "application/x-www-form-urlencoded"
_MAX_FORM_FIELDS = 50
_MAX_FORM_VALUE = 1000
_MARK = "_dm_log_span"


def _form(request: HttpRequest) -> dict[str, Any] | None:
    """Fields of an url-encoded POST (reading it keeps ``request.body`` readable)."""
    if request.method != "POST" or request.content_type != _FORM_TYPE:
        return None
    try:
        form: dict[str, Any] = {}
        for i, key in enumerate(request.POST):
            if i >= _MAX_FORM_FIELDS:
                break
            values = [v[:_MAX_FORM_VALUE] for v in request.POST.getlist(key)]
            form[key] = values[0] if len(values) == 1 else values
        return form
    except Exception:
        return None


def _start(request: HttpRequest, is_async: bool) -> tuple[dm_log.Span, Any]:
    meta = request.META
    fields: dict[str, Any] = {
        "method": request.method or "GET",
        "path": request.path,
        "headers": dict(request.headers),
        "scheme": request.scheme,
        "protocol": "http",
        "async": is_async,
    }
    query = meta.get("QUERY_STRING")
    if query:
        fields["query"] = query
    remote = meta.get("REMOTE_ADDR")
    if remote:
        fields["remote"] = remote
    form = _form(request)
    if form:
        fields["form"] = form
    panels.write_once()
    templates.ensure()
    span = dm_log.start_span("request", traceparent=meta.get("HTTP_TRACEPARENT"), **fields)
    state = _State(span, is_async)
    setattr(request, _MARK, span)
    if _profile_mode != "off" and (
        _profile_mode != "header" or meta.get("HTTP_X_DM_PROFILE") == "1"
    ):
        state.profiler = profile.start(async_mode="enabled" if is_async else "disabled")
    return span, state


class _State:
    """What the middleware keeps between the start and the end of one request."""

    __slots__ = (
        "cpu0", "detail", "detail_token", "is_async", "profiler", "span", "sql_token", "t0",
    )  # fmt: skip

    def __init__(self, span: dm_log.Span, is_async: bool) -> None:
        self.span = span
        self.is_async = is_async
        self.sql_token = sql_stats.set(SqlStats())
        self.detail, self.detail_token = detail.begin()
        self.profiler: Any = None
        self.cpu0 = _process_time() if is_async else _thread_time()
        self.t0 = time.perf_counter()


_thread_time = time.thread_time
_process_time = time.process_time


def _profile_setting() -> tuple[str, float]:
    """``DM_PROFILE`` as ``(mode, slow_ms)``; anything unknown is ``off``."""
    value = str(checked("DM_PROFILE"))
    if value.startswith("slow:"):
        return "slow", float(value[5:])
    return value, 0.0


_profile_mode, _profile_slow_ms = "off", 0.0


def _end(
    request: HttpRequest,
    span: dm_log.Span,
    state: _State,
    response: HttpResponseBase | None,
    exc: BaseException | None,
) -> None:
    if state.profiler is not None:
        _finish_profile(state)
    stats = sql_stats.get()
    try:
        sql_stats.reset(state.sql_token)
    except ValueError:
        pass
    detail.finish(state.detail_token)
    cpu_ms = ((_process_time() if state.is_async else _thread_time()) - state.cpu0) * 1000.0
    fields: dict[str, Any] = {"status": 500}
    fields.update(request_fields.resolved(request))
    fields.update(request_fields.user(request))
    fields.update(request_fields.session(request))
    if response is not None:
        fields["status"] = response.status_code
        ctx = span.context
        if ctx is not None:
            response["traceresponse"] = f"00-{ctx.trace}-{ctx.span}-01"
        if response.status_code >= 400 and not getattr(response, "_has_been_logged", False):
            # Django logs this after the middleware returns; here it lands in the request.
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        fields["headers"] = dict(response.items())
        fields["content_type"] = response.get("Content-Type")
        if response.streaming:
            length = response.get("Content-Length")
            fields["bytes"] = int(length) if length and length.isdigit() else None
        else:
            fields["bytes"] = len(response.content)
    if stats is not None:
        fields["queries"] = stats.count
        fields["sql_ms"] = round(stats.ms, 3)
    fields.update(state.detail.fields())
    client_error = getattr(request, request_fields.CLIENT_ERROR_ATTR, None)
    if client_error is not None:
        fields["client_error"] = client_error
    fields["cpu_ms"] = round(max(cpu_ms, 0.0), 3)
    outcome = "error" if exc is not None or fields["status"] >= 500 else "ok"
    span.end(outcome=outcome, error=exc, **fields)


def _finish_profile(state: _State) -> None:
    profiler, state.profiler = state.profiler, None
    if _profile_mode == "slow" and (time.perf_counter() - state.t0) * 1000.0 < _profile_slow_ms:
        try:
            profiler.stop()
        except Exception:
            pass
        return
    profile.finish(profiler)


def _capture(request: HttpRequest, exc: BaseException) -> None:
    if getattr(request, "_dm_log_captured", None) is exc:
        return
    try:
        request._dm_log_captured = exc
    except Exception:
        pass
    if request_fields.is_client_error(exc):
        request_fields.note_client_error(request, exc)
        return
    dm_log.capture_exception(exc, handled=False, mechanism="django")


class DebugMonitorMiddleware:
    """Records each request as a ``request`` span; see the module docstring."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        if not active():
            raise MiddlewareNotUsed("dm_log: recording is off")
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        got_request_exception.connect(_on_request_exception, dispatch_uid="dm_log.django.exc")
        global _profile_mode, _profile_slow_ms
        _profile_mode, _profile_slow_ms = _profile_setting()
        if _profile_mode != "off" and not profile.available():
            _profile_mode = "off"
        request_fields.watch_log_handlers()

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if not _enabled():
            return self.get_response(request)
        try:
            span, state = _start(request, False)
        except Exception:
            return self.get_response(request)
        response = None
        error: BaseException | None = None
        try:
            response = self.get_response(request)
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            try:
                _end(request, span, state, response, error)
            except Exception:
                span.end(outcome="error", status=500)

    async def __acall__(self, request: HttpRequest) -> Any:
        get_response: Callable[[HttpRequest], Awaitable[Any]] = self.get_response
        if not _enabled():
            return await get_response(request)
        try:
            span, state = _start(request, True)
        except Exception:
            return await get_response(request)
        response = None
        error: BaseException | None = None
        try:
            response = await get_response(request)
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            try:
                _end(request, span, state, response, error)
            except Exception:
                span.end(outcome="error", status=500)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """A view raised: record it (Django then turns it into a response)."""
        try:
            if getattr(request, _MARK, None) is not None:
                _capture(request, exception)
        except Exception:
            pass


def _on_request_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Exceptions that reached Django's handler without passing a view (middleware, URLconf)."""
    import sys

    try:
        exc = sys.exc_info()[1]
        if exc is None or request is None or getattr(request, _MARK, None) is None:
            return
        _capture(request, exc)
    except Exception:
        pass
