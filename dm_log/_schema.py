"""The event schema, loaded from the JSON files in ``schema/`` (the only statement of the rules).

The root document dispatches on ``event`` with one ``if``/``then`` per kind; this
module reads that dispatch table and compiles a fast validator per kind with
``fastjsonschema``, from the same files, so the writer never holds a second copy
of the rules.

Validators are compiled on first use without any lock and published with one
dict assignment. A signal handler that logs while the same thread is compiling
a validator compiles its own copy instead of waiting on a lock that thread
already holds; two threads racing on a first use may both compile, and either
result is the same function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema

__all__ = ["ROOT_ID", "kind_refs", "schema_dir", "schema_store", "validator_for"]

ROOT_ID = "https://debug-monitor.dev/schema/v1/event.schema.json"
_BASE = ROOT_ID.rsplit("/", 1)[0] + "/"

Validator = Callable[[Any], object]


def schema_dir() -> Path:
    """The folder holding ``event.schema.json``, inside the installed package."""
    return Path(str(resources.files("dm_log") / "schema"))


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


def validator_for(kind: str, *, envelope: bool) -> Validator:
    """A compiled validator for ``kind``: its own fields, plus the envelope if asked.

    ``x.*`` kinds get the envelope's checks only; other unknown kinds get the
    root document's verdict, which refuses them.
    Raises ``fastjsonschema.JsonSchemaValueException`` on an invalid event.
    """
    ref = kind_refs().get(kind)
    # Every x.* kind shares one validator, every other unknown kind another.
    key = (kind if ref is not None else "x." if kind.startswith("x.") else "unknown", envelope)
    found = _validators.get(key)
    if found is not None:
        return found
    parts: list[dict[str, str]] = []
    if envelope or (ref is None and kind.startswith("x.")):
        # x.* kinds carry only the envelope's guarantees.
        parts.append({"$ref": _BASE + "envelope.schema.json"})
    if ref is not None:
        parts.append({"$ref": ref})
    elif not kind.startswith("x."):
        parts.append({"$ref": ROOT_ID})  # refuses the kind with the root's own message
    doc = {"$id": _BASE + f"compiled/{key[0]}.json", "allOf": parts}
    found = fastjsonschema.compile(doc, handlers={"https": _resolve})
    _validators[key] = found
    return found
