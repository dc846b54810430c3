"""Cache: one ``cache`` point event per call of Django's cache API, on any backend.

Each backend object is wrapped as ``django.core.cache.caches`` creates it (and
those already created in this thread when the app starts): the public methods
below become instance attributes that time the call and record

* ``op`` (``get``, ``set``, ``add``, ``delete``, ``get_many``, ``incr``, …),
* ``key`` (``keys`` for the ``*_many`` calls), redacted when the key's name
  looks secret (a session key, a token),
* ``hit`` for reads (``get``, ``get_or_set``, ``has_key``, ``touch``) and
  ``hits`` for ``get_many``,
* ``backend`` (the alias in ``CACHES``), ``ms``, ``site`` and ``error`` if it raised.

Calls a backend makes to itself (``get_or_set`` calling ``get`` and ``add``)
are not recorded twice: only the outermost call is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.cache import CacheHandler, caches

import dm_log
from dm_log._writer import emit as _write  # dm_log.record without repacking the fields

from .conf import hide_frame
from .sites import site

__all__ = ["METHODS", "install", "uninstall"]

METHODS = (
    "get", "set", "add", "delete", "get_many", "set_many", "delete_many", "has_key",
    "incr", "decr", "touch", "get_or_set", "clear",
)  # fmt: skip
_MANY = frozenset({"get_many", "set_many", "delete_many"})
_MAX_KEYS = 50
_MISS = object()

_enabled = dm_log.enabled
_perf = time.perf_counter
_original_create = CacheHandler.create_connection
_installed = False


class _Call:
    """The outermost cache call in progress; a nested ``get`` tells it whether it hit."""

    __slots__ = ("hit",)

    def __init__(self) -> None:
        self.hit: bool | None = None


_current: ContextVar[_Call | None] = ContextVar("dm_log_django_cache_call", default=None)


def _key(key: Any) -> str:
    text = key if isinstance(key, str) else str(key)
    if dm_log.is_secret_key(text):
        return dm_log.REDACTED
    return text if len(text) <= 250 else text[:249] + "…"


def _get(method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``get`` with a private default, so a stored ``None`` still counts as a hit."""
    if len(args) >= 2:
        default = args[1]
        args = (args[0], _MISS, *args[2:])
    else:
        default = kwargs.pop("default", None)
        kwargs["default"] = _MISS
    result = method(*args, **kwargs)
    if result is _MISS:
        return default, False
    return result, True


def _wrap(alias: str, op: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        outer = _current.get()
        if outer is not None or not _enabled():
            if outer is not None and op == "get" and outer.hit is None:
                value, outer.hit = _get(method, args, kwargs)
                return value
            return method(*args, **kwargs)
        state = _Call()
        token = _current.set(state)
        t0 = _perf()
        error: BaseException | None = None
        hit: bool | None = None
        result: Any = None
        try:
            if op == "get":
                result, hit = _get(method, args, kwargs)
            else:
                result = method(*args, **kwargs)
            return result
        except BaseException as exc:
            error = exc
            hide_frame(exc, call.__code__)
            raise
        finally:
            ms = (_perf() - t0) * 1000.0
            _current.reset(token)
            try:
                _emit(alias, op, args, kwargs, ms, hit, state, result, error)
            except Exception:
                pass

    call.__wrapped__ = method  # type: ignore[attr-defined]
    return call


def _emit(
    alias: str,
    op: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    ms: float,
    hit: bool | None,
    state: _Call,
    result: Any,
    error: BaseException | None,
) -> None:
    fields: dict[str, Any] = {"op": op, "backend": alias, "ms": round(ms, 3)}
    first = args[0] if args else kwargs.get("keys", kwargs.get("data", kwargs.get("key")))
    if op in _MANY:
        keys = list(first or ())[:_MAX_KEYS]
        fields["keys"] = [_key(k) for k in keys]
        if op == "get_many" and error is None and isinstance(result, dict):
            fields["hits"] = len(result)
    elif op != "clear" and first is not None:
        fields["key"] = _key(first)
    if error is None:
        if op == "get_or_set":
            hit = state.hit
        elif op in ("has_key", "touch"):
            hit = bool(result)
        if hit is not None:
            fields["hit"] = hit
    else:
        fields["error"] = f"{type(error).__name__}: {error}"[:1000]
    where = site(3)
    if where is not None:
        fields["site"] = where
    _write("cache", fields)


def _instrument(backend: Any, alias: str) -> Any:
    if getattr(backend, "_dm_log_alias", None) is not None:
        return backend
    for op in METHODS:
        method = getattr(backend, op, None)
        if callable(method):
            setattr(backend, op, _wrap(alias, op, method))
    backend._dm_log_alias = alias
    return backend


def _create_connection(self: CacheHandler, alias: str) -> Any:
    backend = _original_create(self, alias)
    try:
        return _instrument(backend, alias)
    except Exception:
        return backend


def install() -> None:
    """Record every cache backend created from now on, and this thread's existing ones."""
    global _installed
    if _installed:
        return
    _installed = True
    CacheHandler.create_connection = _create_connection
    for alias in caches:
        if hasattr(caches._connections, alias):
            try:
                _instrument(caches[alias], alias)
            except Exception:
                pass


def uninstall() -> None:
    """Stop wrapping new backends and unwrap this thread's (used by the benchmark)."""
    global _installed
    _installed = False
    CacheHandler.create_connection = _original_create
    for alias in caches:
        if hasattr(caches._connections, alias):
            backend = caches[alias]
            for op in METHODS:
                backend.__dict__.pop(op, None)
            backend.__dict__.pop("_dm_log_alias", None)
