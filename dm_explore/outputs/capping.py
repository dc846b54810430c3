"""An answer bounded in size, with a note saying what was cut.

:func:`cap` turns a JSON-ready dict into JSON text of at most ``max_chars``
characters. Long strings are shortened first; then the list taking the most
room is halved (its first items kept: lists come most relevant first), again
and again. Each cut is listed under ``"truncated"``, so a reader knows the
answer is partial and where; nothing is dropped silently.
"""

from __future__ import annotations

from typing import Any

from .textsafe import safe_json

__all__ = ["DEFAULT_MAX_CHARS", "cap"]

DEFAULT_MAX_CHARS = 40_000  # about 10,000 tokens
LONG_STRING = 1000  # characters of one string kept once an answer is too large
_NOTE = (
    "this answer was cut to fit {max_chars} characters; ask for less "
    "(a smaller limit, a filter, one span) to see what was left out"
)


def _strings(value: Any, limit: int, counter: list[int]) -> Any:
    """``value`` with every string longer than ``limit`` shortened (counted in ``counter``)."""
    if isinstance(value, str):
        if len(value) > limit:
            counter[0] += 1
            return value[:limit] + f"… [{len(value) - limit} more characters]"
        return value
    if isinstance(value, dict):
        return {k: _strings(v, limit, counter) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strings(v, limit, counter) for v in value]
    return value


def _lists(value: Any, path: str, found: list[tuple[int, str, list[Any]]]) -> None:
    """Every list of two items or more under ``value``, with its size as JSON and its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            _lists(item, f"{path}.{key}" if path else str(key), found)
    elif isinstance(value, list):
        if len(value) > 1:
            found.append((len(safe_json(value)), path or "(answer)", value))
        for index, item in enumerate(value[:50]):
            _lists(item, f"{path}[{index}]", found)


def cap(data: dict[str, Any], max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """``data`` as JSON text of at most ``max_chars`` characters, cuts noted under ``truncated``."""
    text = safe_json(data)
    if len(text) <= max_chars:
        return text
    counter = [0]
    data = _strings(data, LONG_STRING, counter)
    cuts: list[str] = []
    if counter[0]:
        cuts.append(f"{counter[0]} strings longer than {LONG_STRING} characters shortened")
    kept: dict[str, tuple[int, int]] = {}  # path -> (items at first, items now)
    budget = max_chars - 600  # room for the note itself
    for _round in range(200):
        text = safe_json(data)
        if len(text) <= budget:
            break
        found: list[tuple[int, str, list[Any]]] = []
        _lists(data, "", found)
        if not found:
            break
        _size, path, biggest = max(found, key=lambda item: item[0])
        before = kept.get(path, (len(biggest), 0))[0]
        del biggest[(len(biggest) + 1) // 2 :]
        kept[path] = (before, len(biggest))
    cuts += [f"{path}: {now} of {before} items kept" for path, (before, now) in kept.items()]
    data["truncated"] = {"note": _NOTE.format(max_chars=max_chars), "cuts": cuts}
    text = safe_json(data)
    if len(text) > max_chars:
        counter = [0]
        data = _strings(data, 100, counter)
        data["truncated"]["cuts"].append("every string shortened to 100 characters")
        text = safe_json(data)
    if len(text) > max_chars:
        text = safe_json(
            {"error": "the answer does not fit even when cut", "truncated": data["truncated"]}
        )[:max_chars]
    return text
