"""SQL parameters bound to secret-looking columns: found once per statement text, then redacted.

``WHERE "password" = %s``, ``INSERT INTO t ("token", ...) VALUES (...)`` and named
placeholders (``%(api_key)s``, ``:secret``) mark the parameter at that position (or of
that name) as secret; its value becomes ``[redacted]`` and is remembered, so it is
scrubbed from the span's later text too.
"""

from __future__ import annotations

import re
from typing import Any

from ._bounds import MAX_STRING
from ._redact_text import REDACTED, is_secret_key, remember

__all__ = ["NO_SLOTS", "Slots", "redact_sql_params", "slots_of", "sql_slots"]

# The secret placeholders of a statement: their positions, and their names (named styles).
Slots = tuple[frozenset[int], frozenset[str]]

_PLACEHOLDER = re.compile(r"%s|%\((\w+)\)s|\?|:(\w+)|\$\d+")
_LHS = re.compile(r"""["`\[]?(\w+)["`\]]?\s*(?:=|<>|!=|<|>|<=|>=|\bLIKE|\bIN\s*\(\s*)\s*$""", re.I)
_INSERT = re.compile(r"INSERT\s+INTO\s+\S+\s*\(([^)]*)\)\s*VALUES", re.I)


NO_SLOTS: Slots = (frozenset(), frozenset())
# Per SQL text, the secret placeholders found in it: statements repeat, so the scan of
# each text runs once (bounded; cleared when full).
sql_slots: dict[str, Slots] = {}
_MAX_SQL_TEXTS = 2048


def slots_of(sql: str) -> Slots:
    """The placeholders of ``sql`` bound to secret-looking columns (kept per text)."""
    found = sql_slots.get(sql)
    if found is None:
        found = _sql_secret_slots(sql[:MAX_STRING])
        if not found[0] and not found[1]:
            found = NO_SLOTS
        if len(sql_slots) >= _MAX_SQL_TEXTS:
            sql_slots.clear()
        if len(sql) <= MAX_STRING:
            sql_slots[sql] = found
    return found


def _sql_secret_slots(sql: str) -> Slots:
    """Positions (and names, for named styles) of placeholders bound to secret columns."""
    positions: set[int] = set()
    names: set[str] = set()
    insert = _INSERT.search(sql)
    columns = (
        [c.strip().strip('"`[]') for c in insert.group(1).split(",")] if insert is not None else []
    )
    values_at = insert.end() if insert is not None else -1
    for index, m in enumerate(_PLACEHOLDER.finditer(sql)):
        name = m.group(1) or m.group(2)
        column: str | None = None
        if values_at >= 0 and m.start() > values_at and columns:
            column = columns[index % len(columns)]
        else:
            lhs = _LHS.search(sql, max(0, m.start() - 120), m.start())
            column = lhs.group(1) if lhs is not None else None
        if (column and is_secret_key(column)) or (name and is_secret_key(name)):
            positions.add(index)
            if name:
                names.add(name)
    return frozenset(positions), frozenset(names)


def _hide(value: Any, secrets: set[str]) -> str:
    if type(value) is str:
        remember(secrets, value)
    return REDACTED


def redact_sql_params(slots: Slots, params: Any, secrets: set[str]) -> Any:
    """Bounded SQL parameters with the values bound to secret-looking columns redacted.

    ``params`` is a list (``%s``/``?`` styles), a list of lists (executemany), or
    a mapping (named styles), already bounded; ``slots`` are the
    statement's secret positions and names.
    """
    positions, names = slots
    if type(params) is dict:
        return {k: _hide(v, secrets) if k in names else v for k, v in params.items()}
    if type(params) is list:
        if params and type(params[0]) in (list, dict):  # executemany: rows
            return [redact_sql_params(slots, row, secrets) for row in params]
        return [_hide(v, secrets) if i in positions else v for i, v in enumerate(params)]
    return params
