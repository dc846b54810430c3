"""Refused panels (``dm.invalid``) in every output that lists panels or counts problems:
``summary``, ``report``, ``check``, ``tree``, ``tail`` and the MCP ``get_request``, each
counting them apart from invalid lines and naming the line that sent them.

The folder is written by dm_log (:mod:`tests.explore.plugin_page`) and read back.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dm_explore.cli import main
from dm_explore.outputs.describe import describe
from tests.conftest import read_events
from tests.explore.plugin_page import HERE, PluginPage, plugin_page

SEATS_WHY = "data.content must be object"
GRADES_WHY = "data must contain ['columns'] properties"


@pytest.fixture
def page(tmp_path: Path) -> tuple[Path, PluginPage]:
    folder = tmp_path / "logs"
    return folder, plugin_page(folder)


def _sent(page: PluginPage, title: str) -> str:
    return f"{HERE}:{page.refused_lines[title]} in _plugin"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_summary_counts_refused_events_apart_from_invalid_lines(
    page: tuple[Path, PluginPage], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, written = page
    with open(next(folder.glob("*.jsonl")), "ab") as out:
        out.write(b"{not json\n")
    code, text = _run(capsys, "summary", str(folder))
    assert code == 0
    assert "invalid     lines 1, refused events 2 (panel 2)" in text.splitlines()
    assert f'refused     panel "Seats" at {_sent(written, "Seats")}: {SEATS_WHY}' in text
    assert f'refused     panel "Grades" at {_sent(written, "Grades")}: {GRADES_WHY}' in text
    code, out = _run(capsys, "summary", "--json", str(folder))
    data = orjson.loads(out)
    assert (data["invalid_lines"], data["refused_events"]) == (1, 2)
    assert data["refused_by_kind"] == {"panel": 2}
    seats = data["refused"][0]
    assert (seats["kind"], seats["panel"], seats["errors"]) == ("panel", "Seats", [SEATS_WHY])
    assert seats["call"]["line"] == written.refused_lines["Seats"]
    assert (seats["trace"], seats["span"]) == (written.trace, written.span)


def test_check_fails_and_says_which_problems_are_refused_events(
    page: tuple[Path, PluginPage], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, written = page
    code, text = _run(capsys, "check", str(folder))
    assert code == 1
    assert f'refused a panel event ("Grades") sent at {_sent(written, "Grades")}' in text
    assert text.splitlines()[-1].endswith("2 problems (invalid lines 0, refused events 2)")


def test_report_counts_and_lists_them_with_their_request(
    page: tuple[Path, PluginPage], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, written = page
    code, text = _run(capsys, "report", str(folder))
    assert code == 0  # a plugin's mistake fails check, not the report's thresholds
    assert text.splitlines()[0].endswith("invalid lines 0, refused events 2 (panel 2)")
    assert f'  panel "Grades" at {_sent(written, "Grades")}: {GRADES_WHY}' in text
    code, markdown = _run(capsys, "report", str(folder), "--format", "markdown")
    assert "### Refused by the writer (not written)" in markdown
    assert f"| panel | Grades | `{_sent(written, 'Grades')}` | {GRADES_WHY} |" in markdown
    code, out = _run(capsys, "report", str(folder), "--format", "json")
    report = orjson.loads(out)
    summary = report["summary"]
    assert (summary["invalid_lines"], summary["refused_events"]) == (0, 2)
    assert [r["panel"] for r in report["refused"]] == ["Seats", "Grades"]
    (request,) = report["requests"]
    assert [(r["panel"], r["errors"]) for r in request["refused_panels"]] == [
        ("Seats", [SEATS_WHY]),
        ("Grades", [GRADES_WHY]),
    ]
    assert request["refused_panels"][1]["call"]["file"] == HERE


def test_tree_shows_them_under_their_span(
    page: tuple[Path, PluginPage], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, written = page
    code, text = _run(capsys, "tree", str(folder), written.trace)
    lines = text.splitlines()
    assert code == 0 and lines[1].startswith("request GET /enroll/ 200")
    assert lines[2:] == [
        f'  ! refused panel "Seats" at {_sent(written, "Seats")}: {SEATS_WHY}',
        f'  ! refused panel "Grades" at {_sent(written, "Grades")}: {GRADES_WHY}',
    ]


def test_tail_line_names_the_panel_and_the_line(page: tuple[Path, PluginPage]) -> None:
    folder, written = page
    refused = [e for e in read_events(folder) if e["event"] == "dm.invalid"]
    line = describe(refused[1], width=400)
    assert line.endswith(f'refused panel event "Grades" sent at {_sent(written, "Grades")}: '
                         f"{GRADES_WHY}")  # fmt: skip


@pytest.mark.anyio
async def test_mcp_get_request_has_them_in_place_among_the_panels(
    page: tuple[Path, PluginPage],
) -> None:
    pytest.importorskip("mcp")
    from tests.explore.mcp_client import mcp_server

    folder, written = page
    async with mcp_server(folder) as agent:
        answer = await agent.until("get_request", lambda a: "panels" in a, span_id=written.span)
    shown = [(p["title"], [e["type"] for e in p["entries"]]) for p in answer["panels"]]
    assert shown == [
        ("Seats", ["kv", "refused"]),
        ("Enrollment", ["table"]),
        ("Grades", ["refused"]),
        ("Notes", ["markdown"]),
    ]
    assert answer["source"]["refused_events"] == 2
    refused = answer["panels"][0]["entries"][1]
    assert refused["errors"] == [SEATS_WHY]
    assert refused["call"]["line"] == written.refused_lines["Seats"]
    table = answer["panels"][1]["entries"][0]
    assert (table["columns"], table["content"]) == (
        ["student", "mode"],
        [["ann", "audit"], ["bob", None]],
    )


def test_a_replace_keeps_the_refusals_and_an_untitled_one_has_a_place(log_dir: Path) -> None:
    import dm_log
    from dm_explore.ingest import load_folder

    with dm_log.span("plugin") as span:
        dm_log.panel("Seats", "text", "3 left")
        dm_log.panel("Seats", "kv", "not a mapping")
        dm_log.panel("Seats", "text", "2 left", op="replace")
        dm_log.panel("", "text", "no title")
    panels = load_folder(log_dir).model.span(span.span_id).panels  # type: ignore[union-attr]
    assert list(panels) == ["Seats", "(refused panel)"]
    assert [e["type"] for e in panels["Seats"]] == ["refused", "text"]
    assert panels["Seats"][1]["content"] == "2 left"
    (untitled,) = panels["(refused panel)"]
    assert untitled["type"] == "refused" and untitled["call"]["file"] == __file__


def test_a_refusal_of_odd_shape_from_another_writer_is_shown_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    odd = {
        "v": 1, "ts": "2026-11-23T09:00:03.000000Z", "event": "dm.invalid", "svc": "go",
        "host": "h", "pid": 7, "seq": 0, "trace": "ab" * 16, "span": "cd" * 8, "kind": "panel",
        "errors": ["\x1b[31mred\x1b[0m"], "panel": 5, "call": "not a site", "data": ["x"],
    }  # fmt: skip
    (folder / "go.jsonl").write_bytes(orjson.dumps(odd) + b"\n")
    for args in (["summary"], ["summary", "--json"], ["report"], ["tree"]):
        code, out = _run(capsys, *args, str(folder), *(["ab" * 16] if args == ["tree"] else []))
        assert code == 0 and "\x1b" not in out, args
    _, text = _run(capsys, "tree", str(folder), "ab" * 16)
    assert '! refused panel "(refused panel)" at (calling line not known)' in text
