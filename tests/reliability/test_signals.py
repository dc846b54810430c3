"""Signal handlers that log never deadlock the app, never recurse, and never pass the cap.

Each case runs in a real subprocess with a cold validator cache, guarded twice: the
script's own ``faulthandler.dump_traceback_later`` exits with every stack dumped if
it hangs, and the subprocess timeout here fails the test if even that does not fire.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import read_events
from tests.reliability.figures import FIGURES

SCRIPT = Path(__file__).with_name("signal_writer.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(folder: Path, *args: str, **env: str) -> dict[str, Any]:
    environ = {**os.environ, "DM_LOG_DIR": str(folder), "PYTHONPATH": str(ROOT), **env}
    environ.pop("DM_SERVICE", None)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Timeout" not in done.stderr, done.stderr[-4000:]  # the watchdog's stack dump
    return json.loads(done.stdout.splitlines()[-1])


def test_a_handler_that_logs_during_every_first_use_neither_hangs_nor_loses(
    tmp_path: Path, event_validator: Any
) -> None:
    folder = tmp_path / "logs"
    figures = _run(folder, "first-use", DM_VALIDATE="1")
    # The handler really landed inside validator compiles, many times.
    assert figures["inside_compile"] > 0, figures
    events = read_events(folder)
    kinds = {e["event"] for e in events}
    for kind in ("request.start", "http.end", "task.start", "command.end", "test.end",
                 "span.start", "panel", "metric", "progress", "exception", "log", "sql",
                 "runtime", "x.signals"):  # fmt: skip
        assert kind in kinds, kind
    from_handler = [e for e in events if e.get("msg") == "shutting down"]
    assert len(from_handler) == figures["handler_events"] // 2
    problems = [e for e in events if e["event"] in ("dm.invalid", "dm.dropped")]
    assert not problems, problems[:3]
    for event in events:
        assert not list(event_validator.iter_errors(event)), event
    FIGURES["signals first-use"] = {
        "kinds": figures["kinds"],
        "handler_calls_inside_compile": figures["inside_compile"],
        "handler_events": figures["handler_events"],
        "lost": 0,
    }


def test_a_signal_storm_keeps_the_cap_and_never_recurses(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    cap = int(0.2 * 2**20)
    figures = _run(folder, "storm", "3", DM_LOG_MAX_MB="0.2", DM_VALIDATE="0")
    assert figures["handler_events"] > 1000, figures
    files = sorted(folder.glob("*.jsonl"))
    on_disk = sum(p.stat().st_size for p in files)
    assert len(files) <= 2, [p.name for p in files]
    assert on_disk <= cap, (on_disk, cap)
    events = read_events(folder)
    reasons = [e["reason"] for e in events if e["event"] == "dm.dropped"]
    assert not any("Recursion" in r for r in reasons), reasons
    assert any(e["event"] == "dm.capped" for e in events)
    assert any(e["event"] == "panel" for e in events)  # the handler's lines are written
    FIGURES["signals storm"] = {
        "seconds": 3,
        "handler_events": figures["handler_events"],
        "main_events": figures["main_events"],
        "files": len(files),
        "bytes_on_disk": on_disk,
        "cap": cap,
    }
