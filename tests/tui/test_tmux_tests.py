"""The Tests view in a real terminal (tmux), on a folder a real pytest run wrote."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.ci_docs.sample import run_sample
from tests.tui.test_tmux import ROOT, TMUX, _start, _wait_for

pytestmark = [
    pytest.mark.tui,
    pytest.mark.django,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.mark.timeout(120)
def test_key_7_lists_the_failing_test_first(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    result = run_sample("--dm-log-dir", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    session = f"dm-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))} "
        f"{shlex.quote(sys.executable)} -m dm_explore.cli {shlex.quote(str(folder))}; sleep 30"
    )
    _start(session, command)
    try:
        _wait_for(session, "7 Tests")
        subprocess.run([*TMUX, "send-keys", "-t", session, "7"], check=True)
        screen = _wait_for(session, "tests/test_shop.py::test_items_total_is_wrong")
        lines = screen.splitlines()
        listed = [line for line in lines if "tests/test_shop.py::" in line]
        assert len(listed) == 6, screen
        assert "error" in listed[0] and "test_setup_error" in listed[0]
        assert "failed" in listed[1] and "test_items_total_is_wrong" in listed[1]
        assert "AssertionError" in listed[1]
        assert any("6 tests: 1 failed, 1 error, 3 passed, 1 skipped" in line for line in lines)
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
