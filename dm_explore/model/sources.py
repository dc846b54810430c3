"""What the model keeps per file of the folder and per process that wrote one."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .problems import Problem
from .records import LogRec, ProcessKey, SqlRec

__all__ = ["MAX_PROBLEMS", "MAX_PROCESS_ITEMS", "FileInfo", "ProcessInfo"]

MAX_PROBLEMS = 1000
MAX_PROCESS_ITEMS = 2000


@dataclass(slots=True)
class FileInfo:
    """One file of the folder: who wrote it and what was wrong with it."""

    id: int
    path: str
    process: ProcessKey | None = None
    events: int = 0
    invalid: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first MAX_PROBLEMS
    gone: bool = False
    partial: bool = False
    capped: str | None = None  # "stop" or "rotate" once dm.capped was seen
    dropped: int = 0  # events the writer reported it could not write


@dataclass(slots=True)
class ProcessInfo:
    """What a process reported outside any span."""

    key: ProcessKey
    alive: bool | None = None  # None: unknown (another host)
    argv: list[str] = field(default_factory=list)
    runtime: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_PROCESS_ITEMS))
    panels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    logs: deque[LogRec] = field(default_factory=lambda: deque(maxlen=MAX_PROCESS_ITEMS))
    sql: deque[SqlRec] = field(default_factory=lambda: deque(maxlen=MAX_PROCESS_ITEMS))
    invalid_events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))
