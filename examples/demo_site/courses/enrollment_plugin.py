"""A "plugin" of the kind another team would ship: an Enrollment panel.

It only calls the public panel API; the explorer renders the table and the
Markdown from generic primitives, with nothing installed on its side.
"""

from __future__ import annotations

from typing import Any

import dm_log


def report_enrollment(course: Any, enrollments: list[Any]) -> None:
    """Attach the course's enrollments to the current request."""
    rows = [[e.student, e.mode, "yes" if e.notified else "no"] for e in enrollments]
    dm_log.panel("Enrollment", "table", rows, columns=["student", "mode", "notified"])
    dm_log.panel(
        "Enrollment",
        "markdown",
        f"**{course.title}** (`{course.code}`): {len(rows)} enrolled, "
        f"{sum(1 for e in enrollments if e.mode == 'verified')} verified.",
    )
