"""Table rows given as mappings, and the site a refused panel names."""

from __future__ import annotations

import sys
from pathlib import Path

import dm_log
from tests.conftest import assert_all_valid, read_events


def _panels(folder: Path) -> list[dict]:
    return [e for e in read_events(folder) if e["event"] == "panel"]


def test_mapping_rows_become_columns_in_first_seen_order(log_dir: Path, event_validator) -> None:
    rows = [{"student": "ann", "mode": "audit"}, {"student": "bob", "seats": 2}]
    with dm_log.span("enroll"):
        dm_log.panel("Enrollment", "table", rows)
        dm_log.panel("Enrollment", "table", [["cy", "audit"]], columns=["a", "b"])
    first, second = _panels(log_dir)
    assert first["columns"] == ["student", "mode", "seats"]
    assert first["content"] == [["ann", "audit", None], ["bob", None, 2]]
    assert second["content"] == [["cy", "audit"]]  # rows as lists: unchanged
    assert_all_valid(log_dir, event_validator)


def test_given_columns_pick_and_order_the_keys(log_dir: Path) -> None:
    dm_log.panel("P", "table", [{"a": 1, "b": 2, "c": 3}], columns=["c", "a", "z"])
    (event,) = _panels(log_dir)
    assert event["columns"] == ["c", "a", "z"]
    assert event["content"] == [[3, 1, None]]


def test_secret_looking_columns_of_mapping_rows_are_redacted(log_dir: Path) -> None:
    dm_log.panel("Users", "table", [{"user": "ann", "password": "hunter2-long"}])
    (event,) = _panels(log_dir)
    assert event["content"] == [["ann", "[redacted]"]]
    assert "hunter2" not in (log_dir / next(p.name for p in log_dir.iterdir())).read_text()


def test_a_huge_mapping_table_is_bounded_and_says_how_many_rows_were_cut(log_dir: Path) -> None:
    dm_log.panel("Big", "table", [{"n": i} for i in range(100_000)])
    (event,) = _panels(log_dir)
    assert event["columns"] == ["n"]
    assert event["content"][0] == [0]
    assert len(event["content"]) <= 501
    assert "truncated" in str(event["content"][-1]) and "99500" in str(event["content"][-1])


def test_mixed_rows_are_refused_with_the_title_and_the_callers_line(log_dir: Path) -> None:
    line = sys._getframe().f_lineno + 1
    dm_log.panel("Mixed", "table", [{"a": 1}, [2]])
    (refused,) = [e for e in read_events(log_dir) if e["event"] == "dm.invalid"]
    assert refused["kind"] == "panel" and refused["panel"] == "Mixed"
    assert refused["call"]["file"] == __file__ and refused["call"]["line"] == line
    assert "in_app" not in refused["call"]


def test_a_plugin_in_an_installed_package_is_named_not_the_app_above_it(log_dir: Path) -> None:
    plugin = (
        "import dm_log\ndef show():\n    dm_log.panel('Seats', 'kv', ['not', 'a', 'mapping'])\n"
    )
    scope: dict = {}
    path = "/usr/lib/python3/site-packages/seats_plugin/panels.py"
    exec(compile(plugin, path, "exec"), scope)
    scope["show"]()  # the application's line: not what the plugin's author needs
    (refused,) = [e for e in read_events(log_dir) if e["event"] == "dm.invalid"]
    assert refused["call"] == {"file": path, "line": 3, "func": "show", "in_app": False}
    assert refused["panel"] == "Seats"
