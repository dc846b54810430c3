"""SQL: one ``sql`` event per statement, through ``connection.execute_wrappers``.

The wrapper is put on every connection as Django opens it (the
``connection_created`` signal fires in whichever thread opens it, including the
threads ``sync_to_async`` uses for async ORM calls), and on connections already
open when the app starts. It is the outermost wrapper, so an ``execute_wrapper()``
block of the application's own does not remove it.

Each event carries the SQL, parameters (clipped here; the writer redacts values
bound to secret-looking columns or equal to secrets seen in the span), duration,
alias, vendor, ``many`` for ``executemany``, ``rows`` when the driver knows it,
the error if any, and ``site`` (see :mod:`dm_log.django.sites`: the project's
frame, the template node being rendered, or the library that ran it).

``DM_SQL_EXPLAIN_MS=N`` (environment or settings; off by default) runs the
backend's EXPLAIN (``connection.ops.explain_query_prefix()``) on the same
connection, through a cursor of its own, for each SELECT slower than N ms, and
writes the plan as ``plan``. Never on a statement that failed or inside a
transaction that must be rolled back; a failing EXPLAIN is left out, never raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

import dm_log
from dm_log._writer import emit as _write  # dm_log.record without repacking the fields

from .conf import checked, hide_frame
from .sites import configure as configure_sites
from .sites import site as call_site

__all__ = ["SqlStats", "install", "sql_stats", "sql_wrapper"]

_MAX_PARAMS = 100
_MAX_ROWS = 5
_MAX_STR = 500

_enabled = dm_log.enabled
_perf = time.perf_counter
_explain_ms: float | None = None
_MAX_PLAN = 8000


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
        try:
            return execute(sql, params, many, context)
        except BaseException as exc:
            hide_frame(exc, sql_wrapper.__code__)
            raise
    t0 = _perf()
    error: str | None = None
    try:
        return execute(sql, params, many, context)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        hide_frame(exc, sql_wrapper.__code__)
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
    if type(params) is tuple and not many and len(params) <= 4:  # the common few scalars
        for v in params:
            if type(v) not in _PLAIN:
                copied = _params(params, many)
                break
        else:
            copied = list(params)
    else:
        copied = _params(params, many)
    fields: dict[str, Any] = {
        "sql": sql if isinstance(sql, str) else str(sql),
        "params": copied,
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
    site = call_site(3)
    if site is not None:
        fields["site"] = site
    if (
        _explain_ms is not None
        and ms >= _explain_ms
        and error is None
        and not many
        and conn is not None
        and fields["sql"].lstrip()[:6].upper() == "SELECT"
    ):
        plan = explain(conn, fields["sql"], params)
        if plan:
            fields["plan"] = plan
    _write("sql", fields)


def explain(conn: Any, sql: str, params: Any) -> str | None:
    """The backend's plan for ``sql`` on ``conn`` as text, or None; never raises."""
    try:
        if getattr(conn, "needs_rollback", False) or _in_failed_transaction(conn):
            return None
        prefix = conn.ops.explain_query_prefix()
        cursor = conn.create_cursor()  # the backend's own cursor: no execute wrappers
        try:
            cursor.execute(f"{prefix} {sql}", params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    except Exception:
        return None
    if conn.vendor == "sqlite":
        lines = [str(row[-1]) for row in rows]
    else:
        lines = [" ".join(str(col) for col in row) for row in rows]
    return "\n".join(lines)[:_MAX_PLAN] or None


def _in_failed_transaction(conn: Any) -> bool:
    """PostgreSQL's "current transaction is aborted" state, outside Django's atomic blocks too."""
    raw: Any = getattr(conn, "connection", None)
    info = getattr(raw, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is None and hasattr(raw, "get_transaction_status"):
        status = raw.get_transaction_status()
    return status == 3  # INERROR in psycopg 2 and 3


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
    global _explain_ms
    configure_sites()
    _explain_ms = checked("DM_SQL_EXPLAIN_MS")
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
