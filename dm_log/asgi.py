"""ASGI middleware: ``request`` spans for Starlette, FastAPI or any ASGI app.

``app = DebugMonitorASGIMiddleware(app)`` (or Starlette's
``Middleware(DebugMonitorASGIMiddleware)``). HTTP requests and websocket
sessions become ``request`` spans with the same fields as the Django
middleware: method, path, query, headers (redacted by the writer), scheme,
client, protocol; at the end status, response headers, bytes sent, content
type and, when the framework put it in the scope, the route and endpoint.
An incoming ``traceparent`` continues the caller's trace; an exception escaping
the app is recorded and re-raised. Lifespan messages pass straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import dm_log

__all__ = ["DebugMonitorASGIMiddleware", "scope_fields"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _headers(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in raw or ():
        key = name.decode("latin-1").lower() if isinstance(name, bytes) else str(name).lower()
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def scope_fields(scope: Scope) -> tuple[dict[str, Any], str | None]:
    """``request.start`` fields for an ASGI scope, and its ``traceparent`` header."""
    headers = _headers(scope.get("headers"))
    websocket = scope.get("type") == "websocket"
    fields: dict[str, Any] = {
        "method": "GET" if websocket else str(scope.get("method") or "GET"),
        "path": str(scope.get("root_path", "")) + str(scope.get("path", "")),
        "headers": headers,
        "scheme": str(scope.get("scheme") or ("ws" if websocket else "http")),
        "protocol": "websocket" if websocket else "http",
        "async": True,
    }
    query = scope.get("query_string")
    if query:
        fields["query"] = query.decode("latin-1") if isinstance(query, bytes) else str(query)
    client = scope.get("client")
    if client:
        fields["remote"] = str(client[0])
    return fields, headers.get("traceparent")


def _route(scope: Scope, end: dict[str, Any]) -> None:
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    if isinstance(path, str):
        end["route"] = path
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        module = getattr(endpoint, "__module__", "?")
        end["view"] = f"{module}.{getattr(endpoint, '__qualname__', repr(endpoint))}"


class DebugMonitorASGIMiddleware:
    """Wraps an ASGI app; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket") or not dm_log.enabled():
            await self.app(scope, receive, send)
            return
        try:
            fields, parent = scope_fields(scope)
            span = dm_log.start_span("request", traceparent=parent, **fields)
        except Exception:
            await self.app(scope, receive, send)
            return
        end: dict[str, Any] = {"status": 500 if kind == "http" else 403, "bytes": 0}

        async def tap(message: Message) -> None:
            try:
                mtype = message.get("type")
                if mtype == "http.response.start":
                    end["status"] = int(message.get("status", 200))
                    headers = _headers(message.get("headers"))
                    end["headers"] = headers
                    end["content_type"] = headers.get("content-type")
                elif mtype == "http.response.body":
                    end["bytes"] += len(message.get("body") or b"")
                elif mtype == "websocket.accept":
                    end["status"] = 101
                elif mtype == "websocket.send":
                    end["bytes"] += len(message.get("bytes") or b"") + len(
                        (message.get("text") or "").encode()
                    )
            except Exception:
                pass
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, tap)
        except BaseException as exc:
            error = exc
            dm_log.capture_exception(exc, handled=False, mechanism="asgi")
            raise
        finally:
            try:
                _route(scope, end)
                failed = error is not None or (kind == "http" and end["status"] >= 500)
                span.end(outcome="error" if failed else "ok", error=error, **end)
            except Exception:
                pass
