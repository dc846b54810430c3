"""Django Channels: websocket sessions and their messages as spans.

Put :class:`DebugMonitorConsumerMixin` first in a consumer's bases::

    class Chat(DebugMonitorConsumerMixin, AsyncWebsocketConsumer): ...

It works for sync and async consumers (it wraps ``dispatch``). A websocket
session is a ``request`` span (``protocol: websocket``) from ``websocket.connect``
to ``websocket.disconnect``; handling each of ``websocket.connect``,
``websocket.receive`` and ``websocket.disconnect`` is a ``span`` named after the
message type beneath it, so a handler's SQL, HTTP calls and logs land under the
message that caused them. ``request.end`` carries 101 if the socket was accepted
(403 otherwise) and the bytes received.
"""

from __future__ import annotations

from typing import Any

import dm_log

from .asgi import scope_fields

__all__ = ["DebugMonitorConsumerMixin"]

_MESSAGES = ("websocket.connect", "websocket.receive", "websocket.disconnect")


class DebugMonitorConsumerMixin:
    """Spans for a Channels consumer; see the module docstring."""

    scope: dict[str, Any]
    _dm_log_session: dm_log.Span | None = None
    _dm_log_bytes: int = 0
    _dm_log_accepted: bool = False

    async def dispatch(self, message: dict[str, Any]) -> None:
        mtype = message.get("type")
        if mtype not in _MESSAGES or not dm_log.enabled():
            await super().dispatch(message)  # type: ignore[misc]
            return
        try:
            if mtype == "websocket.connect" and self._dm_log_session is None:
                fields, parent = scope_fields(self.scope)
                self._dm_log_session = dm_log.start_span("request", traceparent=parent, **fields)
            elif mtype == "websocket.receive":
                size = len(message.get("bytes") or b"") + len((message.get("text") or "").encode())
                self._dm_log_bytes += size
        except Exception:
            pass
        try:
            async with dm_log.span(str(mtype)):
                await super().dispatch(message)  # type: ignore[misc]
        finally:
            if mtype == "websocket.disconnect":
                self._dm_log_end(message)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def tap(message: dict[str, Any]) -> None:
            if message.get("type") == "websocket.accept":
                self._dm_log_accepted = True
            await send(message)

        await super().__call__(scope, receive, tap)  # type: ignore[misc]

    def _dm_log_end(self, message: dict[str, Any]) -> None:
        session, self._dm_log_session = self._dm_log_session, None
        if session is None:
            return
        try:
            status = 101 if self._dm_log_accepted else 403
            session.end(outcome="ok", status=status, bytes=self._dm_log_bytes)
        except Exception:
            pass
