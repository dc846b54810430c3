"""Settings of the Django integration and the DEBUG guard, shared by every hook.

A module of its own (no app class, no hook) so that the app, the middleware and
the command monitor all import it without importing each other.
"""

from __future__ import annotations

import sys
import warnings
from types import CodeType
from typing import Any

from django.conf import settings

import dm_log

__all__ = ["active", "checked", "hide_frame", "recording_allowed", "setting"]

_allowed: bool | None = None


def setting(name: str, default: Any) -> Any:
    """``settings.<name>`` or ``default``; never raises."""
    try:
        return getattr(settings, name, default)
    except Exception:
        return default


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
        bool(setting("DEBUG", False)) or bool(checked("DM_ALLOW_PRODUCTION")) or _is_test_run()
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


def checked(name: str) -> Any:
    """The value of ``DM_<...>`` checked by dm_log's one settings parser.

    The environment wins, then ``settings.<name>``, then the default; a value
    the setting does not take is refused (said once on stderr), never raised.
    """
    return dm_log.setting(name, setting(name, None))


def hide_frame(exc: BaseException, code: CodeType) -> None:
    """Drop the traceback entry of a dm_log wrapper (running ``code``) from ``exc``.

    Called in the wrapper's ``except`` block before a bare ``raise``, so that a
    traceback shown to the user (Django's debug page, a failing command's
    output) holds only the application's and its libraries' frames.
    """
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is code:
        exc.__traceback__ = tb.tb_next
