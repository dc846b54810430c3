"""Create courses and enrollments, reporting progress (the command-monitoring demo)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import CommandParser

from dm_log.django import MonitoredCommand
from dm_log.django.commands import track

from ...models import ApiToken, Course, Enrollment

log = logging.getLogger("courses.import")


class Command(MonitoredCommand):
    help = "Import demo courses (optionally slowly, or failing half-way)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=5)
        parser.add_argument("--sleep", type=float, default=0.0, help="seconds per course")
        parser.add_argument("--fail-at", type=int, default=-1)

    def handle(self, *args: Any, count: int, sleep: float, fail_at: int, **options: Any) -> None:
        ApiToken.objects.get_or_create(key="tok-demo-0001", owner="demo")
        for i in track(range(count), message="courses"):
            if i == fail_at:
                raise RuntimeError(f"bad row {i} in the import file")
            course, _ = Course.objects.get_or_create(
                code=f"C{i:03d}", defaults={"title": f"Course {i}"}
            )
            if not course.enrollments.exists():
                Enrollment.objects.bulk_create(
                    [
                        Enrollment(
                            course=course,
                            student=f"s{i}-{j}",
                            mode="verified" if j % 3 == 0 else "audit",
                        )
                        for j in range(4)
                    ]
                )
            if sleep:
                time.sleep(sleep)
        log.info("imported %d courses", count)
        self.stdout.write(f"imported {count} courses")
