"""Configuration: read once from the environment, overridable with :func:`configure`.

``DM_LOG_DIR`` turns recording on; with it unset every public call returns at
once. The other variables tune the writer:

=====================  ==========================================================
``DM_LOG_DIR``         folder of JSON-lines files, created 0700 if missing
``DM_SERVICE``         service name written as ``svc`` (default: program name)
``DM_VALIDATE``        ``1`` validates every event against the schema
``DM_LOG_MAX_MB``      per-process cap on bytes on disk (default 256)
``DM_LOG_CAP_ACTION``  ``rotate`` (default) or ``stop`` when the cap is reached
``DM_REDACT_KEYS``     extra comma-separated key fragments to redact
``DM_MAX_LINE_KB``     largest line written (default 1024)
=====================  ==========================================================
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["Config", "configure", "current", "default_service"]

DEFAULT_MAX_MB = 256
DEFAULT_MAX_LINE_KB = 1024


def default_service(argv: list[str] | None = None) -> str:
    """Name a service after the program: ``manage.py`` -> ``manage``, ``celery`` -> ``celery``.

    For ``python -m pkg`` the program is ``pkg/__main__.py``, named after ``pkg``.
    """
    argv = sys.argv if argv is None else argv
    prog = argv[0] if argv and argv[0] else "python"
    path = Path(prog)
    name = path.stem
    if name == "__main__":
        name = path.parent.name or "python"
    if name in ("-c", ""):
        name = "python"
    return name


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _under_pytest() -> bool:
    return "pytest" in sys.modules or "PYTEST_CURRENT_TEST" in os.environ


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the writer needs to know; immutable, replaced as a whole."""

    log_dir: Path | None = None
    service: str = "python"
    host: str = "localhost"
    validate_all: bool = False
    max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024
    cap_action: str = "rotate"
    redact_keys: tuple[str, ...] = field(default_factory=tuple)
    max_line_bytes: int = DEFAULT_MAX_LINE_KB * 1024

    @property
    def enabled(self) -> bool:
        return self.log_dir is not None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        log_dir = env.get("DM_LOG_DIR") or None
        validate = env.get("DM_VALIDATE")
        try:
            max_mb = float(env.get("DM_LOG_MAX_MB") or DEFAULT_MAX_MB)
        except ValueError:
            max_mb = DEFAULT_MAX_MB
        try:
            max_line_kb = int(env.get("DM_MAX_LINE_KB") or DEFAULT_MAX_LINE_KB)
        except ValueError:
            max_line_kb = DEFAULT_MAX_LINE_KB
        action = (env.get("DM_LOG_CAP_ACTION") or "rotate").strip().lower()
        extra = tuple(
            k.strip().lower() for k in (env.get("DM_REDACT_KEYS") or "").split(",") if k.strip()
        )
        return cls(
            log_dir=Path(log_dir).expanduser().absolute() if log_dir else None,
            service=env.get("DM_SERVICE") or default_service(),
            host=socket.gethostname() or "localhost",
            validate_all=_flag(validate) if validate is not None else _under_pytest(),
            max_bytes=max(int(max_mb * 1024 * 1024), 64 * 1024),
            cap_action=action if action in ("rotate", "stop") else "rotate",
            redact_keys=extra,
            max_line_bytes=max(max_line_kb, 16) * 1024,
        )


_current: Config = Config.from_env()
_listeners: list[Callable[[Config], None]] = []


def current() -> Config:
    """The configuration in force."""
    return _current


def configure(**changes: Any) -> Config:
    """Replace fields of the configuration in force and reopen the writer.

    ``configure(log_dir="/tmp/logs", service="api")`` turns recording on from code;
    ``configure(log_dir=None)`` turns it off. Unknown names raise ``TypeError``.
    """
    global _current
    if "log_dir" in changes and changes["log_dir"] is not None:
        changes["log_dir"] = Path(str(changes["log_dir"])).expanduser().absolute()
    _current = replace(_current, **changes)
    for listener in list(_listeners):
        listener(_current)
    return _current


def on_change(listener: Callable[[Config], None]) -> None:
    """Call ``listener(config)`` whenever :func:`configure` runs."""
    _listeners.append(listener)
