"""The batch subcommands start without the UI: neither Textual nor watchfiles is imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.explore.fixtures import T1, three_services

ROOT = Path(__file__).resolve().parents[2]

# Runs one subcommand as `dm-explore` would, then reports which heavy modules it imported.
_PROBE = """
import contextlib, io, json, sys
from dm_explore.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "watchfiles"))
print(json.dumps({"status": status, "heavy": heavy}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["summary", "{folder}"],
        ["check", "{folder}"],
        ["report", "{folder}"],
        ["tree", "{folder}", T1[:8]],
        ["tail", "{folder}", "--no-follow"],
    ],
    ids=lambda args: args[0],
)
def test_batch_subcommands_import_neither_textual_nor_watchfiles(
    tmp_path: Path, args: list[str]
) -> None:
    folder = three_services(tmp_path / "logs")
    argv = [a.format(folder=folder) for a in args]
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["heavy"] == []
    assert result["status"] in (0, 1)  # check and report exit 1 on this folder's bad lines


def test_the_probe_sees_textual_when_the_ui_module_is_imported(tmp_path: Path) -> None:
    probe = "import sys, dm_explore.tui.app; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.stdout.strip() == "True", out.stderr
