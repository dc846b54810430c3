"""The toolbar-like fields of ``request.end``: view, arguments, URL name, user, session.

Each is read from what the request already holds: the resolver match, the user
and session only if the application loaded them (no extra query, no session
read). Values are JSON scalars or short descriptions; arguments and session keys
named like secrets are redacted, session values are never written.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParserError

import dm_log

from .templates import short_repr

__all__ = [
    "CLIENT_ERRORS", "ClientErrorFilter", "is_client_error", "resolved", "session", "user",
    "watch_log_handlers",
]  # fmt: skip

CLIENT_ERRORS: tuple[type[BaseException], ...] = (
    Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError,
)  # fmt: skip
"""Exceptions Django answers with a 4xx response: what happened, not a bug."""

CLIENT_ERROR_ATTR = "_dm_log_client_error"
_MAX_ARGS = 30
_MAX_SESSION_KEYS = 100


def is_client_error(exc: BaseException | None) -> bool:
    return isinstance(exc, CLIENT_ERRORS)


def describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"[:500]
    except Exception:
        return type(exc).__name__


def note_client_error(request: Any, exc: BaseException) -> None:
    """Keep ``exc`` off the error reports (no ``exception`` event); remember it on ``request``."""
    try:
        exc.__dm_captured__ = True  # type: ignore[attr-defined]
    except Exception:
        pass
    try:
        if request is not None and getattr(request, CLIENT_ERROR_ATTR, None) is None:
            setattr(request, CLIENT_ERROR_ATTR, describe(exc))
    except Exception:
        pass


class ClientErrorFilter(logging.Filter):
    """On a log handler: a record about a 4xx exception (``Not Found: /x`` with the
    ``Http404``, ``django.security.*`` for a ``SuspiciousOperation``) stays a log line,
    and its exception is not reported as an error. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc_info = record.exc_info
        if exc_info and is_client_error(exc_info[1]):
            note_client_error(getattr(record, "request", None), exc_info[1])  # type: ignore[arg-type]
        return True


_FILTER = ClientErrorFilter()


def watch_log_handlers() -> None:
    """Put :class:`ClientErrorFilter` on every ``dm_log.LogHandler`` of the root logger."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, dm_log.LogHandler) and not any(
            isinstance(f, ClientErrorFilter) for f in handler.filters
        ):
            handler.addFilter(_FILTER)


def _value(value: Any) -> Any:
    if type(value) in (int, float, bool) or value is None:
        return value
    if type(value) is str:
        return value if len(value) <= 200 else value[:199] + "…"
    return short_repr(value)


def resolved(request: HttpRequest) -> dict[str, Any]:
    """``route``, ``view``, ``url_name``, ``view_args`` and ``view_kwargs`` of the match."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {}
    out: dict[str, Any] = {"view": match._func_path}
    if match.route:
        out["route"] = match.route
    if match.url_name:
        out["url_name"] = match.view_name
    if match.args:
        out["view_args"] = [_value(a) for a in match.args[:_MAX_ARGS]]
    if match.kwargs:
        is_secret = dm_log.is_secret_key
        out["view_kwargs"] = {
            str(k): dm_log.REDACTED if is_secret(str(k)) else _value(v)
            for k, v in list(match.kwargs.items())[:_MAX_ARGS]
        }
    return out


def user(request: HttpRequest) -> dict[str, Any]:
    """``user`` (the id, a string) and ``username``, when the app loaded an authenticated user."""
    found = request.__dict__.get("_cached_user") or request.__dict__.get("_acached_user")
    if found is None:
        return {}
    try:
        if not found.is_authenticated:
            return {}
        out: dict[str, Any] = {"user": str(found.pk)}
        name = found.get_username()
        if name:
            out["username"] = str(name)[:150]
        return out
    except Exception:
        return {}


def session(request: HttpRequest) -> dict[str, Any]:
    """``session_keys``: the keys of a session the app read (values are never written)."""
    store = getattr(request, "session", None)
    cache = getattr(store, "_session_cache", None)
    if not isinstance(cache, dict):
        return {}
    keys = sorted(str(k) for k in cache)[:_MAX_SESSION_KEYS]
    return {"session_keys": keys}
