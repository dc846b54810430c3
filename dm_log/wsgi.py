"""WSGI middleware: ``request`` spans for Flask or any WSGI app.

``app.wsgi_app = DebugMonitorWSGIMiddleware(app.wsgi_app)`` for Flask, or wrap
any WSGI callable. Fields are those of the Django middleware: method, path,
query, headers (redacted by the writer), scheme, remote address; at the end
status, response headers, bytes sent, content type. The span stays open while
the server iterates the body and ends when it closes it. An incoming
``traceparent`` continues the caller's trace; an exception escaping the app is
recorded and re-raised. :func:`flask_errors` also records the exceptions Flask
turns into 500 responses itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dm_log

__all__ = ["DebugMonitorWSGIMiddleware", "environ_fields", "flask_errors"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def environ_fields(environ: dict[str, Any]) -> dict[str, Any]:
    """``request.start`` fields for a WSGI environ."""
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = str(environ[key])
    fields: dict[str, Any] = {
        "method": str(environ.get("REQUEST_METHOD") or "GET"),
        "path": str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
        "headers": headers,
        "scheme": str(environ.get("wsgi.url_scheme") or "http"),
        "protocol": "http",
        "async": False,
    }
    if environ.get("QUERY_STRING"):
        fields["query"] = str(environ["QUERY_STRING"])
    if environ.get("REMOTE_ADDR"):
        fields["remote"] = str(environ["REMOTE_ADDR"])
    return fields


class _Body:
    """The app's body iterable, counting bytes and ending the span on ``close()``."""

    def __init__(
        self,
        body: Iterable[bytes],
        finish: Callable[[BaseException | None], None],
        end: dict[str, Any],
    ) -> None:
        self._body, self._finish, self._end = body, finish, end
        self._iter: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._body:
                self._end["bytes"] += len(chunk)
                yield chunk
        except BaseException as exc:
            dm_log.capture_exception(exc, handled=False, mechanism="wsgi")
            self._finish(exc)
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish(None)


class DebugMonitorWSGIMiddleware:
    """Wraps a WSGI app; see the module docstring."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not dm_log.enabled():
            return self.app(environ, start_response)
        try:
            span = dm_log.start_span(
                "request", traceparent=environ.get("HTTP_TRACEPARENT"), **environ_fields(environ)
            )
        except Exception:
            return self.app(environ, start_response)
        end: dict[str, Any] = {"status": 500, "bytes": 0}
        environ["dm_log.span"] = span

        def tap(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            try:
                end["status"] = int(status.split(" ", 1)[0])
                end["headers"] = {k: v for k, v in headers}
                end["content_type"] = next(
                    (v for k, v in headers if k.lower() == "content-type"), None
                )
            except Exception:
                pass
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        def finish(error: BaseException | None) -> None:
            try:
                failed = error is not None or end["status"] >= 500
                span.end(outcome="error" if failed else "ok", error=error, **end)
            except Exception:
                pass

        try:
            body = self.app(environ, tap)
        except BaseException as exc:
            dm_log.capture_exception(exc, handled=False, mechanism="wsgi")
            finish(exc)
            raise
        return _Body(body, finish, end)


def flask_errors(app: Any) -> None:
    """Record the exceptions a Flask ``app`` handles itself (``got_request_exception``)."""
    from flask import got_request_exception

    def on_exception(sender: Any, exception: BaseException, **kwargs: Any) -> None:
        dm_log.capture_exception(exception, handled=False, mechanism="flask")

    got_request_exception.connect(on_exception, app, weak=False)
