"""Reliability suite: prints what it measured, for docs/reliability.md."""

from __future__ import annotations

import pytest

from tests.reliability.figures import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("debug-monitor reliability figures")
    for name, values in sorted(FIGURES.items()):
        line = ", ".join(f"{k}={v}" for k, v in values.items())
        terminalreporter.write_line(f"{name}: {line}")
