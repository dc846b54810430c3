"""Assembles the writer's processor pipeline over the file sink, in step with the config.

The pipeline is ``redact -> Envelope -> Validate -> Render -> FileSink.msg`` (see
``_processors``): structlog processors (``(logger, method, event_dict)``) over the one
dict :func:`emit` receives, with no bound logger between them (which would copy the
dict and add call layers to every event). :meth:`_Writer.line` runs them as one call:
an event of a hot kind, not validated, is stamped and rendered from the envelope's
prepared bytes without the stamp passing through the event's dict; any other
event goes through the processors in turn, with the same stamp. :func:`emit` never
raises: a failure anywhere in it, a ``RecursionError`` from a nested signal handler
included, is counted as a dropped line and reported as ``dm.dropped``.
"""

from __future__ import annotations

import os
from typing import Any

from . import _config
from ._config import Config
from ._context import current_span
from ._processors import (
    _RESERVED_NAMES,
    HOT_KINDS,
    Envelope,
    Render,
    Validate,
    _stamped_line,
    redact,
)
from ._redact import redact_event, set_extra_keys
from ._sink import FileSink

__all__ = ["emit", "emit_kw", "enabled", "sink"]


class _Writer:
    """The process's one writer: a sink and the processors feeding it."""

    __slots__ = ("config", "envelope", "render", "sink", "unchecked", "validate")

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sink: FileSink | None = None
        # The kinds written without validation (see ``Validate``).
        self.unchecked = frozenset() if config.validate_all else HOT_KINDS
        self.validate = Validate(config.validate_all)
        self.render = Render(config.max_line_bytes)
        if config.enabled:
            self._build()

    def _build(self, sink: FileSink | None = None) -> None:
        sink = sink or FileSink(self.config)
        self.envelope = Envelope(self.config.service, self.config.host, sink.pid, sink.seq_source())
        self.sink = sink

    @property
    def processors(self) -> tuple[Any, ...]:
        """The pipeline, in order (what :meth:`line` runs)."""
        return (redact, self.envelope, self.validate, self.render)

    def line(self, kind: str, ed: dict[str, Any]) -> bytes:
        """The processors over ``ed`` (an event of ``kind``): its line, as bytes.

        A hot kind that is not validated, with no field named like the envelope, is
        written from the stamp's prepared bytes (``_stamped_line``, as :class:`Render`
        writes it) without the stamp passing through the event's dict; anything else,
        or a value orjson refuses at first, goes through ``Validate`` and ``Render`` with
        the same stamp.
        """
        ctx = ed.pop("_dm_ctx", None) or current_span.get()
        redact_event(ed, ctx.secrets if ctx is not None else None, kind)
        stamp = self.envelope.stamp(ctx, kind)
        if kind in self.unchecked and _RESERVED_NAMES.isdisjoint(ed):
            line = _stamped_line(ed, stamp)
            if line is not None and len(line) <= self.render.max_line:
                return line
        ed["event"] = kind
        ed["_dm_env"] = stamp
        return self.render(None, "msg", self.validate(None, "msg", ed))

    def after_fork_in_child(self) -> None:
        """The child keeps the configuration and opens a file of its own."""
        if self.sink is not None:
            self.sink.after_fork_in_child()
            self._build(self.sink)


_writer = _Writer(_config.current())
set_extra_keys(_config.current().redact_keys)


def _reconfigure(config: Config) -> None:
    global _writer
    old = _writer
    set_extra_keys(config.redact_keys)
    _writer = _Writer(config)
    if old.sink is not None:
        old.sink.close()


_config.on_change(_reconfigure)
os.register_at_fork(after_in_child=lambda: _writer.after_fork_in_child())


def enabled() -> bool:
    """True when ``DM_LOG_DIR`` (or :func:`dm_log.configure`) has turned recording on."""
    return _writer.sink is not None


def sink() -> FileSink | None:
    """The file sink in use, or None when off."""
    return _writer.sink


def emit(kind: str, fields: dict[str, Any]) -> None:
    """Write one event of ``kind`` through the pipeline. Never raises.

    ``fields`` is a dict built for this event: the pipeline takes it over (adds
    ``event``, replaces values in place), so it is not copied.
    """
    writer = _writer
    s = writer.sink
    if s is None:
        return
    try:
        s.msg(writer.line(kind, fields))
    except Exception as exc:
        s.count_drop(f"pipeline error: {type(exc).__name__}: {exc}")


def emit_kw(kind: str, /, **fields: Any) -> None:
    """:func:`emit` taking the fields as keywords."""
    emit(kind, fields)
