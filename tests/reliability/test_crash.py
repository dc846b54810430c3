"""A process SIGKILLed mid-write leaves at most one partial line and nothing else lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from dm_explore.ingest import load_folder
from tests.reliability.figures import record_figure

ROOT = Path(__file__).resolve().parents[2]

HEAVY_WRITER = """
import sys, dm_log
cmd = dm_log.start_span("command", command="import_everything", params={}, interval=0.2)
with dm_log.span("batch"):
    i = 0
    while True:
        dm_log.record("x.heavy", i=i, pad="p" * (i % 3000))
        if i == 2000:
            print("writing", flush=True)
        i += 1
"""


def _kill_mid_write(folder: Path) -> list[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HEAVY_WRITER],
        env={**os.environ, "DM_LOG_DIR": str(folder), "DM_VALIDATE": "0", "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"writing"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    (path,) = folder.glob("*.jsonl")
    return path.read_bytes().split(b"\n")


def test_sigkill_leaves_at_most_one_partial_final_line(tmp_path: Path) -> None:
    kills, partial_total = 5, 0
    for attempt in range(kills):
        folder = tmp_path / f"run{attempt}"
        chunks = _kill_mid_write(folder)
        whole, partial = chunks[:-1], chunks[-1]  # text after the last newline, if any
        numbers = []
        for line in whole:
            event = orjson.loads(line)  # every complete line parses
            if event["event"] == "x.heavy":
                numbers.append(event["i"])
        assert numbers == list(range(len(numbers)))  # nothing lost before the kill
        assert len(numbers) > 2000
        partial_total += 1 if partial else 0
        # The explorer reports the cut line (if any) and shows the work as killed.
        reader = load_folder(folder)
        model = reader.model
        (info,) = model.files.values()
        assert info.events == len(whole) and info.partial == bool(partial)
        (run,) = [s for s in model.spans.values() if s.kind == "command"]
        assert model.command_status(run) == "SYSTEM_KILL"
        batch = next(s for s in model.spans.values() if s.name == "batch")
        assert batch.outcome == "killed" and batch.has_error
    record_figure("crash", sigkills=kills, partial_final_lines=partial_total, corrupt_inner_lines=0)
