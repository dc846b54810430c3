"""A deep trace in a real terminal (tmux): it opens folded, unfolds, and Esc comes back."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.reliability.shapes import write_chain
from tests.tui.test_tmux import ROOT, TMUX, _capture, _start, _wait_for

pytestmark = [
    pytest.mark.tui,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.mark.timeout(120)
def test_a_chain_2000_deep_opens_unfolds_and_closes_in_a_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_chain(folder / "web.jsonl", 2000)
    session = f"dm-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))} "
        f"{shlex.quote(sys.executable)} -m dm_explore.cli {shlex.quote(str(folder))}"
        "; echo EXPLORER-EXITED; sleep 30"
    )
    _start(session, command)

    def keys(*names: str) -> None:
        subprocess.run([*TMUX, "send-keys", "-t", session, *names], check=True)

    try:
        _wait_for(session, "/deep")
        keys("t")
        screen = _wait_for(session, "2000 spans")
        assert "level 1 " in screen
        keys("End")
        screen = _wait_for(session, "1 child span deeper: Enter draws from level 59")
        keys("Enter")
        _wait_for(session, "from level 59 (Backspace: whole trace)")
        keys("End")
        _wait_for(session, "Enter draws from level 118")
        keys("Escape")
        screen = _wait_for(session, "1 Requests")
        assert "2000 spans" not in screen
        keys("q")
        assert "Traceback" not in _wait_for(session, "EXPLORER-EXITED")
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
    assert "RecursionError" not in _capture_safe(session)


def _capture_safe(session: str) -> str:
    try:
        return _capture(session)
    except subprocess.CalledProcessError:
        return ""  # the session is gone, as it should be
