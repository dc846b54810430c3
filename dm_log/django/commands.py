"""Management commands: the Django Command Monitoring seed, on the event stream.

Once the app is installed every command run through ``manage.py`` (or
``django-admin``) is a ``command`` span:

* ``command.start`` with the command name and its parameters (the writer
  redacts secret-looking option names), and the heartbeat interval;
* ``command.heartbeat`` every ``DM_COMMAND_PING`` seconds (setting or env var,
  default 30) from a daemon thread, so a run that stops without a word
  (SIGKILL, OOM killer, a restarted container) can be told apart from one still
  running: the explorer calls it SYSTEM_KILL;
* ``progress`` events from :func:`progress` / :func:`track` in loops;
* ``command.end`` with ``status`` FINISHED or FAILED (``exc_type`` and
  ``exc_message``), after the exception itself was recorded.

The command's SQL and log records hang under its span, and so does its output:
each ``self.stdout.write()`` / ``self.stderr.write()`` of the running command is a
``log`` event (logger ``command.stdout`` at ``info``, ``command.stderr`` at
``warning``, styling removed). dm_log's wrappers leave no frame in the traceback
of a failing command. Opt out per run with
``--disable-monitor``; turn it all off with ``DM_COMMANDS = False``; long-running
servers and shells are skipped (``DM_COMMANDS_EXCLUDE`` replaces that list).
:class:`MonitoredCommand` monitors explicitly, also under ``call_command``.
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandParser, OutputWrapper

import dm_log

from . import panels
from .conf import active, checked, hide_frame, setting

__all__ = ["MonitoredCommand", "install_command_monitor", "ping_interval", "progress", "track"]

T = TypeVar("T")
OPT_OUT = ("--disable-monitor", "--disable_monitor")
DEFAULT_EXCLUDE = frozenset(
    {
        "runserver", "runserver_plus", "testserver", "runworker", "runmodwsgi", "daphne",
        "shell", "shell_plus", "dbshell", "test", "celery", "uvicorn", "gunicorn",
    }
)  # fmt: skip
_INTERNAL_OPTIONS = frozenset(
    {"stdout", "stderr", "skip_checks", "no_color", "force_color", "disable_monitor"}
)
_installed = False


def ping_interval() -> float:
    """Seconds between heartbeats: ``DM_COMMAND_PING`` from the environment, else settings."""
    return float(checked("DM_COMMAND_PING"))


def _enabled_for(name: str) -> bool:
    if not active():
        return False
    if not checked("DM_COMMANDS"):
        return False
    exclude = setting("DM_COMMANDS_EXCLUDE", None)
    return name not in (DEFAULT_EXCLUDE if exclude is None else frozenset(exclude))


def _name(command: BaseCommand) -> str:
    name = getattr(command, "_dm_log_name", None)
    return name or type(command).__module__.rsplit(".", 1)[-1]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value[:50]]
    return repr(value)[:500]


def _params(args: tuple[Any, ...], options: dict[str, Any]) -> dict[str, Any]:
    params = {k: _jsonable(v) for k, v in options.items() if k not in _INTERNAL_OPTIONS}
    if args:
        params["args"] = [_jsonable(a) for a in args]
    return params


class _Heartbeat:
    """A daemon thread writing ``command.heartbeat`` in the command's span until stopped."""

    def __init__(self, name: str, interval: float) -> None:
        self.name, self.interval = name, interval
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the command span is current in it
        self._thread = threading.Thread(
            target=context.run, args=(self._run,), name=f"dm-heartbeat-{name}", daemon=True
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                dm_log.record("command.heartbeat", command=self.name, interval=self.interval)
            except Exception:
                pass

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)


def run_monitored(
    command: BaseCommand,
    execute: Callable[..., Any],
    args: tuple[Any, ...],
    options: dict[str, Any],
) -> Any:
    """Run ``execute(command, *args, **options)`` inside a ``command`` span."""
    name = _name(command)
    try:
        panels.write_once()
        interval = ping_interval()
        span = dm_log.start_span(
            "command", command=name, params=_params(args, options), interval=interval
        )
        heartbeat = _Heartbeat(name, interval)
        heartbeat.start()
    except Exception:
        return execute(command, *args, **options)
    command._dm_log_running = True
    running = _running.set(command)
    try:
        result = execute(command, *args, **options)
    except SystemExit as exc:
        heartbeat.stop()
        if exc.code in (0, None):
            span.end(outcome="ok", command=name, status="FINISHED")
        else:
            span.end(
                outcome="error", command=name, status="FAILED",
                exc_type="SystemExit", exc_message=str(exc.code),
            )  # fmt: skip
        raise
    except BaseException as exc:
        hide_frame(exc, run_monitored.__code__)
        heartbeat.stop()
        dm_log.capture_exception(exc, handled=False, mechanism="command")
        span.end(
            outcome="error", error=exc, command=name, status="FAILED",
            exc_type=type(exc).__name__, exc_message=str(exc)[:2000],
        )  # fmt: skip
        raise
    else:
        heartbeat.stop()
        span.end(outcome="ok", command=name, status="FINISHED")
        return result
    finally:
        _running.reset(running)
        command._dm_log_running = False


def _should_monitor(command: BaseCommand, options: dict[str, Any]) -> bool:
    if getattr(command, "_dm_log_running", False) or getattr(command, "_dm_log_off", False):
        return False
    if options.get("disable_monitor"):
        return False
    from_cli = getattr(command, "_dm_log_name", None) is not None
    return (from_cli or isinstance(command, MonitoredCommand)) and _enabled_for(_name(command))


_original_execute = BaseCommand.execute
_original_run_from_argv = BaseCommand.run_from_argv


def _execute(self: BaseCommand, *args: Any, **options: Any) -> Any:
    try:
        monitor = _should_monitor(self, options)
    except Exception:
        monitor = False
    try:
        if not monitor:
            return _original_execute(self, *args, **options)
        return run_monitored(self, _original_execute, args, options)
    except BaseException as exc:
        hide_frame(exc, _execute.__code__)
        raise


def _run_from_argv(self: BaseCommand, argv: list[str]) -> None:
    if any(a in OPT_OUT for a in argv[2:]):
        argv = argv[:2] + [a for a in argv[2:] if a not in OPT_OUT]
        self._dm_log_off = True
    elif len(argv) > 1:
        self._dm_log_name = argv[1]
    try:
        _original_run_from_argv(self, argv)
    except BaseException as exc:
        hide_frame(exc, _run_from_argv.__code__)
        raise


_running: contextvars.ContextVar[BaseCommand | None] = contextvars.ContextVar(
    "dm_log_django_command", default=None
)
_original_write = OutputWrapper.write
_STYLE = re.compile(r"\x1b\[[0-9;]*m")


def _write(
    self: OutputWrapper, msg: str = "", style_func: Any = None, ending: str | None = None
) -> None:
    command = _running.get()
    if command is not None:
        stream = (
            "stdout" if self is command.__dict__.get("stdout")
            else "stderr" if self is command.__dict__.get("stderr") else None
        )  # fmt: skip
        if stream is not None:
            _record_output(stream, msg)
    _original_write(self, msg, style_func, ending)


def _record_output(stream: str, msg: Any) -> None:
    try:
        text = _STYLE.sub("", str(msg)).rstrip("\n")
        if text:
            level = "info" if stream == "stdout" else "warning"
            dm_log.record("log", level=level, msg=text, logger=f"command.{stream}")
    except Exception:
        pass


def install_command_monitor() -> None:
    """Monitor every command run from the command line (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    BaseCommand.execute = _execute
    BaseCommand.run_from_argv = _run_from_argv
    OutputWrapper.write = _write


class MonitoredCommand(BaseCommand):
    """A ``BaseCommand`` monitored however it is run, ``call_command`` included.

    Adds ``--disable-monitor`` to the command's options and the
    :meth:`progress` / :meth:`track` helpers.
    """

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--disable-monitor", "--disable_monitor", action="store_true", dest="disable_monitor",
            help="Do not record this run with debug-monitor.",
        )  # fmt: skip
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            if _installed:
                return super().execute(*args, **options)  # the patched BaseCommand.execute
            if _should_monitor(self, options):
                return run_monitored(self, _original_execute, args, options)
            return _original_execute(self, *args, **options)
        except BaseException as exc:
            hide_frame(exc, MonitoredCommand.execute.__code__)
            raise

    def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        progress(done, total, message)

    def track(
        self, items: Iterable[T], total: int | None = None, message: str | None = None
    ) -> Iterator[T]:
        return track(items, total, message)


def progress(done: float, total: float | None = None, message: str | None = None) -> None:
    """Report how far the running command's loop has come (a ``progress`` event)."""
    try:
        dm_log.progress(done, total, message)
    except Exception:
        pass


def track(
    items: Iterable[T], total: int | None = None, message: str | None = None, every: float = 0.5
) -> Iterator[T]:
    """Yield ``items``, writing ``progress`` at most every ``every`` seconds and at the end."""
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    done = 0
    last = time.monotonic()
    progress(0, total, message)
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= every:
            last = now
            progress(done, total, message)
    progress(done, total, message)
