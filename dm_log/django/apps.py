"""The ``dm_log.django`` app: the wiring done once at start-up.

``ready()`` decides once per process whether Django may be recorded (see
:func:`dm_log.django.conf.recording_allowed`), then installs the SQL wrapper on
every connection (including ones opened later, in any thread), template, cache,
static-file and signal recording, the management-command monitor, the
root-logger handler and, if asked, outgoing-HTTP tracing. Recording itself
still needs ``DM_LOG_DIR`` (or :func:`dm_log.configure`); every hook checks
:func:`dm_log.enabled` per call, so turning it on later in the process works.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

from django.apps import AppConfig

import dm_log

from .conf import active, checked, recording_allowed, setting

__all__ = ["DebugMonitorConfig", "active", "recording_allowed", "setting"]


class DebugMonitorConfig(AppConfig):
    """Installs the Django hooks once the app registry is ready."""

    name = "dm_log.django"
    label = "dm_log_django"
    verbose_name = "debug-monitor"
    default = True

    def ready(self) -> None:
        if not recording_allowed():
            return
        from . import cache, detail, sql, templates

        _try("SQL", sql.install)
        _try("templates", templates.install)
        _try("the cache", cache.install)
        _try("signals and static files", detail.install)
        if checked("DM_COMMANDS"):
            from .commands import install_command_monitor

            _try("command monitoring", install_command_monitor)
        if checked("DM_LOGGING"):
            root = logging.getLogger()
            if not any(isinstance(h, dm_log.LogHandler) for h in root.handlers):
                root.addHandler(dm_log.LogHandler())
        from .request_fields import watch_log_handlers

        _try("4xx log records", watch_log_handlers)
        if checked("DM_INSTRUMENT_HTTP"):
            _try("outgoing HTTP", dm_log.instrument_http)


def _try(what: str, install: Callable[[], None]) -> None:
    try:
        install()
    except Exception as exc:  # never break start-up
        warnings.warn(
            f"dm_log.django: could not instrument {what}: {exc!r}", RuntimeWarning, stacklevel=2
        )
