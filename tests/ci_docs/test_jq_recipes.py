"""Every recipe in docs/jq.md, run with jq on the fixture folder, prints what the page shows."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ci_docs.fixture import write_fixture

DOC = Path(__file__).resolve().parents[2] / "docs" / "jq.md"
# A ```sh block and the ```text block right after it (blank lines between allowed).
PAIR = re.compile(r"```sh\n(.*?)```\n\s*```text\n(.*?)```", re.S)

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")


def _recipes() -> list[tuple[str, str]]:
    return PAIR.findall(DOC.read_text())


def test_every_sh_block_has_its_output_shown() -> None:
    text = DOC.read_text()
    assert len(_recipes()) == text.count("```sh\n") >= 10


@pytest.mark.parametrize(
    "command, expected",
    _recipes(),
    ids=[
        re.sub(r"\W+", "-", h).strip("-").lower()
        for h in re.findall(r"^## (.+)$", DOC.read_text(), re.M)
    ],
)
def test_recipe_prints_what_the_page_shows(command: str, expected: str, tmp_path: Path) -> None:
    write_fixture(tmp_path / "logs")
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", command],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected, f"{command}\n--- got:\n{result.stdout}"
