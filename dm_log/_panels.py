"""Panel content the API accepts in more than one shape, made the one shape the file holds.

A ``table`` is written as ``columns`` (names) and ``content`` (rows, each a list of
cells). Callers may also give rows as mappings (``[{"name": "ann", "n": 1}, ...]``):
:func:`table_rows` turns them into lists, the columns being the given ``columns=`` or
else every key in first-seen order, a missing key an empty cell (null). Cells in a
column whose name looks secret (``password``, ``token``, ``key``...) are redacted, as
the values under such keys of a mapping are everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from typing import Any

from ._bounds import MAX_ITEMS
from ._redact import REDACTED, is_secret_key

__all__ = ["table_rows"]


def table_rows(content: Any, columns: Any) -> tuple[Any, Any]:
    """``(columns, rows)`` for a table panel; what cannot be read is returned as given.

    Only the first :data:`~dm_log._bounds.MAX_ITEMS` rows are converted (the rest are
    cut by the writer's bounds anyway, which count them). Rows that are all mappings
    are converted; any other content is returned as given (the schema judges it).
    """
    if not isinstance(content, list | tuple) or not content:
        return columns, content
    head = list(islice(content, MAX_ITEMS))
    rest = len(content) - len(head)
    if not all(isinstance(row, Mapping) for row in head):
        return columns, content
    if columns is None:
        seen: dict[Any, None] = {}
        for row in head:
            seen.update(dict.fromkeys(islice(row, MAX_ITEMS)))
        columns = list(seen)
    elif not isinstance(columns, list | tuple):
        return columns, content  # refused by the schema, as given
    keys = list(columns)
    secret = [is_secret_key(str(k)) for k in keys]
    pairs = list(zip(keys, secret, strict=True))
    rows: list[Any] = [
        [REDACTED if hide and key in row else row.get(key) for key, hide in pairs] for row in head
    ]
    if rest:
        rows += [None] * rest  # cut by the bounds, which say how many
    return [str(k) for k in keys], rows
