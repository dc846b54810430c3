"""Outgoing HTTP: an ``http`` span per call made with requests, httpx or urllib3.

:func:`instrument` patches ``requests.Session.send``, ``httpx.Client.send``,
``httpx.AsyncClient.send`` and ``urllib3``'s ``HTTPConnectionPool.urlopen``
(whichever are importable; calling it again does nothing). Each call becomes an
``http`` span (``http.start``: method, URL, library; ``http.end``: status, body
size, duration, error) and carries a W3C ``traceparent`` header naming that span,
so a service instrumented with dm_log continues the trace. A call that already
carries a ``traceparent`` keeps it: the caller propagates on purpose. The writer redacts
credentials and token-like query values in the URL.

A call made through requests is one span, not two: urllib3 underneath it sees
that an outer library is already tracing the call. With recording off the
wrappers only check a flag.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import dm_log

__all__ = ["instrument", "instrumented"]

_inside: ContextVar[bool] = ContextVar("dm_log_http_inside", default=False)
_done: set[str] = set()
_MARK = "__dm_log_wrapped__"


def instrumented() -> frozenset[str]:
    """The libraries patched so far."""
    return frozenset(_done)


def _length(headers: Any) -> int | None:
    try:
        value = headers.get("content-length")
        return int(value) if value is not None else None
    except Exception:
        return None


def _open(method: Any, url: Any, lib: str) -> dm_log.Span | None:
    try:
        return dm_log.start_span("http", method=str(method or "GET").upper(), url=str(url), lib=lib)
    except Exception:
        return None


def _close(
    span: dm_log.Span, status: int | None, size: int | None, exc: BaseException | None
) -> None:
    try:
        outcome = "error" if exc is not None or (status is not None and status >= 500) else "ok"
        span.end(outcome=outcome, error=exc, status=status, bytes=size)
    except Exception:
        pass


def _set_header(headers: Any, span: dm_log.Span) -> None:
    """Name ``span`` in the call's ``traceparent``, unless the caller set one itself."""
    try:
        if any(str(key).lower() == "traceparent" for key in headers):
            return  # propagated on purpose (another tracer, a test): kept as given
        value = span.traceparent()
        if value is not None:
            headers["traceparent"] = value
    except Exception:
        pass


def _wrap(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return
    wrapper = functools.wraps(original)(make(original))
    setattr(wrapper, _MARK, True)
    setattr(owner, name, wrapper)


def _requests_size(response: Any, kwargs: dict[str, Any]) -> int | None:
    size = _length(response.headers)
    if not kwargs.get("stream") and response._content_consumed:
        size = len(response.content or b"")
    return size


def _httpx_size(response: Any, kwargs: dict[str, Any] | None = None) -> int | None:
    try:
        return len(response.content)
    except Exception:  # a streamed response not read yet
        return _length(response.headers)


def _sync_send(
    lib: str, size_of: Callable[[Any, dict[str, Any]], int | None]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A wrapper for a ``send(self, request, **kwargs)`` method (requests, httpx)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def send(self: Any, request: Any, **kwargs: Any) -> Any:
            if not dm_log.enabled() or _inside.get():
                return original(self, request, **kwargs)
            span = _open(request.method, request.url, lib)
            if span is None:
                return original(self, request, **kwargs)
            _set_header(request.headers, span)
            token = _inside.set(True)
            try:
                response = original(self, request, **kwargs)
            except BaseException as exc:
                _inside.reset(token)
                _close(span, None, None, exc)
                raise
            _inside.reset(token)
            _close(span, response.status_code, size_of(response, kwargs), None)
            return response

        return send

    return make


def _httpx_async_send(original: Callable[..., Any]) -> Callable[..., Any]:
    async def send(self: Any, request: Any, **kwargs: Any) -> Any:
        if not dm_log.enabled() or _inside.get():
            return await original(self, request, **kwargs)
        span = _open(request.method, request.url, "httpx")
        if span is None:
            return await original(self, request, **kwargs)
        _set_header(request.headers, span)
        token = _inside.set(True)
        try:
            response = await original(self, request, **kwargs)
        except BaseException as exc:
            _inside.reset(token)
            _close(span, None, None, exc)
            raise
        _inside.reset(token)
        _close(span, response.status_code, _httpx_size(response), None)
        return response

    return send


def _urllib3_urlopen(original: Callable[..., Any]) -> Callable[..., Any]:
    def urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if not dm_log.enabled() or _inside.get():
            return original(self, method, url, *args, **kwargs)
        full = url
        try:
            if url.startswith("/"):
                port = f":{self.port}" if self.port else ""
                full = f"{self.scheme}://{self.host}{port}{url}"
        except Exception:
            pass
        span = _open(method, full, "urllib3")
        if span is None:
            return original(self, method, url, *args, **kwargs)
        try:
            if len(args) >= 2:  # body, headers passed positionally
                headers = dict(args[1] or {})
                _set_header(headers, span)
                args = (args[0], headers, *args[2:])
            else:
                headers = dict(kwargs.get("headers") or self.headers or {})
                _set_header(headers, span)
                kwargs["headers"] = headers
        except Exception:
            pass
        token = _inside.set(True)
        try:
            response = original(self, method, url, *args, **kwargs)
        except BaseException as exc:
            _inside.reset(token)
            _close(span, None, None, exc)
            raise
        _inside.reset(token)
        size = _length(response.headers)
        try:
            if size is None and response._body is not None:
                size = len(response._body)
        except Exception:
            pass
        _close(span, response.status, size, None)
        return response

    return urlopen


def instrument() -> frozenset[str]:
    """Patch every importable library once; returns the libraries now patched."""
    try:
        import requests

        _wrap(requests.Session, "send", _sync_send("requests", _requests_size))
        _done.add("requests")
    except ImportError:
        pass
    try:
        import httpx

        _wrap(httpx.Client, "send", _sync_send("httpx", _httpx_size))
        _wrap(httpx.AsyncClient, "send", _httpx_async_send)
        _done.add("httpx")
    except ImportError:
        pass
    try:
        from urllib3.connectionpool import HTTPConnectionPool

        _wrap(HTTPConnectionPool, "urlopen", _urllib3_urlopen)
        _done.add("urllib3")
    except ImportError:
        pass
    return frozenset(_done)
