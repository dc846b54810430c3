"""Each dm-explore command on the fixture folder: output and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from dm_explore.cli import main
from tests.explore.fixtures import T1, Writer, three_services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return three_services(tmp_path / "logs")


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_check_lists_every_bad_line_and_exits_1(folder: Path) -> None:
    result = _cli("check", str(folder))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    garbage = [line for line in lines if "garbage.jsonl:" in line]
    assert [line.split(":")[1] for line in garbage] == ["1", "2", "4", "5"]
    assert any("api.h1.202.jsonl:16: unfinished last line" in line for line in lines)
    assert lines[-1].startswith("INVALID:")


def test_check_passes_a_clean_folder(tmp_path: Path) -> None:
    w = Writer("web", 1).ev("log", 1.0, level="info", msg="fine")
    w.write(tmp_path / "ok.jsonl")
    result = _cli("check", str(tmp_path))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "OK: 1 files, 1 lines, 0 problems"


def test_summary_json_has_the_documented_keys(folder: Path) -> None:
    result = _cli("summary", str(folder), "--json")
    assert result.returncode == 0  # invalid lines are counted, not fatal
    data = orjson.loads(result.stdout)
    assert data["files"] == 9 and data["invalid_lines"] == 4
    assert data["services"] == ["api", "archive", "g", "manage", "web", "worker"]
    assert data["requests"] == 5 and data["traces"] == 4 and data["issues"] == 1
    assert data["commands"] == {
        "STARTED": 0,
        "RUNNING": 0,
        "FINISHED": 0,
        "FAILED": 0,
        "SYSTEM_KILL": 1,
    }
    assert isinstance(data["events"], int) and data["events"] > 30
    assert data["slowest_requests"][0]["path"] == "/courses/"
    assert data["n_plus_one"][0]["count"] == 6


def test_summary_text(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "requests    5 in 4 traces" in out and "SYSTEM_KILL 1" in out
    assert "findings    2 (grouped by fingerprint" in out
    assert "  n_plus_one       api  GET /api/  runs 1, 6x at most: SELECT * FROM enrollment" in out


def test_tree_by_prefix(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tree", str(folder), T1[:10]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"trace {T1}")
    assert lines[1].startswith("request GET /courses/ 200  [web]")
    assert lines[2].startswith("  http GET http://127.0.0.1:8001/api/ 200  [web]")
    assert lines[3].startswith("    request GET /api/ 200  [api]") and "sql=8 errors=1" in lines[3]
    assert lines[4].startswith("      task courses.tasks.recount  [worker]")
    assert main(["tree", str(folder), "ffff"]) == 1


def test_missing_or_unreadable_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for command in ("check", "summary", "tail"):
        result = _cli(command, str(tmp_path / "nope"))
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "not a folder" in result.stderr


def test_output_has_no_control_characters(tmp_path: Path) -> None:
    w = Writer("evil\x1b]0;title\x07", 1)
    w.ev(
        "request.start",
        1.0,
        T1,
        "1000000000000001",
        method="GET",
        path="/[red]x[/red]\x1b[2J\u202eabc",
    )
    w.ev("request.end", 1.1, T1, "1000000000000001", ms=1.0, outcome="ok", status=200)
    w.ev(
        "log",
        1.2,
        T1,
        "1000000000000001",
        level="error",
        msg="bell\x07 csi\x9b osc\x1b]52;c;eA==\x07",
    )
    w.write(tmp_path / "evil.jsonl")
    for args in (
        ["summary", str(tmp_path)],
        ["tree", str(tmp_path), T1],
        ["tail", str(tmp_path), "--no-follow"],
    ):
        out = _cli(*args).stdout
        assert "[red]x[/red]" in out or args[0] == "tail"
        for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert bad not in out, (args, bad)
    assert "\\x1b" in _cli("tail", str(tmp_path), "--no-follow").stdout


def test_tail_merges_in_time_order_and_follows(tmp_path: Path) -> None:
    a, b = Writer("a", 1), Writer("b", 2)
    a.ev("log", 1.0, level="info", msg="first").ev("log", 3.0, level="info", msg="third")
    b.ev("log", 2.0, level="info", msg="second")
    a.write(tmp_path / "a.jsonl")
    b.write(tmp_path / "b.jsonl")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dm_explore.cli", "tail", str(tmp_path), "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        first = [orjson.loads(proc.stdout.readline())["msg"] for _ in range(3)]
        assert first == ["first", "second", "third"]
        time.sleep(0.5)
        Writer("c", 3).ev("log", 4.0, level="info", msg="new file").write(
            tmp_path / "sub" / "c.jsonl"
        )
        with open(tmp_path / "a.jsonl", "ab") as f:
            f.write(Writer("a", 1).ev("log", 5.0, level="info", msg="appended").lines[0])
        got = {orjson.loads(proc.stdout.readline())["msg"] for _ in range(2)}
        assert got == {"new file", "appended"}
        (tmp_path / "b.jsonl").write_bytes(
            Writer("b", 2).ev("log", 6.0, level="info", msg="after truncation").lines[0]
        )
        assert orjson.loads(proc.stdout.readline())["msg"] == "after truncation"
    finally:
        proc.kill()
        proc.wait()
