"""Run the sample Django project's test suite in a subprocess, recording into a folder.

The plugin is loaded the way a user gets it: through the ``pytest11`` entry
point when the package is installed (editable or not), with ``-p`` otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(__file__).resolve().parent / "sample_project"
# What the sample suite does, test by test (see sample_project/tests/test_shop.py).
RESULTS = {
    "tests/test_shop.py::test_items_page": "passed",
    "tests/test_shop.py::test_items_total_is_wrong": "failed",
    "tests/test_shop.py::test_boom_is_a_500": "passed",
    "tests/test_shop.py::test_async_client": "passed",
    "tests/test_shop.py::test_setup_error": "error",
    "tests/test_shop.py::test_skipped": "skipped",
}


# Plugins of this venv the sample does not use; importing them costs seconds per process.
_UNUSED = ["hypothesispytest", "textual-snapshot", "syrupy", "anyio", "timeout"]


def _plugin_args() -> list[str]:
    installed = any(ep.name == "dm_log" for ep in entry_points(group="pytest11"))
    blocked = [arg for name in _UNUSED for arg in ("-p", f"no:{name}")]
    return blocked + ([] if installed else ["-p", "dm_log.pytest_plugin"])


def run_sample(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in the sample project; DM_* variables cleared unless given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DM_", "PYTEST_"))}
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT), base.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "pytest", *_plugin_args(), "-q", *args],
        cwd=SAMPLE,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
