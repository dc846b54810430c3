"""Views of both roles. ``web`` pages call the ``api`` over HTTP; the api does the work."""

from __future__ import annotations

import logging

import httpx
import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

import dm_log

from .enrollment_plugin import report_enrollment
from .models import ApiToken, Course, Enrollment, PageView

log = logging.getLogger("courses.views")


# --- web ---------------------------------------------------------------------------------


def page(request: HttpRequest) -> HttpResponse:
    """The page: several REST calls to the api, as a page full of widgets would make."""
    PageView.objects.create(path=request.path)
    views = PageView.objects.count()
    api = settings.DEMO_API_URL
    lines = []
    with requests.Session() as session:
        courses = session.get(f"{api}/api/courses/", timeout=10).json()["courses"]
        for course in courses[:3]:
            detail = session.get(f"{api}/api/courses/{course['id']}/", timeout=10).json()
            lines.append(f"{detail['title']}: {detail['enrolled']} enrolled")
        enrolled = session.post(
            f"{api}/api/enroll/", data={"course": courses[0]["id"], "student": "ada"}, timeout=10
        ).json()
    stats = httpx.get(f"{api}/api/stats/", timeout=10).json()
    failing = requests.get(f"{api}/api/boom/", timeout=10).status_code
    log.info("page built with %d courses", len(courses))
    body = "<br>".join(lines)
    return HttpResponse(
        f"<h1>Courses</h1>{body}<p>enrollment {enrolled['id']} queued, {stats['courses']} "
        f"courses, boom answered {failing}, {views} page views</p>"
    )


async def async_page(request: HttpRequest) -> HttpResponse:
    """An async view: async ORM and an async HTTP call."""
    count = await PageView.objects.acount()
    async with httpx.AsyncClient(timeout=10) as client:
        stats = (await client.get(f"{settings.DEMO_API_URL}/api/stats/")).json()
    return HttpResponse(f"{count} page views, api has {stats['courses']} courses")


@csrf_exempt
def login(request: HttpRequest) -> JsonResponse:
    """Takes secrets in every form a request can carry (for the redaction test)."""
    token = request.GET.get("token", "")
    found = ApiToken.objects.filter(key=token).first()
    return JsonResponse({"ok": found is not None, "user": request.POST.get("username", "")})


# --- api ---------------------------------------------------------------------------------


def course_list(request: HttpRequest) -> JsonResponse:
    """Deliberate N+1: one COUNT per course."""
    courses = [
        {"id": c.id, "code": c.code, "enrolled": c.enrollments.count()}
        for c in Course.objects.order_by("id")
    ]
    dm_log.metric("courses.enrolled", sum(c["enrolled"] for c in courses), unit="students")
    return JsonResponse({"courses": courses})


def course_detail(request: HttpRequest, pk: int) -> JsonResponse:
    course = Course.objects.get(pk=pk)
    enrollments = list(course.enrollments.order_by("id")[:20])
    report_enrollment(course, enrollments)
    return JsonResponse({"id": course.id, "title": course.title, "enrolled": len(enrollments)})


@csrf_exempt
def enroll(request: HttpRequest) -> JsonResponse:
    from .tasks import broken, flaky, notify_enrollment

    course = Course.objects.get(pk=int(request.POST.get("course", "1")))
    enrollment = Enrollment.objects.create(course=course, student=request.POST.get("student", "?"))
    notify_enrollment.delay(enrollment.id)
    flaky.delay(f"welcome-{enrollment.id}")
    if enrollment.id % 2 == 1:
        broken.delay(course.code)
    return JsonResponse({"id": enrollment.id})


def boom(request: HttpRequest) -> JsonResponse:
    Course.objects.filter(code="missing").exists()
    raise ValueError("the api endpoint that always fails")


async def stats(request: HttpRequest) -> JsonResponse:
    """An async api view (async ORM)."""
    return JsonResponse({"courses": await Course.objects.acount()})


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
