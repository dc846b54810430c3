"""Call sites of SQL statements and cache calls, as the ``site`` field.

``site`` is the first frame of the project's own code (not Django, not an
installed package, not the standard library, not dm_log). While a template
renders, ``site.template`` names the innermost template node being rendered
(``{"name", "line"}``: the included template, not the one including it). With
no project frame at all (a query run by Wagtail, DRF or the admin), ``site`` is
the first frame outside Django's ORM, database, cache and template layers (the
template is in ``site.template``), marked ``"in_app": false``. ``DM_SQL_STACK=1``
adds ``site.stack``, the project's frames, outermost first.
"""

from __future__ import annotations

import os
from typing import Any

import django

import dm_log

from .conf import checked
from .templates import PROBE, rendering

__all__ = ["DJANGO_DIR", "configure", "site"]

DJANGO_DIR = os.path.dirname(os.path.abspath(django.__file__)) + os.sep
_SKIP = (DJANGO_DIR,)
_LAYERS = tuple(
    DJANGO_DIR + sub + os.sep
    for sub in ("db", "core" + os.sep + "cache", "utils", "dispatch", "template")
)
_call_site = dm_log.call_site
_stack = False


def configure() -> None:
    """Read ``DM_SQL_STACK`` (environment, then settings)."""
    global _stack
    _stack = bool(checked("DM_SQL_STACK"))


def site(skip: int) -> dict[str, Any] | None:
    """The call site ``skip`` frames above the caller's caller; see the module docstring.

    While a template renders, the walk stops at the innermost template node; the
    site outside the outermost render is found once per render and reused, so a
    statement run from a deep include costs a short walk.
    """
    current = rendering.get()
    if current is None:
        return _call_site(skip + 1, _SKIP, fallback_skip=_LAYERS, stack=_stack)
    if _stack:
        return _call_site(skip + 1, _SKIP, fallback_skip=_LAYERS, stack=True, probe=PROBE)
    found = _call_site(skip + 1, _SKIP, fallback_skip=_LAYERS, probe=PROBE, until_probe=True)
    if found is None or "file" in found:
        return found
    root = current.root
    outer = root.site
    if outer is None:
        outer = _call_site(start=root.caller, extra_skip=_SKIP, fallback_skip=_LAYERS) or {}
        root.site = outer
    if not outer:
        return found
    return {**outer, **found}
