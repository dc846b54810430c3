"""Celery tasks queued by the api: one plain, one retrying once, one failing."""

from __future__ import annotations

import logging

from .celery_app import app

log = logging.getLogger("courses.tasks")


@app.task(name="courses.notify_enrollment")
def notify_enrollment(enrollment_id: int, api_token: str = "") -> int:
    from .models import Enrollment

    enrollment = Enrollment.objects.select_related("course").get(pk=enrollment_id)
    Enrollment.objects.filter(pk=enrollment_id).update(notified=True)
    log.info("notified %s about %s", enrollment.student, enrollment.course.code)
    return enrollment_id


@app.task(name="courses.flaky", bind=True, max_retries=2)
def flaky(self: object, label: str) -> str:
    if self.request.retries < 1:  # type: ignore[attr-defined]
        raise self.retry(exc=ConnectionError(f"{label}: upstream not ready"), countdown=0)  # type: ignore[attr-defined]
    return label


@app.task(name="courses.broken")
def broken(course_code: str) -> None:
    raise RuntimeError(f"cannot rebuild certificate for {course_code}")
