"""``context_keys`` of a template span: every key the template can see, innermost layer
first, each once, text keys only, at most 40; values described for the new layers only
(those an enclosing template has not described), secret-looking keys redacted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.django


def _walked(layers: list[Any], described: int) -> tuple[list[str], list[str]]:
    """The keys key by key, and those whose values are described: the definition."""
    seen: list[str] = []
    described_keys: list[str] = []
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if layer == {"True": True, "False": False, "None": None}:
            continue
        for key in layer:
            if key in seen or not isinstance(key, str):
                continue
            seen.append(key)
            if i >= described:
                described_keys.append(key)
            if len(seen) >= 40:
                return seen, described_keys
    return seen, described_keys


def _context(*layers: dict[Any, Any]) -> Any:
    from django.template import Context

    context = Context(layers[0])
    for layer in layers[1:]:
        context.push(layer)  # a ContextDict, as {% for %} and {% with %} push
    return context


@pytest.mark.parametrize(
    "layers",
    [
        [{"title": "t", "rows": [1]}, {"forloop": {}, "row": 1}],
        [{f"k{i}": i for i in range(30)}, {f"j{i}": i for i in range(15)}, {"row": 1}],
        [{f"k{i}": i for i in range(39)}, {"k1": 0, "z": 1}, {"row": 1}],
        [{f"k{i}": i for i in range(38)}, {"a": 1, "b": 2}],
        [{"a": 1, 2: "two", "b": 3}, {"b": 1, "c": 2}, {"row": 1}],
        [{f"k{i}": i for i in range(60)}, {"row": 1}],
        [{"row": 1, "api_token": "s3cret-value"}, {"forloop": {}}],
    ],
    ids=["include", "two-old-layers", "overlap-at-the-limit", "exactly-40", "number-key",
         "over-the-limit", "secret-key"],
)  # fmt: skip
@pytest.mark.parametrize("described", [0, 1, 2, 3])
def test_keys_and_described_values(django_setup: Path, layers: list[dict], described: int) -> None:
    from dm_log import REDACTED
    from dm_log.django.templates import _context_fields

    context = _context(*layers)
    keys, values = _context_fields(context.dicts, described)
    want_keys, want_described = _walked(context.dicts, described)
    assert keys == want_keys
    assert list(values) == want_described
    if "api_token" in values:
        assert values["api_token"] == REDACTED
