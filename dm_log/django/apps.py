"""The ``dm_log.django`` app: the DEBUG guard and the wiring done once at start-up.

``ready()`` decides once per process whether Django may be recorded (see
:func:`recording_allowed`), then installs the SQL wrapper on every connection
(including ones opened later, in any thread), the management-command monitor,
the root-logger handler and, if asked, outgoing-HTTP tracing. Recording itself
still needs ``DM_LOG_DIR`` (or :func:`dm_log.configure`); every hook checks
:func:`dm_log.enabled` per call, so turning it on later in the process works.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any

from django.apps import AppConfig
from django.conf import settings

import dm_log

__all__ = ["DebugMonitorConfig", "active", "recording_allowed", "setting"]

_allowed: bool | None = None


def setting(name: str, default: Any) -> Any:
    """``settings.<name>`` or ``default``; never raises."""
    try:
        return getattr(settings, name, default)
    except Exception:
        return default


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _is_test_run() -> bool:
    """pytest (with or without pytest-django) or ``manage.py test``: both force DEBUG off."""
    return "pytest" in sys.modules or sys.argv[1:2] == ["test"]


def recording_allowed() -> bool:
    """True unless ``DEBUG = False`` outside a test run without ``DM_ALLOW_PRODUCTION``.

    Decided on first call and kept for the life of the process; the refusal is
    announced once, as a ``RuntimeWarning`` and on stderr, only when recording
    was asked for (``DM_LOG_DIR`` set).
    """
    global _allowed
    if _allowed is not None:
        return _allowed
    allowed = (
        bool(setting("DEBUG", False))
        or _flag(os.environ.get("DM_ALLOW_PRODUCTION", ""))
        or _flag(setting("DM_ALLOW_PRODUCTION", False))
        or _is_test_run()
    )
    _allowed = allowed
    if not allowed and dm_log.enabled():
        message = (
            "dm_log.django: DEBUG is False, so nothing from Django is recorded. "
            "debug-monitor is a development tool; set DM_ALLOW_PRODUCTION=1 to record anyway."
        )
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        try:
            sys.stderr.write(message + "\n")
        except Exception:
            pass
    return allowed


def active() -> bool:
    """Recording is on and allowed for Django: the check every hook makes first."""
    return dm_log.enabled() and recording_allowed()


class DebugMonitorConfig(AppConfig):
    """Installs the Django hooks once the app registry is ready."""

    name = "dm_log.django"
    label = "dm_log_django"
    verbose_name = "debug-monitor"
    default = True

    def ready(self) -> None:
        if not recording_allowed():
            return
        try:
            from .sql import install

            install()
        except Exception as exc:  # never break start-up
            _warn("SQL", exc)
        if _flag(setting("DM_COMMANDS", True)):
            try:
                from .commands import install_command_monitor

                install_command_monitor()
            except Exception as exc:
                _warn("command monitoring", exc)
        if _flag(setting("DM_LOGGING", True)):
            root = logging.getLogger()
            if not any(isinstance(h, dm_log.LogHandler) for h in root.handlers):
                root.addHandler(dm_log.LogHandler())
        if _flag(setting("DM_INSTRUMENT_HTTP", True)):
            try:
                dm_log.instrument_http()
            except Exception as exc:
                _warn("outgoing HTTP", exc)


def _warn(what: str, exc: BaseException) -> None:
    warnings.warn(
        f"dm_log.django: could not instrument {what}: {exc!r}", RuntimeWarning, stacklevel=2
    )
