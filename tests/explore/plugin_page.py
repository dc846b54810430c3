"""A request whose plugin sends good panels and panels the writer refuses, written by dm_log.

:func:`plugin_page` runs one WSGI request through ``DebugMonitorWSGIMiddleware`` with
recording on into ``folder`` and returns what the tests look for: the request's span
id and, for each refused call, the line of this file that made it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dm_log
from dm_log import _config
from dm_log.wsgi import DebugMonitorWSGIMiddleware

HERE = __file__


@dataclass
class PluginPage:
    span: str = ""
    trace: str = ""
    refused_lines: dict[str, int] = field(default_factory=dict)  # panel title -> line


def _line() -> int:
    """The line of the caller's next line."""
    return sys._getframe(1).f_lineno + 1


def _plugin(page: PluginPage) -> None:
    """What a plugin's author writes first: some of it right, some of it not."""
    dm_log.panel("Seats", "kv", {"left": 3, "course": "demo"})
    page.refused_lines["Seats"] = _line()
    dm_log.panel("Seats", "kv", ["not", "a", "mapping"])
    dm_log.panel("Enrollment", "table", [{"student": "ann", "mode": "audit"}, {"student": "bob"}])
    page.refused_lines["Grades"] = _line()
    dm_log.panel("Grades", "table", [["ann", "A"]])  # no columns=
    dm_log.panel("Notes", "markdown", "**3** seats left")


def plugin_page(folder: Path) -> PluginPage:
    """One request with the panels of :func:`_plugin`, written into ``folder``."""
    page = PluginPage()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        span = dm_log.traceparent()
        assert span is not None
        _, page.trace, page.span, _ = span.split("-")
        _plugin(page)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    before = _config.current()
    dm_log.configure(log_dir=folder, service="web", validate_all=True)
    try:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/enroll/", "wsgi.url_scheme": "http"}
        body = DebugMonitorWSGIMiddleware(app)(environ, lambda *a: None)
        b"".join(body)
        body.close()  # type: ignore[attr-defined]
    finally:
        dm_log.configure(log_dir=before.log_dir, service=before.service,
                         validate_all=before.validate_all)  # fmt: skip
    return page
