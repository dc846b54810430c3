"""examples/shell: a POSIX shell writer whose lines join a Python service's trace."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import dm_log
from dm_explore.ingest import ALL_TRACES, load_folder
from dm_explore.model import trace_rows
from tests.conftest import assert_all_valid

SHELL = Path(__file__).resolve().parents[2] / "examples" / "shell"
SHELLS = [s for s in ("dash", "bash") if shutil.which(s)]


def _run(shell: str, script: str, *args: str, env: dict[str, str]) -> int:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DM_", "TRACEPARENT"))}
    return subprocess.run(
        [shell, script, *args], env={**base, **env}, capture_output=True, timeout=30
    ).returncode


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_spans_join_the_python_trace(
    shell: str, log_dir: Path, tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("a.txt", "b.txt"):
        (source / name).write_text(name)
    with dm_log.span("nightly-export") as caller:
        tp = caller.traceparent()
        assert tp is not None
        env = {"DM_LOG_DIR": str(log_dir), "TRACEPARENT": tp, "DM_SERVICE": "backup"}
        code = _run(shell, str(SHELL / "backup.sh"), str(source), env=env)
    assert code == 0
    events = assert_all_valid(log_dir, event_validator)
    shell_events = [e for e in events if e["svc"] == "backup"]
    assert shell_events[0]["event"] == "process.start"
    assert {e["pid"] for e in shell_events} != {os.getpid()}
    starts = {e["fields"]["source"] if "fields" in e else e["name"]: e
              for e in shell_events if e["event"] == "span.start"}  # fmt: skip
    backup, compress = starts[str(source)], starts["compress"]
    # The shell's root span continues the Python span's trace, with the Python span as parent.
    assert backup["trace"] == caller.trace_id and backup["parent"] == caller.span_id
    assert compress["trace"] == caller.trace_id and compress["parent"] == backup["span"]
    assert {e["trace"] for e in events if "trace" in e} == {caller.trace_id}
    ends = {e["span"]: e for e in shell_events if e["event"] == "span.end"}
    assert ends[backup["span"]]["outcome"] == "ok" and ends[backup["span"]]["ms"] >= 0
    (log,) = [e for e in shell_events if e["event"] == "log"]
    assert log["msg"] == f"found 2 files in {source}" and log["span"] == backup["span"]
    (metric,) = [e for e in shell_events if e["event"] == "metric"]
    assert metric["value"] == 2 and metric["span"] == compress["span"]
    files = list(log_dir.glob("backup.*.jsonl"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600

    # One trace, as the explorer sees it: the shell's spans hang under the Python span.
    model = load_folder(log_dir, max_traces=ALL_TRACES).model
    assert list(model.traces) == [caller.trace_id]
    trace = model.trace(caller.trace_id)
    assert trace is not None and trace.services == {"test-svc", "backup"}
    assert [(row.depth, row.span.svc, row.span.name, row.waiting) for row in trace_rows(trace)] == [
        (0, "test-svc", "nightly-export", False),
        (1, "backup", "backup", False),
        (2, "backup", "compress", False),
    ]
    shell_root = model.span(backup["span"], backup["trace"])
    assert shell_root.parent == caller.span_id and shell_root.process[2] != os.getpid()
    assert shell_root.start["fields"] == {"source": str(source)}
    assert [rec.msg for rec in shell_root.logs] == [f"found 2 files in {source}"]
    assert all(s.outcome == "ok" and s.ms is not None for s in trace.spans)


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_strings_are_escaped_and_errors_recorded(
    shell: str, tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    folder = tmp_path / "logs"
    script = tmp_path / "odd.sh"
    script.write_text(
        f'. "{SHELL}/dm_log.sh"\n'
        'dm_span_start "odd name: \\"quoted\\""\n'
        'dm_log warning "$(printf \'tab\\there\\nback\\\\slash "q"\')"\n'
        'dm_span_end error "boom: \\"bad\\""\n'
    )
    assert _run(shell, str(script), env={"DM_LOG_DIR": str(folder)}) == 0
    events = assert_all_valid(folder, event_validator)
    (log,) = [e for e in events if e["event"] == "log"]
    assert log["msg"] == 'tab\there\nback\\slash "q"'
    (end,) = [e for e in events if e["event"] == "span.end"]
    assert end["name"] == 'odd name: "quoted"' and end["outcome"] == "error"
    assert end["error"] == 'boom: "bad"' and "parent" not in end  # no TRACEPARENT: a new trace
    assert folder.stat().st_mode & 0o777 == 0o700


def test_shell_writer_is_silent_without_a_folder(tmp_path: Path) -> None:
    assert _run("sh", str(SHELL / "backup.sh"), str(tmp_path), env={"HOME": str(tmp_path)}) == 1
    assert not list(tmp_path.rglob("*.jsonl"))
