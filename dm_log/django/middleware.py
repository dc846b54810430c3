"""``DebugMonitorMiddleware``: one ``request`` span per request, sync or async.

The middleware is natively sync- and async-capable: under ASGI with an async
chain it runs as a coroutine (no thread hop); under WSGI it runs synchronously.
It should come first in ``MIDDLEWARE`` so the span covers the whole chain.

``request.start`` carries method, path, query string, headers (the writer
redacts secret ones), scheme, remote address, whether the chain is async, and
the form fields of an url-encoded POST; an incoming ``traceparent`` header
continues the caller's trace. ``request.end`` carries status, resolved route and
view, the authenticated user's id (only if the app already loaded the user: no
extra query), response headers, size and content type, and the request's SQL
count and time. Exceptions raised by views, or reaching Django's handler, are
recorded with :func:`dm_log.capture_exception` in the request's span.

With recording off when the middleware chain is built, the middleware removes
itself (``MiddlewareNotUsed``) and costs nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import (
    BadRequest,
    MiddlewareNotUsed,
    PermissionDenied,
    SuspiciousOperation,
)
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponseBase

import dm_log

from .apps import active
from .sql import SqlStats, sql_stats

__all__ = ["DebugMonitorMiddleware"]

_enabled = dm_log.enabled
_HANDLED = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)
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
    span = dm_log.start_span("request", traceparent=meta.get("HTTP_TRACEPARENT"), **fields)
    token = sql_stats.set(SqlStats())
    setattr(request, _MARK, span)
    return span, token


def _user_id(request: HttpRequest) -> str | None:
    user = request.__dict__.get("_cached_user") or request.__dict__.get("_acached_user")
    if user is None:
        return None
    try:
        return str(user.pk) if user.is_authenticated else None
    except Exception:
        return None


def _end(
    request: HttpRequest,
    span: dm_log.Span,
    token: Any,
    response: HttpResponseBase | None,
    exc: BaseException | None,
) -> None:
    stats = sql_stats.get()
    try:
        sql_stats.reset(token)
    except ValueError:
        pass
    fields: dict[str, Any] = {"status": 500}
    match = getattr(request, "resolver_match", None)
    if match is not None:
        if match.route:
            fields["route"] = match.route
        fields["view"] = match._func_path
    user = _user_id(request)
    if user is not None:
        fields["user"] = user
    if response is not None:
        fields["status"] = response.status_code
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
    outcome = "error" if exc is not None or fields["status"] >= 500 else "ok"
    span.end(outcome=outcome, error=exc, **fields)


def _capture(request: HttpRequest, exc: BaseException) -> None:
    if getattr(request, "_dm_log_captured", None) is exc:
        return
    try:
        request._dm_log_captured = exc
    except Exception:
        pass
    dm_log.capture_exception(exc, handled=isinstance(exc, _HANDLED), mechanism="django")


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

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if not _enabled():
            return self.get_response(request)
        try:
            span, token = _start(request, False)
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
                _end(request, span, token, response, error)
            except Exception:
                span.end(outcome="error", status=500)

    async def __acall__(self, request: HttpRequest) -> Any:
        get_response: Callable[[HttpRequest], Awaitable[Any]] = self.get_response
        if not _enabled():
            return await get_response(request)
        try:
            span, token = _start(request, True)
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
                _end(request, span, token, response, error)
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
