"""What kind of statement a piece of SQL is, and its shape with the values taken out.

:func:`is_transaction_control` is the one predicate every SQL analysis shares:
``BEGIN``, ``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``, ``RELEASE`` (and ``START
TRANSACTION``, ``END``) say where a transaction starts and stops; they repeat by
design and are never duplicates, N+1 suspects or findings.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["is_transaction_control", "normalize_sql"]

_CONTROL_WORDS = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END", "START"})
_FIRST_WORD = re.compile(r"\s*(?:/\*.*?\*/\s*)*([A-Za-z]+)", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w\"$])-?\d+(?:\.\d+)?(?![\w\"])")
_PLACEHOLDERS = re.compile(r"\(\s*(?:%s|\?|\$\d+)(?:\s*,\s*(?:%s|\?|\$\d+))+\s*\)")
_ROWS = re.compile(r"\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def is_transaction_control(sql: str) -> bool:
    """True for ``BEGIN``, ``COMMIT``, ``ROLLBACK``, ``SAVEPOINT``, ``RELEASE`` and the like.

    ``START`` counts only as ``START TRANSACTION``; ``END`` only alone or as
    ``END TRANSACTION`` / ``END WORK``. Leading comments are skipped.
    """
    match = _FIRST_WORD.match(sql)
    if match is None:
        return False
    word = match.group(1).upper()
    if word not in _CONTROL_WORDS:
        return False
    rest = sql[match.end() :].strip().rstrip(";").strip().upper()
    if word == "START":
        return rest.startswith("TRANSACTION")
    if word == "END":
        return rest in ("", "TRANSACTION", "WORK")
    return True


@lru_cache(maxsize=8192)
def normalize_sql(sql: str) -> str:
    """``sql`` with literals replaced by ``?`` and placeholder lists folded: its shape.

    ``WHERE id IN (%s, %s, %s)`` and ``IN (%s, %s)`` are one shape, as are
    ``WHERE id = 7`` and ``WHERE id = 8``; whitespace runs become one space.
    """
    text = _STRING.sub("?", sql)
    text = _NUMBER.sub("?", text)
    text = _PLACEHOLDERS.sub("(...)", text)
    text = _ROWS.sub("(...)", text)
    return _SPACE.sub(" ", text).strip()
