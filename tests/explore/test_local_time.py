"""Times are shown in the local zone, ``--utc`` switches to UTC, JSON stays UTC.

Each check runs in a subprocess with ``TZ`` set to a zone other than UTC (the
suite itself runs in UTC). The fixture's page request starts at 09:15:02.000 UTC:
14:45:02.000 in Kolkata (+05:30), 04:15:02.000 in New York (-05:00 in November).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from tests.ci_docs import fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    fixture.write_fixture(tmp_path / "logs")
    return tmp_path / "logs"


def _run(tz: str, *args: str) -> str:
    env = {**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _tail(tz: str, folder: Path, *flags: str) -> list[str]:
    out = _run(tz, "-m", "dm_explore.cli", *flags, "tail", str(folder), "--no-follow")
    return [line for line in out.splitlines() if "-> GET /courses/42/" in line]


def test_format_time_local_by_default_utc_when_asked() -> None:
    script = textwrap.dedent(
        """
        from dm_log.contract import display_utc, format_time, zone_name
        t = 1795425302.0  # 2026-11-23 09:15:02 UTC
        print(zone_name(), format_time(t), format_time(t, date=True), format_time(t, iso=True))
        print(format_time(t, utc=True), format_time(t, utc=True, iso=True))
        display_utc(True)
        print(zone_name(), format_time(t))
        """
    )
    lines = _run("Asia/Kolkata", "-c", script).splitlines()
    assert lines == [
        "IST 14:45:02.000 2026-11-23 14:45:02.000 2026-11-23T14:45:02.000+05:30",
        "09:15:02.000 2026-11-23T09:15:02.000Z",
        "UTC 09:15:02.000",
    ]


def test_tail_text_is_local_and_utc_with_the_flag_before_or_after(folder: Path) -> None:
    assert _tail("America/New_York", folder)[0].startswith("04:15:02.000 web[4121]")
    assert _tail("America/New_York", folder, "--utc")[0].startswith("09:15:02.000 web[4121]")
    out = _run(
        "America/New_York", "-m", "dm_explore.cli", "tail", str(folder), "--no-follow", "--utc"
    )
    assert "09:15:02.000 web[4121] -> GET /courses/42/" in out


def test_json_stays_utc(folder: Path) -> None:
    out = _run("Asia/Kolkata", "-m", "dm_explore.cli", "tail", str(folder), "--no-follow", "--json")
    first = orjson.loads(out.splitlines()[0])
    assert first["ts"].endswith("Z")


def test_the_explorer_header_names_the_zone_and_rows_are_local(folder: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from dm_log.contract import display_utc
        from dm_explore.tui.app import ExplorerApp
        from dm_explore.tui.widgets.request_list import RequestList

        async def main(utc):
            display_utc(utc)
            app = ExplorerApp(Path({str(folder)!r}), follow_files=False)
            async with app.run_test(size=(160, 45)) as pilot:
                await pilot.pause(0.2)
                listing = app.query_one(RequestList)
                page = next(s for s in listing.rows if s.target == "/courses/42/")
                row = listing._row_text(page, 150).plain
                print(app.sub_title, "|", row[:12])

        asyncio.run(main(False))
        asyncio.run(main(True))
        """
    )
    local, utc = _run("Asia/Kolkata", "-c", script).splitlines()
    assert local.endswith("times in IST | 14:45:02.000")
    assert utc.endswith("times in UTC | 09:15:02.000")
