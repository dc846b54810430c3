"""The explorer in a real terminal (tmux): live lines appear, hostile text stays inert."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.explore.fixtures import T1, Writer

ROOT = Path(__file__).resolve().parents[2]
# A tmux server of our own: no user config, no other session's window size.
TMUX = ["tmux", "-L", f"dm-test-{os.getpid()}", "-f", "/dev/null"]
pytestmark = [
    pytest.mark.tui,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def _start(session: str, command: str) -> None:
    """A detached session of exactly 160x45 running ``command`` (after the resize).

    The tests of a worker share one tmux server, which exits with its last session:
    a session started while it shuts down fails, and is started again.
    """
    argv = [*TMUX, "new-session", "-d", "-s", session, "-x", "160", "-y", "45"]
    for attempt in range(5):
        started = subprocess.run(
            [*argv, f"sleep 0.5; {command}"], env={**os.environ, "TMUX": ""}, capture_output=True
        )
        if started.returncode == 0:
            break
        time.sleep(0.2 * (attempt + 1))
    else:
        raise AssertionError(f"tmux new-session failed: {started.stderr.decode(errors='replace')}")
    subprocess.run([*TMUX, "set-option", "-t", session, "window-size", "manual"], check=True)
    subprocess.run([*TMUX, "resize-window", "-t", session, "-x", "160", "-y", "45"], check=True)


def _capture(session: str) -> str:
    return subprocess.run(
        [*TMUX, "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=True
    ).stdout


def _wait_for(session: str, needle: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(session)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; screen was:\n{screen}")


@pytest.mark.timeout(120)
def test_appended_lines_appear_and_escapes_stay_text(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    Writer("web", 1).ev("log", 1.0, level="info", msg="hello").write(folder / "web.jsonl")
    session = f"dm-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))} "
        f"{shlex.quote(sys.executable)} -m dm_explore.cli {shlex.quote(str(folder))}; sleep 30"
    )
    _start(session, command)
    try:
        _wait_for(session, "1 Requests")
        w = Writer("api", 2)
        w.ev(
            "request.start", 2.0, T1, "1000000000000001", method="GET", path="/first-live-request/"
        )
        w.ev("request.end", 2.1, T1, "1000000000000001", ms=12.0, outcome="ok", status=201)
        hostile = "/[red]x[/red]\x1b[31mRED\x1b]0;pwned\x07\x1b]52;c;aGVsbG8=\x07"
        w.ev("request.start", 3.0, T1, "1000000000000002", method="GET", path=hostile)
        w.ev("request.end", 3.1, T1, "1000000000000002", ms=7.0, outcome="ok", status=200)
        with open(folder / "api.jsonl", "wb") as f:
            f.write(b"".join(w.lines))
        screen = _wait_for(session, "/first-live-request/")
        screen = _wait_for(session, "[red]x[/red]")
        assert "\\x1b[31mRED\\x1b]0;pwned\\x07" in screen  # shown, not obeyed
        title = subprocess.run(
            [*TMUX, "display-message", "-p", "-t", session, "#{pane_title}"],
            capture_output=True,
            text=True,
        ).stdout
        assert "pwned" not in title
        buffers = subprocess.run([*TMUX, "list-buffers"], capture_output=True, text=True).stdout
        assert "hello" not in buffers.lower()  # no OSC 52 clipboard write went through
        subprocess.run([*TMUX, "send-keys", "-t", session, "q"], check=True)
        assert _eventually(lambda: "1 Requests" not in _capture(session))  # the app quit on q
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)


@pytest.mark.timeout(180)
def test_demo_opens_the_explorer_live_and_stops_its_services(tmp_path: Path) -> None:
    """The README's first command: real services, real logs, the explorer on them."""
    session = f"dm-{uuid.uuid4().hex[:8]}"
    logs = tmp_path / "logs"
    command = (
        f"cd {shlex.quote(str(ROOT))} && TERM=xterm-256color PYTHONPATH={shlex.quote(str(ROOT))} "
        f"{shlex.quote(sys.executable)} -m dm_explore.cli demo --log-dir {shlex.quote(str(logs))}"
        f"; echo DEMO-EXITED; sleep 30"
    )
    _start(session, command)
    try:
        screen = _wait_for(session, "/api/courses/", timeout=90)
        assert "1 Requests" in screen and "live" in screen
        subprocess.run([*TMUX, "send-keys", "-t", session, "q"], check=True)
        _wait_for(session, "DEMO-EXITED", timeout=60)
    finally:
        subprocess.run([*TMUX, "kill-session", "-t", session], capture_output=True)
    assert len(list(logs.glob("*.jsonl"))) >= 3  # web, api and the worker wrote files
    assert _eventually(lambda: not _recording_into(logs)), "services still running after quit"


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Whether ``check()`` becomes true within ``timeout`` seconds (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _recording_into(folder: Path) -> list[int]:
    """Pids of processes whose environment points DM_LOG_DIR at ``folder``."""
    marker = f"DM_LOG_DIR={folder}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    found.append(int(entry))
            except OSError:
                continue
    return found
