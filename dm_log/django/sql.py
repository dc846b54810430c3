"""SQL: one ``sql`` event per statement, through ``connection.execute_wrappers``.

The wrapper is put on every connection as Django opens it (the
``connection_created`` signal fires in whichever thread opens it, including the
threads ``sync_to_async`` uses for async ORM calls), and on connections already
open when the app starts. It is the outermost wrapper, so an ``execute_wrapper()``
block of the application's own does not remove it.

Each event carries the SQL, parameters (clipped here; the writer redacts values
bound to secret-looking columns or equal to secrets seen in the span), duration,
alias, vendor, ``many`` for ``executemany``, ``rows`` when the driver knows it,
the error if any, and ``site``: the first frame outside Django, the standard
library, installed packages and dm_log, found by walking frame objects.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import django
from django.db import connections
from django.db.backends.signals import connection_created

import dm_log

__all__ = ["SqlStats", "install", "sql_stats", "sql_wrapper"]

_DJANGO_DIR = os.path.dirname(os.path.abspath(django.__file__)) + os.sep
_SKIP = (_DJANGO_DIR,)
_MAX_PARAMS = 100
_MAX_ROWS = 5
_MAX_STR = 500
_record = dm_log.record
_enabled = dm_log.enabled
_call_site = dm_log.call_site
_perf = time.perf_counter


class SqlStats:
    """Statement count and total time, summed for the span that set them (a request)."""

    __slots__ = ("count", "ms")

    def __init__(self) -> None:
        self.count = 0
        self.ms = 0.0


sql_stats: ContextVar[SqlStats | None] = ContextVar("dm_log_django_sql_stats", default=None)


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= _MAX_STR else value[:_MAX_STR] + "…"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return value


_PLAIN = (int, float, bool, type(None))


def _params(params: Any, many: bool) -> Any:
    """A JSON-friendly, bounded copy of ``params``; never consumes an iterator."""
    if params is None:
        return None
    if type(params) in (list, tuple) and len(params) <= _MAX_PARAMS and not many:
        for v in params:  # the common case: a few numbers and short strings, copied as is
            t = type(v)
            if t not in _PLAIN and not (t is str and len(v) <= _MAX_STR):
                break
        else:
            return list(params)
    if many:
        if not isinstance(params, list | tuple):
            return None
        return [_params(row, False) for row in params[:_MAX_ROWS]]
    if isinstance(params, dict):
        return {str(k): _clip(v) for k, v in list(params.items())[:_MAX_PARAMS]}
    if isinstance(params, list | tuple):
        return [_clip(v) for v in params[:_MAX_PARAMS]]
    return [_clip(params)]


def sql_wrapper(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """The execute wrapper: runs the statement, then records it (when recording is on).

    Installed only once the DEBUG guard allowed recording, so it checks no more
    than whether recording is on.
    """
    if not _enabled():
        return execute(sql, params, many, context)
    t0 = _perf()
    error: str | None = None
    try:
        return execute(sql, params, many, context)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        raise
    finally:
        ms = (_perf() - t0) * 1000.0
        try:
            _emit(sql, params, many, context, ms, error)
        except Exception:
            pass


def _emit(
    sql: Any, params: Any, many: bool, context: dict[str, Any], ms: float, error: str | None
) -> None:
    stats = sql_stats.get()
    if stats is not None:
        stats.count += 1
        stats.ms += ms
    conn = context.get("connection")
    fields: dict[str, Any] = {
        "sql": sql if isinstance(sql, str) else str(sql),
        "params": _params(params, many),
        "ms": round(ms, 3),
        "alias": getattr(conn, "alias", "default"),
        "vendor": getattr(conn, "vendor", "unknown"),
    }
    if many:
        fields["many"] = True
    if not fields["sql"].startswith("SELECT"):  # rowcount means something for DML only
        cursor = context.get("cursor")
        rows = getattr(cursor, "rowcount", -1) if cursor is not None else -1
        if isinstance(rows, int) and rows >= 0:
            fields["rows"] = rows
    if error is not None:
        fields["error"] = error
    site = _call_site(3, _SKIP)
    if site is not None:
        fields["site"] = site
    _record("sql", **fields)


def _add(conn: Any) -> None:
    wrappers = getattr(conn, "execute_wrappers", None)
    if wrappers is not None and sql_wrapper not in wrappers:
        wrappers.insert(0, sql_wrapper)


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    try:
        _add(connection)
    except Exception:
        pass


def install() -> None:
    """Wrap every connection: those open in this thread now and every one opened later."""
    connection_created.connect(_on_connection_created, dispatch_uid="dm_log.django.sql")
    for alias in connections:
        try:
            _add(connections[alias])
        except Exception:
            pass


def uninstall() -> None:
    """Stop wrapping new connections and unwrap this thread's (used by the benchmark)."""
    connection_created.disconnect(dispatch_uid="dm_log.django.sql")
    for alias in connections:
        wrappers = getattr(connections[alias], "execute_wrappers", [])
        while sql_wrapper in wrappers:
            wrappers.remove(sql_wrapper)
