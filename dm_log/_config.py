"""Configuration: one parser for every ``DM_*`` setting, overridable with :func:`configure`.

``DM_LOG_DIR`` turns recording on; with it unset every public call returns at
once. The other variables tune the writer:

=======================  ========================================================
``DM_LOG_DIR``           folder of JSON-lines files, created 0700 if missing
``DM_SERVICE``           service name written as ``svc`` (default: program name)
``DM_VALIDATE``          ``1`` validates every event against the schema
``DM_LOG_MAX_MB``        per-process cap on bytes on disk (default 256)
``DM_LOG_CAP_ACTION``    ``rotate`` (default) or ``stop`` when the cap is reached
``DM_REDACT_KEYS``       extra comma-separated key fragments to redact
``DM_MAX_LINE_KB``       largest line written (default 1024)
``DM_COMMAND_PING``      seconds between management-command heartbeats (default 30)
``DM_ALLOW_PRODUCTION``  ``1`` lets the Django integration record with ``DEBUG = False``
=======================  ========================================================

Every value is checked here and nowhere else. A value that is not what its
setting takes (``nan``, ``inf``, ``1e308``, a negative or out-of-range number,
an unknown word, text that is not valid UTF-8) is refused: the setting keeps its
default, the refusal is printed once on stderr and written as a ``dm.config``
event at the top of each log file. Reading the configuration never raises, so
``import dm_log`` cannot fail on a bad environment.
"""

from __future__ import annotations

import math
import os
import re
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._bounds import printable

__all__ = [
    "Config",
    "Refusal",
    "clean_text",
    "configure",
    "current",
    "default_service",
    "setting",
]

DEFAULT_MAX_MB = 256
DEFAULT_MAX_LINE_KB = 1024
DEFAULT_PING_S = 30.0
MIN_CAP_BYTES = 64 * 1024
MAX_CAP_BYTES = 2**50  # 1 PiB: past this a number is a typo, not a cap
MIN_LINE_KB, MAX_LINE_KB = 16, 64 * 1024
MAX_SERVICE = 200
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
_SURROGATES = re.compile("[\ud800-\udfff]")
clean_text = printable


def default_service(argv: list[str] | None = None) -> str:
    """Name a service after the program: ``manage.py`` -> ``manage``, ``celery`` -> ``celery``.

    For ``python -m pkg`` the program is ``pkg/__main__.py``, named after ``pkg``.
    """
    argv = sys.argv if argv is None else argv
    prog = clean_text(str(argv[0])) if argv and argv[0] else "python"
    path = Path(prog)
    name = path.stem
    if name == "__main__":
        name = path.parent.name or "python"
    if name in ("-c", ""):
        name = "python"
    return name[:MAX_SERVICE]


def _under_pytest() -> bool:
    return "pytest" in sys.modules or "PYTEST_CURRENT_TEST" in os.environ


@dataclass(frozen=True, slots=True)
class Refusal:
    """A setting whose value was refused: what it was, why, and what is used instead."""

    name: str
    value: str
    reason: str
    using: str

    def as_text(self) -> str:
        return f"{self.name}={self.value!r} refused ({self.reason}); using {self.using}"

    def as_fields(self) -> dict[str, str]:
        return {"name": self.name, "value": self.value, "reason": self.reason, "using": self.using}


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the writer needs to know; immutable, replaced as a whole.

    ``refused`` lists the settings whose values were refused when this
    configuration was read (written as ``dm.config`` at the top of each file).
    """

    log_dir: Path | None = None
    service: str = "python"
    host: str = "localhost"
    validate_all: bool = False
    max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024
    cap_action: str = "rotate"
    redact_keys: tuple[str, ...] = field(default_factory=tuple)
    max_line_bytes: int = DEFAULT_MAX_LINE_KB * 1024
    command_ping: float = DEFAULT_PING_S
    allow_production: bool = False
    refused: tuple[Refusal, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.log_dir is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """The configuration the environment asks for, with bad values refused. Never raises."""
        try:
            return _Parser(os.environ if environ is None else environ).config()
        except Exception as exc:  # a failure of the parser itself: record nothing, say why
            why = f"{type(exc).__name__}: {exc}"
            return cls(refused=(Refusal("DM_*", "", clean_text(why)[:200], "recording off"),))


class _Parser:
    """Reads each ``DM_*`` variable once, checks it, and keeps a :class:`Refusal` per bad one."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.refused: list[Refusal] = []

    def _raw(self, name: str) -> str | None:
        value = self.env.get(name)
        return None if value is None else str(value)

    def _refuse(self, name: str, raw: str, reason: str, using: object) -> None:
        shown = "off" if using is None else str(using)
        self.refused.append(Refusal(name, clean_text(raw)[:200], reason, shown))

    def _number(
        self, name: str, default: Any, lo: float, hi: float, *, integer: bool = False
    ) -> Any:
        raw = self._raw(name)
        if raw is None or not raw.strip():
            return default
        text = raw.strip()
        try:
            value = int(text) if integer else float(text)
        except (ValueError, OverflowError):
            kind = "a whole number" if integer else "a number"
            self._refuse(name, raw, f"not {kind}", default)
            return default
        if not math.isfinite(value) or not lo <= value <= hi:
            self._refuse(name, raw, f"not between {lo:.10g} and {hi:.10g}", default)
            return default
        return value

    def _flag(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False if word else default
        self._refuse(name, raw, "not one of 1/0, true/false, yes/no, on/off", int(default))
        return default

    def _choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self._raw(name)
        if raw is None or not raw.strip():
            return default
        word = raw.strip().lower()
        if word in choices:
            return word
        self._refuse(name, raw, "not one of " + ", ".join(choices), default)
        return default

    def _profile(self, name: str) -> str:
        """``off``, ``all``, ``header`` or ``slow:MS`` (``1``/``on`` mean ``all``)."""
        raw = self._raw(name)
        if raw is None or not raw.strip():
            return "off"
        word = raw.strip().lower()
        if word in ("off", "0", "false", "no"):
            return "off"
        if word in ("all", "1", "true", "yes", "on"):
            return "all"
        if word == "header":
            return word
        if word.startswith("slow:"):
            ms = _Parser({name: word[5:]})._number(name, None, 0.0, 86_400_000.0)
            if ms is not None:
                return f"slow:{ms:g}"
        self._refuse(name, raw, "not off, all, header or slow:MS", "off")
        return "off"

    def _log_dir(self) -> Path | None:
        raw = self._raw("DM_LOG_DIR")
        if not raw:
            return None
        if _SURROGATES.search(raw):
            self._refuse("DM_LOG_DIR", raw, "not valid UTF-8", "recording off")
            return None
        try:
            return Path(raw).expanduser().absolute()
        except (OSError, RuntimeError, ValueError) as exc:  # ~nobody, a deleted cwd
            self._refuse("DM_LOG_DIR", raw, f"{type(exc).__name__}: {exc}", "recording off")
            return None

    def _service(self) -> str:
        raw = self._raw("DM_SERVICE")
        default = default_service()
        if raw is None or not raw.strip():
            return default
        text = clean_text(raw.strip())
        if len(text) > MAX_SERVICE:
            self._refuse("DM_SERVICE", raw, f"longer than {MAX_SERVICE} characters", default)
            return default
        return text

    def _redact_keys(self) -> tuple[str, ...]:
        raw = self._raw("DM_REDACT_KEYS") or ""
        keys = [clean_text(k.strip().lower()) for k in raw.split(",") if k.strip()]
        if len(keys) > 100 or any(len(k) > 100 for k in keys):
            self._refuse("DM_REDACT_KEYS", raw, "over 100 keys or a key over 100 characters", "")
            keys = [k for k in keys if len(k) <= 100][:100]
        return tuple(keys)

    def config(self) -> Config:
        try:
            host = clean_text(socket.gethostname())[:255] or "localhost"
        except OSError:
            host = "localhost"
        validate = self._flag("DM_VALIDATE", _under_pytest())
        max_mb = self._number("DM_LOG_MAX_MB", DEFAULT_MAX_MB, MIN_CAP_BYTES / 2**20, 2**30)
        line_kb = self._number(
            "DM_MAX_LINE_KB", DEFAULT_MAX_LINE_KB, MIN_LINE_KB, MAX_LINE_KB, integer=True
        )
        return Config(
            log_dir=self._log_dir(),
            service=self._service(),
            host=host,
            validate_all=validate,
            max_bytes=int(max_mb * 2**20),
            cap_action=self._choice("DM_LOG_CAP_ACTION", "rotate", ("rotate", "stop")),
            redact_keys=self._redact_keys(),
            max_line_bytes=int(line_kb) * 1024,
            command_ping=self._number("DM_COMMAND_PING", DEFAULT_PING_S, 0.01, 86400.0),
            allow_production=self._flag("DM_ALLOW_PRODUCTION", False),
            refused=tuple(self.refused),
        )


# Settings read by the integrations, each with the rule that checks it. The
# environment wins; a framework's own setting (Django's ``settings.DM_PROFILE``)
# is checked by the same rule when the variable is unset.
_INTEGRATION: dict[str, Callable[[_Parser, str], Any]] = {
    "DM_TEMPLATES": lambda p, n: p._flag(n, True),
    "DM_SQL_STACK": lambda p, n: p._flag(n, False),
    "DM_SQL_EXPLAIN_MS": lambda p, n: p._number(n, None, 0.0, 86_400_000.0),
    "DM_PROFILE": lambda p, n: p._profile(n),
    "DM_COMMANDS": lambda p, n: p._flag(n, True),
    "DM_LOGGING": lambda p, n: p._flag(n, True),
    "DM_INSTRUMENT_HTTP": lambda p, n: p._flag(n, True),
    "DM_COMMAND_PING": lambda p, n: p._number(n, DEFAULT_PING_S, 0.01, 86400.0),
    "DM_ALLOW_PRODUCTION": lambda p, n: p._flag(n, False),
}


def _as_raw(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def setting(name: str, fallback: object = None) -> Any:
    """The checked value of an integration setting (``DM_TEMPLATES``, ``DM_PROFILE``, ...).

    ``$<name>`` wins; else ``fallback`` (a framework's own setting of that name,
    ``None`` when it has none) is checked by the same rule; else the default. A
    value the setting does not take is refused as in :meth:`Config.from_env`:
    announced once on stderr, and the default is used. Never raises; an unknown
    ``name`` gives ``None``.
    """
    reader = _INTEGRATION.get(name)
    if reader is None:
        return None
    try:
        raw = os.environ.get(name)
        if raw is None and fallback is not None:
            raw = _as_raw(fallback)
        parser = _Parser({} if raw is None else {name: raw})
        value = reader(parser, name)
        announce(tuple(parser.refused))
        return value
    except Exception:  # the parser failing is no reason to break the caller
        return reader(_Parser({}), name)


_announced: set[str] = set()


def announce(refused: tuple[Refusal, ...]) -> None:
    """Print each refusal on stderr, once per process. Never raises."""
    for refusal in refused:
        text = refusal.as_text()
        if text in _announced:
            continue
        _announced.add(text)
        try:
            sys.stderr.write(f"dm_log: {text}\n")
            sys.stderr.flush()
        except Exception:  # no stderr, a closed one, an encoding it cannot take
            pass


_current: Config = Config.from_env()
announce(_current.refused)
_listeners: list[Callable[[Config], None]] = []


def current() -> Config:
    """The configuration in force."""
    return _current


# Values :func:`configure` checks the same way the environment's are checked.
_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "max_bytes": (
        lambda v: type(v) is int and MIN_CAP_BYTES <= v <= MAX_CAP_BYTES,
        f"a whole number of bytes between {MIN_CAP_BYTES} and {MAX_CAP_BYTES}",
    ),
    "max_line_bytes": (
        lambda v: type(v) is int and MIN_LINE_KB * 1024 <= v <= MAX_LINE_KB * 1024,
        f"a whole number of bytes between {MIN_LINE_KB * 1024} and {MAX_LINE_KB * 1024}",
    ),
    "cap_action": (lambda v: v in ("rotate", "stop"), "rotate or stop"),
    "service": (
        lambda v: isinstance(v, str) and 0 < len(v) <= MAX_SERVICE,
        f"text of 1 to {MAX_SERVICE} characters",
    ),
    "command_ping": (
        lambda v: isinstance(v, int | float) and math.isfinite(v) and 0.01 <= v <= 86400,
        "seconds between 0.01 and 86400",
    ),
}


def configure(**changes: Any) -> Config:
    """Replace fields of the configuration in force and reopen the writer.

    ``configure(log_dir="/tmp/logs", service="api")`` turns recording on from code;
    ``configure(log_dir=None)`` turns it off. Unknown names raise ``TypeError``;
    a value a setting cannot take is refused like a bad environment variable
    (the field keeps its value, the refusal goes to stderr and ``dm.config``).
    """
    global _current
    refused: list[Refusal] = []
    if "log_dir" in changes and changes["log_dir"] is not None:
        changes["log_dir"] = Path(str(changes["log_dir"])).expanduser().absolute()
    if isinstance(changes.get("service"), str):
        changes["service"] = clean_text(changes["service"])
    for name, (ok, wanted) in _CHECKS.items():
        if name in changes and not ok(changes[name]):
            keep = getattr(_current, name)
            refused.append(Refusal(name, repr(changes.pop(name))[:200], f"not {wanted}", str(keep)))
    if refused:
        announce(tuple(refused))
        changes["refused"] = (*changes.get("refused", _current.refused), *refused)
    _current = replace(_current, **changes)
    for listener in list(_listeners):
        listener(_current)
    return _current


def on_change(listener: Callable[[Config], None]) -> None:
    """Call ``listener(config)`` whenever :func:`configure` runs."""
    _listeners.append(listener)
