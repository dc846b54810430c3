"""The Sentry SDK way in: a transport that writes what Sentry captures as dm_log events.

A project that already reports to Sentry changes one argument::

    sentry_sdk.init(dsn=..., transport=dm_log.sentry.Transport)

and every event the SDK captures (``capture_exception``, ``capture_message``,
the logging integration, the framework integrations) is written to
``$DM_LOG_DIR`` instead of being sent: nothing leaves the machine, the DSN is
only parsed. The transport runs in the thread that captured the event, so the
events land in the current span (the request, task or test being recorded).

What each Sentry item becomes:

- an error event with an exception: an ``exception`` event for the exception
  raised last (the chained one before it becomes ``cause``), with its frames,
  ``in_app`` decided and ``fingerprint`` computed exactly as
  :func:`dm_log.capture_exception` does, ``mechanism`` ``sentry`` and the
  Sentry ``handled`` flag; preceded by a ``log`` event when the SDK also carried
  a message (``logger.exception("...")`` through the logging integration);
- an event with only a message: a ``log`` event with its level and logger;
- a structured log item (``enable_logs=True``): one ``log`` event per record;
- anything else (transactions, sessions, client reports, check-ins): dropped.

While recording is off (no ``DM_LOG_DIR``), the transport drops everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport as _SentryTransport

import dm_log

from ._frames import fingerprint, is_library_file

__all__ = ["Transport", "events_for"]

_LEVELS = {
    "fatal": "critical",
    "critical": "critical",
    "error": "error",
    "warning": "warning",
    "warn": "warning",
    "info": "info",
    "log": "info",
    "debug": "debug",
    "trace": "debug",
}
_PARAMETER = "sentry.message.parameter."
# Attributes the SDK adds to every structured log record: noise beside the envelope.
_SDK_ATTRIBUTES = ("sentry.", "process.runtime.", "server.address")
_MAX_FRAMES = 64
_MAX_SRC = 500


class Transport(_SentryTransport):
    """A Sentry transport that writes to the dm_log folder and never sends anything."""

    def capture_envelope(self, envelope: Envelope) -> None:
        if not dm_log.enabled():
            return
        try:
            for kind, fields in events_for(envelope):
                dm_log.record(kind, **fields)
        except Exception:  # a transport must never raise into the application
            pass


def events_for(envelope: Envelope) -> Iterable[tuple[str, dict[str, Any]]]:
    """The ``(kind, fields)`` pairs an envelope becomes, in order."""
    for item in envelope.items:
        if item.type == "event":
            event = item.get_event()
            if isinstance(event, Mapping):
                yield from _from_event(event)
        elif item.type == "log":
            payload = item.payload.json
            if isinstance(payload, Mapping):
                for record in payload.get("items") or ():
                    if isinstance(record, Mapping):
                        yield "log", _structured_log(record)


def _from_event(event: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    values = [v for v in (event.get("exception") or {}).get("values") or () if isinstance(v, dict)]
    message = _message(event)
    if message is not None or not values:
        log: dict[str, Any] = {
            "level": _LEVELS.get(str(event.get("level") or "error").lower(), "error"),
            "msg": message if message is not None else "",
        }
        if event.get("logger"):
            log["logger"] = str(event["logger"])
        yield "log", log
    if values:
        yield "exception", _exception(values, event.get("event_id"))


def _message(event: Mapping[str, Any]) -> str | None:
    entry = event.get("logentry")
    if isinstance(entry, Mapping):
        text = entry.get("formatted") or entry.get("message")
        if text is not None:
            return str(text)
    message = event.get("message")
    return str(message) if message is not None else None


def _type_name(value: Mapping[str, Any]) -> str:
    """The class name the way dm_log writes it: qualified unless builtin or ``__main__``."""
    name = str(value.get("type") or "Exception")
    module = value.get("module")
    return name if module in (None, "", "builtins", "__main__") else f"{module}.{name}"


def _frames(value: Mapping[str, Any]) -> list[dict[str, Any]]:
    frames = []
    for frame in (value.get("stacktrace") or {}).get("frames") or ():
        if not isinstance(frame, Mapping):
            continue
        path = str(frame.get("abs_path") or frame.get("filename") or "<unknown>")
        src = frame.get("context_line")
        src = str(src).strip() if src else None
        frames.append(
            {
                "file": path,
                "line": max(int(frame.get("lineno") or 0), 0),
                "func": str(frame.get("function") or "<unknown>"),
                "module": str(frame.get("module") or ""),
                "in_app": not is_library_file(path),
                "src": src[:_MAX_SRC] if src else None,
            }
        )
    if len(frames) > _MAX_FRAMES:
        frames = frames[: _MAX_FRAMES // 2] + frames[-_MAX_FRAMES // 2 :]
    return frames


def _exception(values: list[dict[str, Any]], event_id: Any) -> dict[str, Any]:
    """Sentry lists a chain oldest first: the last value is the exception that was raised."""
    value = values[-1]
    type_name = _type_name(value)
    frames = _frames(value)
    mechanism = value.get("mechanism") or {}
    cause = None
    if len(values) > 1:
        before = values[-2]
        cause = f"{_type_name(before)}: {before.get('value') or ''}"
    fields: dict[str, Any] = {
        "type": type_name,
        "message": str(value.get("value") or ""),
        "frames": frames,
        "fingerprint": fingerprint(type_name, frames),
        "handled": bool(mechanism.get("handled", True)),
        "mechanism": "sentry",
        "cause": cause,
    }
    if event_id:
        fields["sentry_event_id"] = str(event_id)
    return fields


def _structured_log(record: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "level": _LEVELS.get(str(record.get("level") or "info").lower(), "info"),
        "msg": str(record.get("body") or ""),
    }
    attributes = record.get("attributes")
    if isinstance(attributes, Mapping):
        plain: dict[str, Any] = {}
        for key, attr in attributes.items():
            value = attr.get("value") if isinstance(attr, Mapping) else attr
            key = str(key)
            if key.startswith(_PARAMETER):
                plain[key[len(_PARAMETER) :]] = value
            elif not key.startswith(_SDK_ATTRIBUTES):
                plain[key] = value
        logger = plain.pop("logger.name", None)
        if logger:
            fields["logger"] = str(logger)
        if plain:
            fields["fields"] = plain
    return fields
