"""Files private to the user whatever the umask; nothing of ours listens on a socket."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dm_log
from tests.conftest import read_events

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_folder_0700_and_files_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        folder = tmp_path / "deep" / "logs"
        dm_log.configure(log_dir=folder, service="perm")
        dm_log.metric("m", 1)
        path = Path(dm_log.log_file() or "")
    finally:
        dm_log.configure(log_dir=None)
        os.umask(old)
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert (path.stat().st_mode & 0o777) == 0o600
    assert read_events(folder)[-1]["name"] == "m"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _listening() -> dict[str, str]:
    """Inode -> local address of every listening TCP/UDP/unix socket on the machine."""
    found: dict[str, str] = {}
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A":  # LISTEN
                found[cols[9]] = f"{table} {cols[1]}"
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        cols = line.split()
        # Flags 0x10000 (__SO_ACCEPTCON) marks a listening unix socket.
        if len(cols) > 6 and int(cols[3], 16) & 0x10000:
            found[cols[6]] = f"unix {cols[7] if len(cols) > 7 else ''}"
    return found


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.add(child)
            stack.append(child)
    return out


@pytest.mark.timeout(180)
def test_while_the_demo_runs_only_its_two_http_services_listen(tmp_path: Path) -> None:
    """The example services are web servers; dm_log, the Celery worker on its filesystem
    broker, the management commands and dm-explore itself listen on nothing."""
    sys.path[:0] = [str(EXAMPLES), str(EXAMPLES / "demo_site")]
    from demo import start_demo  # type: ignore[import-not-found]

    logs = tmp_path / "logs"
    before = _descendants(os.getpid())  # e.g. a redis-server another test of this worker runs
    handle = start_demo(logs, duration=None)
    explorer = None
    try:
        deadline = time.monotonic() + 60
        while handle.loads < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        explorer = subprocess.Popen(
            [sys.executable, "-m", "dm_explore.cli", "tail", str(logs)],
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        time.sleep(2)
        listening = _listening()
        ports = {
            handle.services.web_url.rsplit(":", 1)[1],
            handle.services.api_url.rsplit(":", 1)[1],
        }
        by_pid = {}
        for pid in (_descendants(os.getpid()) - before) | {os.getpid()}:
            mine = {listening[i] for i in _socket_inodes(pid) if i in listening}
            if mine:
                by_pid[pid] = mine
        allowed = {f"{int(p):04X}" for p in ports}
        for pid, addresses in by_pid.items():
            for address in addresses:
                assert address.startswith("tcp") and address.split(":")[-1] in allowed, (
                    pid,
                    address,
                )
        assert explorer.pid not in by_pid
        assert len(by_pid) >= 1  # the HTTP services were seen listening: the probe works
    finally:
        if explorer is not None:
            explorer.kill()
            explorer.wait()
        handle.stop()
