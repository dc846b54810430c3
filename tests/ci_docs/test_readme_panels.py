"""The README's panel section: every content type the schema knows is described, and each
example line, run with recording on, writes a valid panel the explorer reads back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import dm_log
from dm_explore.ingest import load_folder
from tests.conftest import assert_all_valid

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### Panels\n", 1)[1].split("\n## ", 1)[0]
EXAMPLES = re.search(r"```python\n(.*?)```", SECTION, re.S).group(1).splitlines()  # type: ignore[union-attr]
SCHEMA = json.loads((ROOT / "schema" / "kinds" / "panel.schema.json").read_text())
TYPES = SCHEMA["properties"]["type"]["enum"]


def test_every_type_has_a_row_and_an_example() -> None:
    rows = re.findall(r"^\| `(\w+)` \|", SECTION, re.M)
    assert rows == TYPES
    shown = {re.search(r'dm_log\.panel\("[^"]+", "(\w+)"', line).group(1) for line in EXAMPLES}  # type: ignore[union-attr]
    assert shown == set(TYPES)


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_writes_a_panel_the_explorer_shows(
    example: str, log_dir: Path, event_validator
) -> None:
    with dm_log.span("readme") as span:
        exec(example, {"dm_log": dm_log})
    events = assert_all_valid(log_dir, event_validator)  # no dm.invalid either
    (written,) = [e for e in events if e["event"] == "panel"]
    panels = load_folder(log_dir).model.span(span.span_id).panels  # type: ignore[union-attr]
    (entries,) = panels.values()
    (entry,) = entries
    assert entry["type"] == written["type"] and entry["content"] == written["content"]
    if entry["type"] == "table":
        assert entry["columns"] == ["student", "mode"]
        assert all(isinstance(row, list) and len(row) == 2 for row in entry["content"])
