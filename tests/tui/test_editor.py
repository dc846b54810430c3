"""``e`` opens the file and line of the row in front in the user's editor.

The editor is a stand-in: a script named like a real editor (``vim``, ``code``)
that writes its arguments to a file and exits, so the test sees exactly the
command a user's editor would get. Paths recorded in a "container" (``/app``)
are mapped to the real folder with ``DM_PATH_MAP``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest

from dm_explore.tui.app import ExplorerApp
from dm_explore.tui.editor import editor_command, frame_location, is_installed, map_path
from tests.explore.fixtures import Writer

SIZE = (160, 45)
TRACE, CMD = "c" * 32, "c" * 16


def stand_in(folder: Path, name: str, record: Path) -> Path:
    """An executable called ``name`` that writes each argument on a line of ``record``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def failed_command_folder(root: Path) -> Path:
    """A folder whose one command run failed in /app/jobs/rebuild.py at line 12."""
    folder = root / "logs"
    folder.mkdir(parents=True)
    frames = [
        {"file": "/app/manage.py", "line": 3, "func": "main", "in_app": True},
        {"file": "/app/jobs/rebuild.py", "line": 12, "func": "handle", "in_app": True},
        {"file": "/usr/lib/python3/site-packages/django/db.py", "line": 90, "func": "x"},
    ]
    w = Writer("jobs", 4242)
    w.ev("command.start", 1.0, TRACE, CMD, command="rebuild", params={})
    w.ev("exception", 1.5, TRACE, CMD, type="ValueError", message="bad row", frames=frames,
         fingerprint="00000000000000aa", handled=False)  # fmt: skip
    w.ev("command.end", 2.0, TRACE, CMD, ms=1000.0, outcome="error", status="FAILED")
    w.write(folder / "jobs.jsonl")
    with open(folder / "jobs.jsonl", "ab") as out:
        out.write(b"{not json\n")  # line 4: the Files view opens the file there
    refused = {  # a panel its writer refused, naming the plugin's line that called it
        "v": 1, "ts": "2026-11-23T09:00:03.000000Z", "event": "dm.invalid", "svc": "plugin",
        "host": "h1", "pid": 4343, "seq": 0, "kind": "panel", "errors": ["content: not a mapping"],
        "call": {"file": "/app/plugins/seats.py", "line": 27, "func": "panel"}, "data": "['x']",
    }  # fmt: skip
    (folder / "plugin.jsonl").write_bytes(orjson.dumps(refused) + b"\n")
    return folder


# -- the command, per editor family ------------------------------------------------------


@pytest.mark.parametrize(
    ("editor", "expected"),
    [
        ("vim", ["vim", "+7", "/src/a.py"]),
        ("/usr/bin/nvim", ["/usr/bin/nvim", "+7", "/src/a.py"]),
        ("nano", ["nano", "+7", "/src/a.py"]),
        ("emacsclient -nw", ["emacsclient", "-nw", "+7", "/src/a.py"]),
        ("micro", ["micro", "+7", "/src/a.py"]),
        ("hx", ["hx", "+7", "/src/a.py"]),
        ("kak", ["kak", "+7", "/src/a.py"]),
        ("code --wait", ["code", "--wait", "-g", "/src/a.py:7"]),
        ("cursor", ["cursor", "-g", "/src/a.py:7"]),
        ("subl", ["subl", "/src/a.py:7"]),
        ("zed", ["zed", "/src/a.py:7"]),
        ("gedit", ["gedit", "/src/a.py"]),
    ],
)
def test_each_family_gets_its_line_syntax(editor: str, expected: list[str]) -> None:
    assert editor_command("/src/a.py", 7, {"EDITOR": editor}) == expected


def test_visual_before_editor_and_dm_editor_before_both() -> None:
    env = {"VISUAL": "subl", "EDITOR": "vim"}
    assert editor_command("/a b.py", 3, env) == ["subl", "/a b.py:3"]
    env["DM_EDITOR"] = "idea --line {line} '{file}'"
    assert editor_command("/a b.py", 3, env) == ["idea", "--line", "3", "/a b.py"]
    assert editor_command("/a.py", 3, {}) is None, "no editor set: nothing to run"
    assert editor_command("/a.py", None, {"EDITOR": "vi"}) == ["vi", "+1", "/a.py"]


def test_path_map_longest_prefix_and_several_pairs() -> None:
    env = {"DM_PATH_MAP": "/app=/home/me/src, /app/vendor=/opt/vendor,/srv/=/data"}
    assert map_path("/app/shop/views.py", env) == "/home/me/src/shop/views.py"
    assert map_path("/app/vendor/lib.py", env) == "/opt/vendor/lib.py"
    assert map_path("/srv/x.py", env) == "/data/x.py"
    assert map_path("/application/x.py", env) == "/application/x.py", "a whole segment only"
    env["EDITOR"] = "vim"
    assert editor_command("/app/x.py", 2, env) == ["vim", "+2", "/home/me/src/x.py"]


def test_an_installed_package_opens_read_only_where_the_editor_can() -> None:
    lib = "/venv/lib/python3.11/site-packages/django/db/models/query.py"
    assert is_installed(lib) and not is_installed("/home/me/src/shop/views.py")
    assert editor_command(lib, 9, {"EDITOR": "vim"}) == ["vim", "-R", "+9", lib]
    assert editor_command(lib, 9, {"EDITOR": "nano"}) == ["nano", "-v", "+9", lib]
    assert editor_command(lib, 9, {"EDITOR": "code"}) == ["code", "-g", f"{lib}:9"]


def test_frame_location_is_the_innermost_in_app_frame() -> None:
    frames = [
        {"file": "/app/a.py", "line": 1, "in_app": True},
        {"file": "/app/b.py", "line": 2, "in_app": True},
        {"file": "/lib/c.py", "line": 3, "in_app": False},
    ]
    assert frame_location(frames) == ("/app/b.py", 2)
    assert frame_location([{"file": "/lib/c.py", "line": 3}]) == ("/lib/c.py", 3)
    assert frame_location([{"file": 5, "line": "x"}, "junk"]) is None
    assert frame_location("not frames") is None


# -- in the app ---------------------------------------------------------------------------


@pytest.mark.tui
@pytest.mark.anyio
async def test_e_opens_a_failed_command_and_a_file_at_their_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = failed_command_folder(tmp_path)
    record = tmp_path / "args.txt"
    vim = stand_in(tmp_path / "bin", "vim", record)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("DM_EDITOR", raising=False)
    monkeypatch.setenv("EDITOR", str(vim))
    monkeypatch.setenv("DM_PATH_MAP", f"/app={tmp_path / 'src'}")
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("e")  # the request list has no location: a notice, no editor
        await pilot.pause(0.1)
        assert not record.exists()

        await pilot.press("3")
        await pilot.pause(0.3)
        await pilot.press("e")
        await pilot.pause(0.3)
        assert record.read_text().splitlines() == ["+12", f"{tmp_path}/src/jobs/rebuild.py"]

        record.unlink()
        await pilot.press("5")
        await pilot.pause(0.3)
        await pilot.press("e")
        await pilot.pause(0.3)
        assert record.read_text().splitlines() == ["+4", str(folder / "jobs.jsonl")]

        record.unlink()
        await pilot.press("down", "enter")  # the plugin's file: the event its writer refused
        await pilot.pause(0.3)
        await pilot.press("e")
        await pilot.pause(0.3)
        assert record.read_text().splitlines() == ["+27", f"{tmp_path}/src/plugins/seats.py"]
        await pilot.press("escape")

        monkeypatch.setenv("DM_EDITOR", "missing-editor-dm {file}")
        await pilot.press("e")  # an editor that cannot start: a notice, the app runs on
        await pilot.pause(0.2)
        assert app.is_running


@pytest.mark.tui
@pytest.mark.anyio
async def test_errors_only_moved_to_capital_e(tmp_path: Path) -> None:
    folder = failed_command_folder(tmp_path)
    app = ExplorerApp(folder, follow_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("E")
        assert app.request_filter.errors_only
        await pilot.press("e")  # opens the editor (nothing to open here), filter unchanged
        assert app.request_filter.errors_only


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_stand_in_records_arguments(tmp_path: Path) -> None:
    record = tmp_path / "args.txt"
    script = stand_in(tmp_path / "bin", "code", record)
    assert os.system(f"{script} -g 'a b.py:3'") == 0
    assert record.read_text().splitlines() == ["-g", "a b.py:3"]
