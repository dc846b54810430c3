"""Oversized and undecodable values: bounded before anything looks at them, never dropped."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import dm_log
from tests.conftest import read_events

ROOT = Path(__file__).resolve().parents[2]


def test_a_100_mb_table_is_cut_before_validation_in_bounded_memory(log_dir: Path) -> None:
    row = ["x" * 100, 1, 2.5]
    rows = [row] * 1_000_000  # 1M rows of ~110 bytes as JSON: a 100 MB table
    tracemalloc.start()
    try:
        dm_log.panel("Big", "table", rows, columns=["text", "n", "f"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, peak  # the first 500 rows, not the table
    panel = next(e for e in read_events(log_dir) if e["event"] == "panel")
    content = panel["content"]
    assert len(content) == 501 and content[0] == row
    assert content[-1] == ["…[truncated 999500]"]  # a row, so the table stays a table


def test_a_huge_string_and_a_huge_mapping_are_cut_visibly(log_dir: Path) -> None:
    dm_log.panel("Big", "text", "y" * 20_000_000)
    dm_log.panel("Big", "kv", {f"k{i}": i for i in range(100_000)})
    text, kv = [e for e in read_events(log_dir) if e["event"] == "panel"]
    assert len(text["content"]) < 17_000 and text["content"].endswith("chars]")
    assert len(kv["content"]) == 501 and kv["content"]["…"] == "…[truncated 99500]"


def test_undecodable_text_is_written_with_replacement_characters(log_dir: Path) -> None:
    bad = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    dm_log.panel("Files", "kv", {bad: bad, "list": [bad, {"deep": bad}]})
    dm_log.record("log", level="info", msg=f"opened {bad}", logger="fs")
    with dm_log.span("work", path=bad):
        pass
    events = read_events(log_dir)
    assert not [e for e in events if e["event"] in ("dm.invalid", "dm.dropped")]
    panel = next(e for e in events if e["event"] == "panel")
    assert panel["content"]["caf\ufffd \ufffd"] == "caf\ufffd \ufffd"
    assert panel["content"]["list"][1]["deep"] == "caf\ufffd \ufffd"
    assert next(e for e in events if e["event"] == "log")["msg"] == "opened caf\ufffd \ufffd"


def test_a_non_utf8_argv_keeps_process_start_and_the_first_event(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DM_")}
    env.update(DM_LOG_DIR=str(folder), PYTHONPATH=str(ROOT))
    code = "import dm_log; dm_log.metric('first', 1)"
    subprocess.run(
        [sys.executable, "-c", code, b"\xff\xfe".decode("utf-8", "surrogateescape"),
         "postgres://app:pw-in-argv-123@db/shop"],
        env=env, check=True, timeout=60,
    )  # fmt: skip
    events = read_events(folder)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "process.start" and "metric" in kinds and "dm.dropped" not in kinds
    argv = events[0]["argv"]
    assert argv[1] == "\ufffd\ufffd"
    assert argv[2] == "postgres://app:[redacted]@db/shop"
