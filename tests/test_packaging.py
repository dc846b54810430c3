"""The schema ships inside the wheel: a non-editable install finds and uses it."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(600)
def test_wheel_in_a_fresh_venv_carries_the_schema(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next(wheels.glob("debug_monitor-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    logs = tmp_path / "logs"
    code = (
        "import json, dm_log, dm_log._schema as s\n"
        "d = s.schema_dir()\n"
        "assert 'site-packages' in str(d), d\n"
        "root = json.loads((d / 'event.schema.json').read_text())\n"
        "assert root['$id'].endswith('event.schema.json')\n"
        "assert len(s.kind_refs()) >= 24\n"
        "dm_log.panel('P', 'table', [[1]])  # invalid: validated against the shipped schema\n"
        "dm_log.panel('P', 'table', [[1]], columns=['a'])\n"
        "print(d)\n"
    )
    result = subprocess.run(
        [str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DM_LOG_DIR": str(logs), "PYTHONPATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "site-packages" in result.stdout
    text = next(logs.glob("*.jsonl")).read_text()
    assert '"event":"dm.invalid"' in text and '"event":"panel"' in text
    # The console script is installed and reads the folder with the base dependencies.
    summary = subprocess.run(
        [str(env_dir / "bin" / "dm-explore"), "summary", "--json", str(logs)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert summary.returncode == 0, summary.stderr
    assert '"events": 3' in summary.stdout
