"""Templates: one ``template`` span per template rendered, and where a statement came from.

``Template._render`` (the Django template language) is wrapped, which covers the
template a view renders, every ``{% include %}`` and every ``{% extends %}``
parent, so nested renders form a tree of spans:

* ``template.start`` carries ``name``, ``origin`` (the file), ``context_keys``
  (every key the template can see) and ``context``: each top-level value as a
  short description made without calling the object's own ``repr`` (which could
  run a query), redacted by key and truncated; a nested template describes only
  the values added since its enclosing template (an include's ``forloop`` and
  loop variable, its ``with`` values), the rest being on its ancestors' spans;
* ``template.end`` carries ``ms`` and the outcome.

``DM_TEMPLATES=0`` (environment or settings) turns the spans off. Either way, while
recording, the wrapper keeps the renders in progress, so that the template probe
(:data:`PROBE`) is only looked for while a template renders: it names the
innermost template node being rendered (``{"name", "line"}``), which the SQL and
cache call sites carry as ``site.template``.
"""

from __future__ import annotations

import datetime
import decimal
import sys
import uuid
from contextvars import ContextVar
from types import FrameType
from typing import Any

from django.db.models import Model
from django.db.models.query import QuerySet
from django.template.base import Node, Template

import dm_log

from .conf import checked, hide_frame

__all__ = ["PROBE", "Rendering", "ensure", "install", "rendering", "short_repr", "uninstall"]

_MAX_KEYS = 40
_MAX_REPR = 120
_original_render = Template._render
_installed = False
_spans = True
_enabled = dm_log.enabled


class Rendering:
    """One template render in progress, inside its caller's (``parent``) if any.

    ``layers`` is how many context layers the render started with: a nested
    template (an include, an extends parent) describes only the values of the
    layers added since, its enclosing template having described the rest.
    ``caller`` is the frame that called the outermost render, and ``site``
    caches the call site found from it, the same for every statement run while
    it renders (see :mod:`dm_log.django.sites`).
    """

    __slots__ = ("caller", "layers", "parent", "site")

    def __init__(self, parent: Rendering | None, layers: int, caller: FrameType | None) -> None:
        self.parent = parent
        self.layers = layers
        self.caller = caller
        self.site: dict[str, Any] | None = None

    @property
    def root(self) -> Rendering:
        found = self
        while found.parent is not None:
            found = found.parent
        return found


rendering: ContextVar[Rendering | None] = ContextVar("dm_log_django_rendering", default=None)
"""The innermost template render in progress in this context, or None."""

_SIMPLE = (str, int, float, bool, type(None), decimal.Decimal, uuid.UUID,
           datetime.date, datetime.time, datetime.timedelta)  # fmt: skip
_BUILTINS = {"True": True, "False": False, "None": None}


_REPR, _MODEL, _QUERYSET, _SIZED, _TYPE = range(5)
_shapes: dict[type, int] = {}
"""How :func:`short_repr` describes each type met, decided once per type."""


def _shape(cls: type) -> int:
    if issubclass(cls, _SIMPLE):
        return _REPR
    if issubclass(cls, Model):
        return _MODEL
    if issubclass(cls, QuerySet):
        return _QUERYSET
    if cls in (list, tuple, set, frozenset, dict):
        return _SIZED
    return _TYPE


def short_repr(value: Any) -> str:
    """A short description of ``value`` that runs none of its code (no query, no lazy load).

    Only ``type(value)`` is looked at, never ``value.__class__``: a lazy object
    (``request.user`` in a template context) answers that by loading itself.
    """
    cls = type(value)
    try:
        try:
            shape = _shapes[cls]
        except KeyError:
            shape = _shape(cls)
            if len(_shapes) < 4096:
                _shapes[cls] = shape
        if shape == _REPR:
            text = repr(value)
        elif shape == _TYPE:
            text = f"<{cls.__module__}.{cls.__qualname__}>"
        elif shape == _SIZED:
            text = f"<{cls.__name__} of {len(value)}>"
        elif shape == _MODEL:
            text = f"<{cls.__name__} pk={value.pk!r}>"
        else:
            done = value._result_cache is not None
            text = f"<QuerySet {value.model.__name__}{f' of {len(value)}' if done else ''}>"
    except Exception:
        text = "<?>"
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "…"


def _context_fields(layers: list[Any], described: int) -> tuple[list[str], dict[str, str]]:
    """Every key of the context, and a description of the values in ``layers[described:]``."""
    seen: dict[str, None] = {}  # the keys, in order, as a dict: one lookup per key
    values: dict[str, str] = {}
    is_secret = dm_log.is_secret_key
    count = 0
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if layer is _BUILTINS or layer == _BUILTINS:
            continue
        new = i >= described
        for key in layer:
            if key in seen or (type(key) is not str and not isinstance(key, str)):
                continue
            seen[key] = None
            if new:
                values[key] = dm_log.REDACTED if is_secret(key) else short_repr(layer[key])
            count += 1
            if count >= _MAX_KEYS:
                return list(seen), values
    return list(seen), values


def _render(self: Template, context: Any) -> Any:
    """``Template._render`` inside a ``template`` span (when recording)."""
    parent = rendering.get()
    if parent is None and not _enabled():  # recording off: no span, no site to name
        try:
            return _original_render(self, context)
        except BaseException as exc:
            hide_frame(exc, _render.__code__)
            raise
    layers: list[Any] = getattr(context, "dicts", None) or []
    caller = sys._getframe(1) if parent is None else None
    token = rendering.set(Rendering(parent, len(layers), caller))
    span: dm_log.Span | None = None
    try:
        if _spans and _enabled():
            span = _start(self, layers, parent.layers if parent is not None else 0)
        result = _original_render(self, context)
    except BaseException as exc:
        if span is not None:
            span.end(outcome="error", error=exc)
        hide_frame(exc, _render.__code__)
        raise
    finally:
        rendering.reset(token)
    if span is not None:
        span.end()
    return result


_NAMES = "_dm_log_names"


def _names(template: Template) -> tuple[str, str]:
    """``(name, origin)`` of ``template``, kept on it (a loader's cache keeps templates)."""
    origin = template.origin
    names = (
        str(template.name or getattr(origin, "template_name", None) or "<string>"),
        str(getattr(origin, "name", "") or ""),
    )
    try:
        setattr(template, _NAMES, names)
    except Exception:
        pass
    return names


def _start(template: Template, layers: list[Any], described: int) -> dm_log.Span | None:
    try:
        name, origin = template.__dict__.get(_NAMES) or _names(template)
        keys, values = _context_fields(layers, described)
        return dm_log.start_span(
            "template", name=name, origin=origin, context_keys=keys, context=values
        )
    except Exception:
        return None


def _describe_node(frame: FrameType) -> dict[str, Any] | None:
    """``{"name", "line"}`` of the node a ``Node.render_annotated`` frame renders."""
    node = frame.f_locals.get("self")
    token = getattr(node, "token", None)
    origin = getattr(node, "origin", None)
    if token is None or origin is None:
        return None
    name = getattr(origin, "template_name", None) or getattr(origin, "name", None)
    return {"name": str(name), "line": int(getattr(token, "lineno", 0) or 0)}


PROBE = (Node.render_annotated.__code__, "template", _describe_node)
"""The :func:`dm_log.call_site` probe naming the innermost template node being rendered."""


def install() -> None:
    """Wrap ``Template._render`` (idempotent); spans unless ``DM_TEMPLATES=0``."""
    global _installed, _spans
    _spans = bool(checked("DM_TEMPLATES"))
    if _installed:
        return
    _installed = True
    ensure()


def ensure() -> None:
    """Wrap again if something replaced ``Template._render`` since (Django's test set-up does)."""
    global _original_render
    if _installed and Template._render is not _render:
        _original_render = Template._render
        Template._render = _render


def uninstall() -> None:
    """Put the wrapped ``Template._render`` back (used by the benchmark)."""
    global _installed
    if _installed and Template._render is _render:
        Template._render = _original_render
    _installed = False
