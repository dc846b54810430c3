"""The Endpoints view and the findings in the Issues view, in a real terminal (tmux)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.ci_docs.fixture import write_fixture
from tests.tui.test_tmux import ROOT, TMUX, _start, _wait_for

pytestmark = [
    pytest.mark.tui,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def _keys(session: str, *keys: str) -> None:
    subprocess.run([*TMUX, "send-keys", "-t", session, *keys], check=True)


@pytest.mark.timeout(120)
def test_endpoints_on_6_and_findings_on_v(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_fixture(folder)
    session = f"dm-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))} "
        f"{shlex.quote(sys.executable)} -m dm_explore.cli {shlex.quote(str(folder))}; sleep 30"
    )
    _start(session, command)
    try:
        _wait_for(session, "6 Endpoints")
        _keys(session, "6")
        screen = _wait_for(session, "web GET courses/<int:pk>/")
        assert "count ▼" in screen and "web POST checkout/" in screen
        _keys(session, "s")  # by error rate: the failing checkout first
        screen = _wait_for(session, "errors ▼")
        rows = [line for line in screen.splitlines() if " request " in line]
        assert "web POST checkout/" in rows[0] and "2 (100%)" in rows[0]
        _keys(session, "2")
        _wait_for(session, "errors (v)")
        _keys(session, "v")
        screen = _wait_for(session, "N+1 queries")
        assert "findings (v)" in screen
        assert "web GET courses/<int:pk>/" in screen and "5x per run" in screen
        assert "KeyError" not in screen  # findings only; v again shows both
        _keys(session, "Enter")  # the finding's example trace
        screen = _wait_for(session, "GET /courses/42/")
        assert "N+1 queries" not in screen
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
