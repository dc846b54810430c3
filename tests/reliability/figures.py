"""Figures the reliability suite measures, printed at the end of the run for docs/reliability.md."""

from __future__ import annotations

from typing import Any

FIGURES: dict[str, dict[str, Any]] = {}


def record_figure(name: str, **values: Any) -> None:
    """Keep ``values`` under ``name`` (merged) for the end-of-run summary."""
    FIGURES.setdefault(name, {}).update(values)
