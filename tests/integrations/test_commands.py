"""Management commands as real subprocesses: FINISHED, FAILED, opt-outs, SIGKILL."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo import ROOT, SITE, Services  # type: ignore[import-not-found]
from jsonschema import Draft202012Validator

from tests.conftest import assert_all_valid
from tests.integrations.conftest import wait_for
from tests.integrations.events import events, in_span, of

pytestmark = pytest.mark.django


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """Environment for manage.py runs against a migrated database; no servers."""
    base = tmp_path_factory.mktemp("commands")
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), str(SITE)]),
        DJANGO_SETTINGS_MODULE="courses.settings",
        DM_VALIDATE="1",
        DEMO_BROKER_DIR=str(base / "broker"),
    )
    env.pop("DM_LOG_DIR", None)
    services = Services(log_dir=base / "unused", work=base, env=env)
    services.manage("migrate", "--run-syncdb", "-v", "0", "--disable-monitor")
    return services


def _run(site, folder: Path, *args: str, check: bool = True, **env: str):
    return site.manage(*args, check=check, DM_LOG_DIR=str(folder), **env)


def test_finished_with_params_progress_heartbeats_sql_and_logs(
    site, tmp_path: Path, event_validator: Draft202012Validator
) -> None:
    _run(site, tmp_path, "import_courses", "--count", "4", "--sleep", "0.15", DM_COMMAND_PING="0.1")
    evs = events(tmp_path)
    start = of(evs, "command.start")[0]
    assert start["command"] == "import_courses"
    assert start["params"]["count"] == 4 and start["params"]["sleep"] == 0.15
    assert start["interval"] == 0.1
    span = start["span"]
    end = of(evs, "command.end", span=span)[0]
    assert end["status"] == "FINISHED" and end["outcome"] == "ok"
    beats = of(evs, "command.heartbeat", span=span)
    assert len(beats) >= 3, "heartbeats every DM_COMMAND_PING seconds"
    progress = of(evs, "progress", span=span)
    assert progress[-1]["done"] == 4 and progress[-1]["total"] == 4
    assert in_span(evs, span, "sql"), "the command's SQL is under its span"
    assert any(e["msg"] == "imported 4 courses" for e in in_span(evs, span, "log"))
    assert_all_valid(tmp_path, event_validator)


def test_failed_with_exception(site, tmp_path: Path) -> None:
    result = _run(site, tmp_path, "import_courses", "--count", "5", "--fail-at", "2", check=False)
    assert result.returncode != 0
    evs = events(tmp_path)
    end = of(evs, "command.end")[0]
    assert end["status"] == "FAILED" and end["outcome"] == "error"
    assert (
        end["exc_type"] == "RuntimeError" and end["exc_message"] == "bad row 2 in the import file"
    )
    exc = in_span(evs, end["span"], "exception")
    assert exc and exc[0]["mechanism"] == "command" and exc[0]["handled"] is False
    assert of(evs, "progress", span=end["span"])


def test_plain_base_command_is_monitored_and_command_error_fails(site, tmp_path: Path) -> None:
    _run(site, tmp_path, "plain_report")
    result = _run(site, tmp_path, "plain_report", "--fail", check=False)
    assert result.returncode == 1
    ends = of(events(tmp_path), "command.end", command="plain_report")
    assert [e["status"] for e in ends] == ["FINISHED", "FAILED"]
    assert ends[1]["exc_type"] == "CommandError" and "report refused" in ends[1]["exc_message"]


def test_opt_out_flag_and_setting(site, tmp_path: Path) -> None:
    _run(site, tmp_path, "plain_report", "--disable-monitor")
    _run(site, tmp_path, "import_courses", "--count", "1", "--disable-monitor")
    _run(site, tmp_path, "plain_report", DEMO_DM_COMMANDS="0")
    evs = events(tmp_path)
    assert not of(evs, "command.start"), "opted out runs write no command span"
    assert of(evs, "sql"), "their SQL is still recorded"


def test_debug_false_records_nothing_and_says_why(site, tmp_path: Path) -> None:
    result = _run(site, tmp_path, "plain_report", DEMO_DEBUG="0")
    assert b"DEBUG is False" in result.stderr
    evs = events(tmp_path)
    assert not of(evs, "command.start") and not of(evs, "sql")
    _run(site, tmp_path, "plain_report", DEMO_DEBUG="0", DM_ALLOW_PRODUCTION="1")
    assert of(events(tmp_path), "command.end", status="FINISHED")


def test_sigkill_is_system_kill(site, tmp_path: Path) -> None:
    proc = site.popen_manage(
        "import_courses", "--count", "200", "--sleep", "0.05",
        DM_LOG_DIR=str(tmp_path), DM_COMMAND_PING="0.1",
    )  # fmt: skip
    try:
        def beating_with_progress() -> bool:
            evs = events(tmp_path)
            return len(of(evs, "command.heartbeat")) >= 2 and bool(of(evs, "progress"))

        wait_for(beating_with_progress, timeout=20)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.3)  # more than twice the heartbeat interval
    evs = events(tmp_path)
    start = of(evs, "command.start")[0]
    assert not of(evs, "command.end"), "a killed run never writes its end"
    beats = of(evs, "command.heartbeat", span=start["span"])
    last_beat = datetime.fromisoformat(max(e["ts"] for e in beats).replace("Z", "+00:00"))
    silent = (datetime.now(UTC) - last_beat).total_seconds()
    # docs/format.md: no end and no heartbeat for over twice the interval is SYSTEM_KILL.
    assert silent > 2 * start["interval"]
    # The explorer says so: from the heartbeats, and because the process is gone.
    from dm_explore.ingest import load_folder

    model = load_folder(tmp_path).model
    run = model.span(start["span"])
    assert run is not None and run.kind == "command"
    assert model.command_status(run) == "SYSTEM_KILL"
    assert model.commands_by_status()["SYSTEM_KILL"] == 1
    assert run.progress is not None and run.progress["total"] == 200


def test_garbage_integration_settings_are_refused_and_the_command_still_runs(
    site, tmp_path: Path
) -> None:
    done = _run(
        site,
        tmp_path,
        "import_courses",
        "--count",
        "2",
        DM_COMMAND_PING="inf",
        DM_TEMPLATES="maybe",
        DM_SQL_EXPLAIN_MS="-3",
    )
    err = done.stderr.decode()
    for name in ("DM_COMMAND_PING", "DM_TEMPLATES", "DM_SQL_EXPLAIN_MS"):
        assert err.count(f"dm_log: {name}=") == 1, err
    evs = events(tmp_path)
    start = of(evs, "command.start")[0]
    assert start["interval"] == 30.0, "the refused ping falls back to its default"
    assert of(evs, "command.end", span=start["span"])[0]["status"] == "FINISHED"
    refused = {r["name"] for e in of(evs, "dm.config") for r in e["refused"]}
    assert "DM_COMMAND_PING" in refused
