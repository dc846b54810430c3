"""docs/format.md shows one valid example line for every kind the schema knows."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from dm_log._schema import kind_refs

DOC = Path(__file__).resolve().parents[1] / "docs" / "format.md"


def _examples() -> list[dict]:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    return [orjson.loads(line) for block in blocks for line in block.splitlines() if line.strip()]


def test_every_example_validates(event_validator) -> None:
    examples = _examples()
    assert examples
    for example in examples:
        errors = [e.message for e in event_validator.iter_errors(example)]
        assert not errors, (example["event"], errors)


def test_every_kind_has_an_example() -> None:
    shown = {e["event"] for e in _examples()}
    missing = set(kind_refs()) - shown
    assert not missing, missing
    assert any(k.startswith("x.") for k in shown)
