"""What a request touched besides SQL: static files its templates named, signals it sent.

The middleware opens a :class:`Detail` per request (:func:`begin`); while it is
open, ``{% static %}`` (``StaticNode.handle_simple``, which the ``static()``
helper also calls) adds the path to ``static``, and ``Signal.send`` /
``Signal.send_robust`` count each signal sent to at least one receiver, with its
receivers the first time (those with none, like ``pre_init`` on most models, are
left out). ``request.end`` carries both. Outside a request the wrappers cost one
context-variable read.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar, Token
from typing import Any

from django.dispatch import Signal
from django.templatetags.static import StaticNode

from .conf import hide_frame

__all__ = ["Detail", "begin", "finish", "install", "signal_name", "uninstall"]

_MAX_STATIC = 200
_MAX_SIGNALS = 100
_MAX_RECEIVERS = 30


class Detail:
    """Static paths and signals of one request."""

    __slots__ = ("signals", "static")

    def __init__(self) -> None:
        self.static: list[str] = []
        self.signals: dict[int, dict[str, Any] | None] = {}

    def fields(self) -> dict[str, Any]:
        """The ``request.end`` fields: ``static`` and ``signals`` (when any)."""
        out: dict[str, Any] = {}
        if self.static:
            out["static"] = self.static
        signals = [entry for entry in self.signals.values() if entry is not None]
        if signals:
            out["signals"] = signals
        return out


_current: ContextVar[Detail | None] = ContextVar("dm_log_django_detail", default=None)


def begin() -> tuple[Detail, Token[Detail | None]]:
    detail = Detail()
    return detail, _current.set(detail)


def finish(token: Token[Detail | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:  # ended in another context
        _current.set(None)


_names: dict[int, str] = {}
_scanned_modules = 0


def _rank(name: str) -> tuple[bool, int]:
    module = name.rpartition(".")[0]
    return ("signals" not in module, len(name))


def _scan() -> None:
    """Name every ``Signal`` found at the top level of an imported module."""
    global _scanned_modules
    modules = list(sys.modules.items())
    _scanned_modules = len(modules)
    found: dict[int, str] = {}
    for module_name, module in modules:
        try:
            members = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in members:
            if isinstance(value, Signal):
                name = f"{module_name}.{attr}"
                old = found.get(id(value))
                if old is None or _rank(name) < _rank(old):
                    found[id(value)] = name
    _names.update(found)


def signal_name(signal: Signal) -> str:
    """The dotted name of ``signal`` (``django.db.models.signals.post_save``)."""
    name = _names.get(id(signal))
    if name is None and len(sys.modules) != _scanned_modules:
        _scan()
        name = _names.get(id(signal))
    return name or f"<Signal {id(signal):#x}>"


def _callable_name(fn: Any) -> str:
    fn = getattr(fn, "__func__", fn)
    module = getattr(fn, "__module__", None) or ""
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{qualname}" if module else str(qualname)


def _receivers(signal: Signal, sender: Any) -> list[str] | None:
    """The receivers' dotted names, dm_log's own left out; None if dm_log's were all."""
    try:
        live: Any = signal._live_receivers(sender)
        if isinstance(live, tuple):  # Django 5: (sync, async)
            live = [*live[0], *live[1]]
        names = [_callable_name(r) for r in list(live)[:_MAX_RECEIVERS]]
    except Exception:
        return []
    own = [n for n in names if n.startswith("dm_log.")]
    if own and len(own) == len(names):
        return None
    return [n for n in names if not n.startswith("dm_log.")]


def _note(signal: Signal, sender: Any) -> None:
    detail = _current.get()
    if detail is None:
        return
    try:
        key = id(signal)
        entry = detail.signals.get(key)
        if entry is None:
            if key in detail.signals or len(detail.signals) >= _MAX_SIGNALS:
                return  # only dm_log listens to it, or too many
            receivers = _receivers(signal, sender)
            if receivers is None:
                detail.signals[key] = None
                return
            entry = detail.signals[key] = {
                "name": signal_name(signal), "receivers": receivers, "count": 0,
            }  # fmt: skip
        entry["count"] += 1
    except Exception:
        pass


_original_send = Signal.send
_original_send_robust = Signal.send_robust
_original_static = StaticNode.handle_simple.__func__


def _send(self: Signal, sender: Any, **named: Any) -> Any:
    if not self.receivers:
        return []  # what Django answers with no receiver, one call sooner
    if _current.get() is not None:
        _note(self, sender)
    try:
        return _original_send(self, sender, **named)
    except BaseException as exc:
        hide_frame(exc, _send.__code__)
        raise


def _send_robust(self: Signal, sender: Any, **named: Any) -> Any:
    if not self.receivers:
        return []  # what Django answers with no receiver, one call sooner
    if _current.get() is not None:
        _note(self, sender)
    try:
        return _original_send_robust(self, sender, **named)
    except BaseException as exc:
        hide_frame(exc, _send_robust.__code__)
        raise


def _static(cls: type[StaticNode], path: str) -> Any:
    detail = _current.get()
    if detail is not None and len(detail.static) < _MAX_STATIC:
        try:
            text = str(path)
            if text not in detail.static:
                detail.static.append(text)
        except Exception:
            pass
    return _original_static(cls, path)


_installed = False


def install() -> None:
    """Wrap ``Signal.send``, ``Signal.send_robust`` and ``StaticNode.handle_simple`` (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    Signal.send = _send
    Signal.send_robust = _send_robust
    StaticNode.handle_simple = classmethod(_static)


def uninstall() -> None:
    """Put Django's ``Signal.send``, ``send_robust`` and ``StaticNode.handle_simple`` back."""
    global _installed
    if not _installed:
        return
    _installed = False
    Signal.send = _original_send
    Signal.send_robust = _original_send_robust
    StaticNode.handle_simple = classmethod(_original_static)
