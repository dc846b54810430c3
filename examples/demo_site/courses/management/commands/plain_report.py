"""A plain BaseCommand: monitored automatically because dm_log.django is installed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...models import Course


class Command(BaseCommand):
    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--fail", action="store_true")

    def handle(self, *args: Any, fail: bool, **options: Any) -> None:
        n = Course.objects.count()
        if fail:
            raise CommandError(f"report refused: {n} courses")
        self.stdout.write(f"{n} courses")
