"""``e`` in a real terminal (tmux): the app steps aside for the editor, then comes back.

The editor is a stand-in ``vim`` that shows a line, records its arguments and
waits a moment: while it runs, its line is on the screen and the explorer is not;
after it exits, the explorer is drawn again and still answers keys.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.tui.test_editor import failed_command_folder
from tests.tui.test_tmux import ROOT, TMUX, _capture, _eventually, _start, _wait_for

pytestmark = pytest.mark.tui


@pytest.mark.timeout(120)
def test_e_suspends_the_app_runs_the_editor_and_resumes(tmp_path: Path) -> None:
    folder = failed_command_folder(tmp_path)
    record = tmp_path / "args.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    vim = bin_dir / "vim"
    vim.write_text(
        f'#!/bin/sh\necho "STAND-IN EDITOR $2"\nprintf "%s\\n" "$@" > {record}\nsleep 2\n'
    )
    vim.chmod(0o755)
    session = f"dm-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))}"
        f" EDITOR={shlex.quote(str(vim))} VISUAL= DM_EDITOR="
        f" DM_PATH_MAP=/app={shlex.quote(str(tmp_path / 'src'))}"
        f" {shlex.quote(sys.executable)} -m dm_explore.cli {shlex.quote(str(folder))}; sleep 30"
    )
    _start(session, command)
    try:
        _wait_for(session, "1 Requests")
        subprocess.run([*TMUX, "send-keys", "-t", session, "3"], check=True)
        _wait_for(session, "rebuild")
        subprocess.run([*TMUX, "send-keys", "-t", session, "e"], check=True)
        screen = _wait_for(session, "STAND-IN EDITOR")
        assert "1 Requests" not in screen, "the app stepped aside for the editor"
        assert _eventually(lambda: record.exists(), timeout=10)
        assert record.read_text().splitlines() == ["+12", f"{tmp_path}/src/jobs/rebuild.py"]
        screen = _wait_for(session, "3 Commands")  # back, drawn again
        assert "STAND-IN EDITOR" not in screen
        subprocess.run([*TMUX, "send-keys", "-t", session, "q"], check=True)
        assert _eventually(lambda: "3 Commands" not in _capture(session))  # keys still work
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
