"""The writer never raises into the caller and accounts for every line it could not write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson

import dm_log
from dm_log._writer import sink
from tests.conftest import read_events

ROOT = Path(__file__).resolve().parents[2]


def _kinds(folder: Path) -> list[str]:
    return [e["event"] for e in read_events(folder)]


def _run_child(code: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def test_folder_that_cannot_exist_then_appears(tmp_path: Path) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the folder should be")
    dm_log.configure(log_dir=blocker / "inner")
    try:
        for i in range(5):
            dm_log.metric("m", i)  # ENOTDIR: no exception reaches us
        assert sink().dropped == 5
        blocker.unlink()
        time.sleep(1.05)  # the writer retries opening at most once a second
        dm_log.metric("m", 99)
        events = read_events(blocker)
    finally:
        dm_log.configure(log_dir=None)
    dropped = [e for e in events if e["event"] == "dm.dropped"]
    assert len(dropped) == 1 and dropped[0]["count"] == 5
    assert "ENOTDIR" in dropped[0]["reason"]
    assert [e["value"] for e in events if e["event"] == "metric"] == [99]


def test_unwritable_folder_never_reaches_the_app(tmp_path: Path) -> None:
    """A folder the process may not create (``/proc`` refuses even root) costs only drops."""
    if os.geteuid() == 0:
        target = Path("/proc/self/dm-logs")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "logs"
    code = """
        import dm_log
        with dm_log.span("work"):
            for i in range(100):
                dm_log.metric("m", i)
        from dm_log._writer import sink
        print("ok", sink().dropped)
    """
    result = _run_child(code, {"DM_LOG_DIR": str(target)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "102"]  # span start, 100 metrics, span end
    assert result.stderr == ""


def test_folder_deleted_while_running(log_dir: Path) -> None:
    dm_log.metric("before", 1)
    shutil.rmtree(log_dir)
    dm_log.metric("lost", 2)  # goes into the removed file: counted once noticed
    time.sleep(1.05)
    dm_log.metric("after", 3)
    events = read_events(log_dir)
    assert [e["name"] for e in events if e["event"] == "metric"] == ["after"]
    assert events[0]["event"] == "process.start"
    dropped = [e for e in events if e["event"] == "dm.dropped"]
    assert dropped and dropped[0]["count"] >= 1 and "removed" in dropped[0]["reason"]
    assert (log_dir.stat().st_mode & 0o777) == 0o700


def test_disk_full_dev_full(log_dir: Path) -> None:
    log_dir.mkdir(mode=0o700)
    s = sink()
    assert s is not None
    target = log_dir / (s._base + ".jsonl")
    target.symlink_to("/dev/full")
    before = os.stat("/dev/full").st_mode
    for i in range(10):
        dm_log.metric("m", i)
    assert os.stat("/dev/full").st_mode == before  # never chmod a device
    assert s.dropped == 11  # process.start and ten metrics
    target.unlink()
    s.close()  # as after a rotation by hand: the next line opens a real file
    dm_log.metric("m", 10)
    events = read_events(log_dir)
    dropped = [e for e in events if e["event"] == "dm.dropped"]
    assert dropped[0]["count"] == 11 and "ENOSPC" in dropped[0]["reason"]


def test_file_size_limit_then_recovery(tmp_path: Path) -> None:
    code = """
        import resource, signal, dm_log
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, hard))
        for i in range(500):
            dm_log.record("x.fill", i=i, pad="p" * 100)
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        dm_log.record("x.fill", i=500, pad="")
        print("survived")
    """
    result = _run_child(code, {"DM_LOG_DIR": str(tmp_path)})
    assert result.returncode == 0 and "survived" in result.stdout, result.stderr
    lines = next(tmp_path.glob("*.jsonl")).read_bytes().splitlines()
    events, fragments = [], []
    for line in lines:
        try:
            events.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            fragments.append(line)
    # At most the one line cut at the limit is partial, and it ends where it was cut.
    assert len(fragments) <= 1
    assert all(f.startswith(b'{"v":1') for f in fragments)
    written = [e["i"] for e in events if e["event"] == "x.fill"]
    dropped = [e for e in events if e["event"] == "dm.dropped"]
    assert len(dropped) == 1
    assert "EFBIG" in dropped[0]["reason"] or "short write" in dropped[0]["reason"]
    assert len(written) + dropped[0]["count"] == 501
    assert written[-1] == 500


def test_torn_line_is_ended_before_the_next(tmp_path: Path) -> None:
    """A short write at the size limit leaves a fragment; the next line starts on its own."""
    code = """
        import resource, signal, dm_log
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        dm_log.record("x.small", i=0)
        resource.setrlimit(resource.RLIMIT_FSIZE, (600, hard))
        dm_log.record("x.big", pad="b" * 2000)
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        dm_log.record("x.small", i=1)
    """
    result = _run_child(code, {"DM_LOG_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = next(tmp_path.glob("*.jsonl")).read_bytes().splitlines()
    assert lines[-1].startswith(b'{"v":1') and b'"x.small"' in lines[-1]
    assert any(b'"dm.dropped"' in line for line in lines)


def test_cap_stop_bounds_the_file(log_dir: Path) -> None:
    dm_log.configure(max_bytes=64 * 1024, cap_action="stop", validate_all=False)
    for i in range(3000):
        dm_log.record("x.fill", i=i, pad="p" * 50)
    files = list(log_dir.glob("*.jsonl"))
    assert len(files) == 1 and files[0].stat().st_size <= 64 * 1024
    events = read_events(log_dir)
    assert events[-1]["event"] == "dm.capped" and events[-1]["action"] == "stop"
    assert sink().dropped > 0


def test_cap_rotate_keeps_two_segments_under_the_cap(log_dir: Path) -> None:
    cap = 128 * 1024
    dm_log.configure(max_bytes=cap, cap_action="rotate", validate_all=False)
    for i in range(10_000):
        dm_log.record("x.fill", i=i, pad="p" * 50)
    files = sorted(log_dir.glob("*.jsonl"))
    assert len(files) == 2
    assert sum(f.stat().st_size for f in files) <= cap
    events = read_events(log_dir)
    capped = [e for e in events if e["event"] == "dm.capped"]
    assert capped and capped[-1]["action"] == "rotate"
    assert capped[-1]["next"] in {f.name for f in files}
    segments = sorted(e["segment"] for e in events if e["event"] == "process.start")
    assert len(segments) == 2 and segments[1] == segments[0] + 1
    assert max(e["i"] for e in events if e["event"] == "x.fill") == 9999


def test_oversized_values_are_cut_visibly(log_dir: Path, event_validator) -> None:
    huge = "x" * (10 * 1024 * 1024)
    dm_log.panel("Big", "text", huge)
    dm_log.record("sql", sql="SELECT '" + huge + "'", ms=1.0)
    dm_log.record("x.wide", items=list(range(100_000)))
    for path in log_dir.glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            assert len(line) <= 1024 * 1024
    events = read_events(log_dir)
    panel = next(e for e in events if e["event"] == "panel")
    assert panel["content"].endswith("chars]") and "truncated" in panel["content"]
    assert len(panel["content"]) < 20_000
    sql = next(e for e in events if e["event"] == "sql")
    assert "truncated" in sql["sql"]
    wide = next(e for e in events if e["event"] == "x.wide")
    assert len(wide["items"]) == 501 and "truncated" in wide["items"][-1]
    for e in events:
        assert not list(event_validator.iter_errors(e))


def test_descriptor_closed_under_the_writer(log_dir: Path) -> None:
    dm_log.metric("m", 1)
    s = sink()
    os.close(s._fd)
    dm_log.metric("m", 2)  # EBADF: counted, the descriptor dropped
    dm_log.metric("m", 3)  # reopened; the loss reported first
    events = read_events(log_dir)
    assert [e["value"] for e in events if e["event"] == "metric"] == [1, 3]
    dropped = [e for e in events if e["event"] == "dm.dropped"]
    assert dropped[0]["count"] >= 1 and "EBADF" in dropped[0]["reason"]
