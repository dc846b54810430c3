"""The event schema, loaded from the JSON files in ``schema/`` (the only statement of the rules).

The root document dispatches on ``event`` with one ``if``/``then`` per kind; this
module reads that dispatch table and compiles a fast validator per kind with
``fastjsonschema``, from the same files, so the writer never holds a second copy
of the rules.

Validators are compiled on first use without any lock and published with one
dict assignment; two threads racing on a first use may both compile, and either
result is the same function. A signal handler that logs while its own thread is
compiling a validator neither waits (there is no lock to wait on) nor compiles
(which would nest slow work inside slow work): :func:`validator_for` raises
:class:`ValidatorBusy` and the caller writes that one event unvalidated.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema

__all__ = [
    "ROOT_ID",
    "ValidatorBusy",
    "kind_refs",
    "schema_dir",
    "schema_store",
    "validator_for",
]

ROOT_ID = "https://debug-monitor.dev/schema/v1/event.schema.json"
_BASE = ROOT_ID.rsplit("/", 1)[0] + "/"

Validator = Callable[[Any], object]


def schema_dir() -> Path:
    """The folder holding ``event.schema.json``, inside the installed package.

    Found beside this file, not through ``importlib.resources``, whose lazy imports
    a signal handler could interrupt half done.
    """
    return Path(__file__).resolve().parent / "schema"


@cache
def schema_store() -> dict[str, dict[str, Any]]:
    """Every schema document keyed by its ``$id``."""
    store: dict[str, dict[str, Any]] = {}
    for path in sorted(schema_dir().rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        store[doc["$id"]] = doc
    return store


@cache
def kind_refs() -> dict[str, str]:
    """Map each known event kind to the absolute ``$ref`` of its own sub-schema."""
    refs: dict[str, str] = {}
    for part in schema_store()[ROOT_ID]["allOf"]:
        const = part.get("if", {}).get("properties", {}).get("event", {}).get("const")
        if const is not None:
            refs[const] = _BASE + part["then"]["$ref"]
    return refs


def _resolve(uri: str) -> dict[str, Any]:
    return schema_store()[uri.split("#", 1)[0]]


_validators: dict[tuple[str, bool], Validator] = {}
_building: set[int] = set()  # threads loading the schema or compiling a validator now
_MAX_NAMES = 4096


class ValidatorBusy(RuntimeError):
    """This thread is compiling a validator already (the caller is a signal handler)."""


def validator_for(kind: str, *, envelope: bool) -> Validator:
    """A compiled validator for ``kind``: its own fields, plus the envelope if asked.

    ``x.*`` kinds get the envelope's checks only; other unknown kinds get the
    root document's verdict, which refuses them.
    The validator raises ``fastjsonschema.JsonSchemaValueException`` on an
    invalid event. Raises :class:`ValidatorBusy` when called from a signal handler
    that interrupted this thread's own compile.
    """
    found = _validators.get((kind, envelope))
    if found is not None:
        return found
    me = threading.get_ident()
    if me in _building:  # loading the schema or compiling, interrupted by a signal handler
        raise ValidatorBusy(kind)
    _building.add(me)
    try:
        ref = kind_refs().get(kind)
        # Every x.* kind shares one validator, every other unknown kind another.
        name = kind if ref is not None else "x." if kind.startswith("x.") else "unknown"
        found = _validators.get((name, envelope)) or _compile(kind, ref, envelope, name)
    finally:
        _building.discard(me)
    _validators[(name, envelope)] = found
    if len(_validators) < _MAX_NAMES:  # past this, unknown kinds take the slower lookup
        _validators[(kind, envelope)] = found
    return found


def _compile(kind: str, ref: str | None, envelope: bool, name: str) -> Validator:
    parts: list[dict[str, str]] = []
    if envelope or (ref is None and kind.startswith("x.")):
        # x.* kinds carry only the envelope's guarantees.
        parts.append({"$ref": _BASE + "envelope.schema.json"})
    if ref is not None:
        parts.append({"$ref": ref})
    elif not kind.startswith("x."):
        parts.append({"$ref": ROOT_ID})  # refuses the kind with the root's own message
    doc = {"$id": _BASE + f"compiled/{name}.json", "allOf": parts}
    return fastjsonschema.compile(doc, handlers={"https": _resolve})
