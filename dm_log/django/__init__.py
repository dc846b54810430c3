"""Django integration: requests, SQL, templates, cache, exceptions and management commands.

Setup is two lines in the settings::

    INSTALLED_APPS = [..., "dm_log.django"]
    MIDDLEWARE = ["dm_log.django.DebugMonitorMiddleware", ...]

and ``DM_LOG_DIR`` in the environment turns recording on. Importing this package
does not touch ``django.conf.settings``: the middleware class is loaded on first
attribute access.

Settings read (all optional):

========================  =====================================================
``DM_ALLOW_PRODUCTION``   record even with ``DEBUG = False`` (also an env var)
``DM_COMMANDS``           ``False`` turns off monitoring of management commands
``DM_COMMANDS_EXCLUDE``   command names never monitored (servers, shells, ``test``)
``DM_COMMAND_PING``       seconds between command heartbeats (env var too; 30)
``DM_INSTRUMENT_HTTP``    ``True`` (default) traces requests/httpx/urllib3 calls
``DM_LOGGING``            ``True`` (default) adds :class:`dm_log.LogHandler` to the root logger
``DM_TEMPLATES``          ``0`` turns ``template`` spans off (env var first)
``DM_SQL_STACK``          ``1`` adds the project's frames to SQL and cache sites (env var first)
``DM_SQL_EXPLAIN_MS``     EXPLAIN SELECTs slower than this many ms (env var first; off)
``DM_PROFILE``            ``off``, ``all``, ``slow:MS`` or ``header`` (env var first)
========================  =====================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .commands import MonitoredCommand
    from .middleware import DebugMonitorMiddleware

__all__ = ["DebugMonitorMiddleware", "MonitoredCommand"]


def __getattr__(name: str) -> Any:
    if name == "DebugMonitorMiddleware":
        from .middleware import DebugMonitorMiddleware

        return DebugMonitorMiddleware
    if name == "MonitoredCommand":
        from .commands import MonitoredCommand

        return MonitoredCommand
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
