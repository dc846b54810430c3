"""The process-level "Settings" and "Versions" panels, written once per process.

Written with :func:`dm_log.panel` like any plugin's, outside every span (so at
process level), the first time a request or a command is recorded:

* "Settings": every setting as a short ``repr``, masked first with Django's own
  ``SafeExceptionReporterFilter`` (``SECRET_KEY``, passwords, tokens and API keys
  never reach the file; the writer redacts by key again);
* "Versions": Python, Django, and each installed app with the distribution
  that provides it and its version (a project's own app has none).
"""

from __future__ import annotations

import contextvars
import platform
import sys
import threading
import time

import django

import dm_log

__all__ = ["settings_panel", "versions_rows", "write_once"]

_MAX_REPR = 300
_written = False


def settings_panel() -> dict[str, str]:
    """Every setting, masked by ``SafeExceptionReporterFilter``, as a short ``repr``."""
    from django.views.debug import SafeExceptionReporterFilter

    safe = SafeExceptionReporterFilter().get_safe_settings()
    out: dict[str, str] = {}
    for name in sorted(safe):
        try:
            text = repr(safe[name])
        except Exception:
            text = "<unrepresentable>"
        out[name] = text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "…"
    return out


def _providers(wanted: set[str]) -> dict[str, str]:
    """The distribution providing each top-level module in ``wanted`` (when installed).

    Reads each distribution's ``top_level.txt``, or its file list when it has none,
    stops once every module is found, and sleeps a millisecond between
    distributions so that the thread doing it never holds up the application's.
    """
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
            text = dist.read_text("top_level.txt")
            if text is not None:
                tops = set(text.split())
            else:
                tops = {f.parts[0].removesuffix(".py") for f in (dist.files or ()) if f.parts}
            for top in tops & wanted:
                found.setdefault(top, name)
        except Exception:
            continue
        if wanted <= found.keys():
            break
        time.sleep(0.001)
    return found


def versions_rows() -> list[list[str]]:
    """``[name, module, distribution, version]`` rows: Python, Django, each installed app."""
    from importlib import metadata

    from django.apps import apps

    rows = [
        ["Python", "", platform.python_implementation(), sys.version.split()[0]],
        ["Django", "django", "Django", django.get_version()],
    ]
    configs = list(apps.get_app_configs())
    providers = _providers({c.name.partition(".")[0] for c in configs})
    for config in configs:
        dist = providers.get(config.name.partition(".")[0], "")
        version = ""
        if dist:
            try:
                version = metadata.version(dist)
            except Exception:
                version = ""
        rows.append([str(config.verbose_name), config.name, dist, version])
    return rows


def _write_settings() -> None:
    dm_log.panel("Settings", "kv", settings_panel(), op="replace")


def _write_versions() -> None:
    try:
        dm_log.panel(
            "Versions", "table", versions_rows(), op="replace",
            columns=["name", "module", "distribution", "version"],
        )  # fmt: skip
    except Exception:
        pass


def write_once() -> None:
    """Write both panels the first time it is called with recording on; never raises.

    "Versions" reads installed distributions' metadata (tenths of a second with
    many packages), so it is written from a daemon thread that yields often and
    never delays the first request or command; a process that ends first has none.
    """
    global _written
    if _written or not dm_log.enabled():
        return
    _written = True
    try:
        contextvars.Context().run(_write_settings)  # an empty context: process level
        empty = contextvars.Context()
        threading.Thread(
            target=empty.run, args=(_write_versions,), name="dm-versions", daemon=True
        ).start()
    except Exception:
        pass

