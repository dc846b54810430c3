"""Helpers that feed a model one event at a time, as tests build small cases by hand."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from dm_explore.ingest.apply import Applier
from dm_explore.ingest.decode import decode_batch
from dm_explore.ingest.events import _UNION, TAGS, Event, Other
from dm_explore.model import Model, Problem

_appliers: dict[int, Applier] = {}


def _applier(model: Model) -> Applier:
    """One applier per model, as a reader has: it remembers the process of the line before."""
    found = _appliers.get(id(model))
    if found is None or found.model is not model:
        found = _appliers[id(model)] = Applier(model)
    return found


def event_from_dict(data: dict[str, Any]) -> Event | None:
    """A parsed line as the event the model takes; None if a known kind has mistyped fields."""
    if data.get("event") in TAGS:
        try:
            return msgspec.convert(data, _UNION)
        except msgspec.ValidationError:
            return None
    try:
        return Other(data)
    except (KeyError, msgspec.ValidationError):
        return None


def apply_event(model: Model, file_id: int, event: dict[str, Any]) -> None:
    """Apply one event already parsed into a dict; its problem, if any, goes to the file."""
    raw = orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS)
    typed = event_from_dict(event)
    path = model.files[file_id].path
    if typed is None:
        reason = f"{event.get('event')}: fields of the wrong type"
        model.add_problem(file_id, Problem(path, 0, "event", reason))
        return
    for problem in _applier(model).apply_batch(file_id, [typed], [raw]):
        model.add_problem(file_id, problem)


def apply_line(model: Model, file_id: int, raw: bytes) -> None:
    """Decode and apply one line as the reader does."""
    events, problems = decode_batch([raw], model.files[file_id].path)
    for problem in problems + _applier(model).apply_batch(file_id, events, [raw]):
        model.add_problem(file_id, problem)


def decode_line(raw: bytes) -> tuple[Event | None, str | None]:
    """``(event, None)`` for a usable line, ``(None, reason)`` for a bad one; blank: neither."""
    events, problems = decode_batch([raw])
    return events[0], problems[0].reason if problems else None
