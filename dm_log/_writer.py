"""Assembles the writer's processor pipeline over the file sink, in step with the config.

The pipeline is ``redact -> Envelope -> Validate -> Render -> FileSink.msg`` (see
``_processors``): structlog processors (``(logger, method, event_dict)``), called in
turn on the one dict :func:`emit` receives, with no bound logger between them (which
would copy the dict and add call layers to every event). :func:`emit` never raises: a
failure anywhere in it, a ``RecursionError`` from a nested signal handler included, is
counted as a dropped line and reported as ``dm.dropped``.
"""

from __future__ import annotations

import os
from typing import Any

from . import _config
from ._config import Config
from ._processors import Envelope, Render, Validate, redact
from ._redact import set_extra_keys
from ._sink import FileSink

__all__ = ["emit", "emit_kw", "enabled", "sink"]


class _Writer:
    """The process's one writer: a sink and the processors feeding it."""

    __slots__ = ("config", "processors", "sink")

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sink: FileSink | None = None
        self.processors: tuple[Any, ...] | None = None
        if config.enabled:
            self._build()

    def _build(self, sink: FileSink | None = None) -> None:
        sink = sink or FileSink(self.config)
        self.sink = sink
        self.processors = (
            redact,
            Envelope(self.config.service, self.config.host, sink.pid, sink.seq_source()),
            Validate(self.config.validate_all),
            Render(self.config.max_line_bytes),
        )

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
    return _writer.processors is not None


def sink() -> FileSink | None:
    """The file sink in use, or None when off."""
    return _writer.sink


def emit(kind: str, fields: dict[str, Any]) -> None:
    """Write one event of ``kind`` through the pipeline. Never raises.

    ``fields`` is a dict built for this event: the pipeline takes it over (adds
    ``event``, replaces values in place), so it is not copied.
    """
    writer = _writer
    processors, s = writer.processors, writer.sink
    if processors is None or s is None:
        return
    try:
        fields["event"] = kind
        ed: Any = fields
        for processor in processors:
            ed = processor(None, "msg", ed)
        s.msg(ed)
    except Exception as exc:
        s.count_drop(f"pipeline error: {type(exc).__name__}: {exc}")


def emit_kw(kind: str, /, **fields: Any) -> None:
    """:func:`emit` taking the fields as keywords."""
    emit(kind, fields)
