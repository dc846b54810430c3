"""stdlib ``logging`` and structlog records as ``log`` events in the current span."""

from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from typing import Any

from ._api import capture_exception
from ._writer import emit, enabled

__all__ = ["LogHandler", "structlog_processor"]

_LEVELS = {
    "debug": "debug", "info": "info", "warning": "warning", "warn": "warning",
    "error": "error", "exception": "error", "critical": "critical", "fatal": "critical",
}  # fmt: skip

# Attributes every LogRecord has; anything else came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_busy = threading.local()


def _level_of(levelno: int) -> str:
    if levelno < logging.INFO:
        return "debug"
    if levelno < logging.WARNING:
        return "info"
    if levelno < logging.ERROR:
        return "warning"
    if levelno < logging.CRITICAL:
        return "error"
    return "critical"


class LogHandler(logging.Handler):
    """A ``logging.Handler`` writing each record as a ``log`` event in the current span.

    ``logging.getLogger().addHandler(dm_log.LogHandler())``. Records with
    ``exc_info`` also produce an ``exception`` event. ``extra=`` fields are kept
    under ``fields``. Does nothing while recording is off.
    """

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        if not enabled() or getattr(_busy, "on", False):
            return
        _busy.on = True
        try:
            try:
                msg = record.getMessage()
            except Exception:
                msg = str(record.msg)
            fields: dict[str, Any] = {
                "level": _level_of(record.levelno),
                "msg": msg,
                "logger": record.name,
                "site": {"file": record.pathname, "line": record.lineno, "func": record.funcName},
            }
            extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS}
            if extra:
                fields["fields"] = extra
            emit("log", fields)
            if record.exc_info and record.exc_info[1] is not None:
                capture_exception(record.exc_info[1], handled=True, mechanism="logging")
        except Exception:
            pass
        finally:
            _busy.on = False


def structlog_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: records the event as a ``log`` event and passes it on unchanged.

    Put it anywhere before the renderer in your own structlog configuration.
    """
    if not enabled():
        return event_dict
    try:
        level = _LEVELS.get(str(event_dict.get("level", method_name)).lower(), "info")
        rest = {k: v for k, v in event_dict.items() if k not in ("event", "level", "exc_info")}
        fields: dict[str, Any] = {
            "level": level,
            "msg": str(event_dict.get("event", "")),
            "logger": str(rest.pop("logger", "structlog")),
        }
        if rest:
            fields["fields"] = rest
        emit("log", fields)
        exc_info = event_dict.get("exc_info")
        if isinstance(exc_info, BaseException):
            capture_exception(exc_info, mechanism="structlog")
        elif exc_info:
            capture_exception(None, mechanism="structlog")
    except Exception:
        pass
    return event_dict
