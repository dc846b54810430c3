"""End to end across real processes: web (runserver) -> api (uvicorn) -> Celery worker."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator

from tests.conftest import assert_all_valid
from tests.integrations.conftest import wait_for
from tests.integrations.events import by_trace, children, events, in_span, of

pytestmark = pytest.mark.django


def _load(url: str, **kwargs: object) -> requests.Response:
    response = requests.get(url, timeout=30, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text[:500]
    return response


def test_page_load_is_one_trace_across_services(
    services, event_validator: Draft202012Validator
) -> None:
    _load(services.web_url + "/")
    folder: Path = services.log_dir

    def page_trace() -> list[dict] | None:
        evs = events(folder)
        starts = of(evs, "request.start", svc="web", path="/")
        if not starts:
            return None
        trace = by_trace(evs)[starts[-1]["trace"]]
        done = [e for e in trace if e["event"] == "task.end"]
        return trace if len(done) >= 4 and of(trace, "request.end", svc="web") else None

    trace = wait_for(page_trace, timeout=30)
    web = of(trace, "request.start", svc="web")[0]
    assert "parent" not in web
    assert of(trace, "request.end", svc="web")[0]["status"] == 200
    assert in_span(trace, web["span"], "sql"), "the web view's own SQL is under its request"

    calls = children(trace, web["span"], "http")
    assert len(calls) >= 6, "the page calls the api several times"
    assert {c["lib"] for c in calls} >= {"requests", "httpx"}
    api_requests = {}
    for call in calls:
        served = children(trace, call["span"], "request")
        assert len(served) == 1, f"no api request continues {call['url']}"
        assert served[0]["svc"] == "api"
        api_requests[served[0]["path"]] = served[0]
        assert of(trace, "http.end", span=call["span"])[0]["status"] in (200, 500)

    listing = api_requests["/api/courses/"]
    sql = in_span(trace, listing["span"], "sql")
    counts = [s for s in sql if "COUNT" in s["sql"]]
    assert len(counts) >= 3, "the N+1 pattern shows as repeated COUNT queries"
    assert all(s["site"]["func"] in ("course_list", "<listcomp>") for s in counts)
    assert all(s["site"]["file"].endswith("courses/views.py") for s in counts)
    end = of(trace, "request.end", span=listing["span"])[0]
    assert end["route"] == "api/courses/" and end["view"] == "courses.views.course_list"
    assert end["queries"] == len(sql)

    detail = next(r for p, r in api_requests.items() if p.startswith("/api/courses/1"))
    panels = in_span(trace, detail["span"], "panel")
    assert {p["type"] for p in panels} == {"table", "markdown"}
    assert all(p["panel"] == "Enrollment" for p in panels)

    stats = api_requests["/api/stats/"]
    assert stats["async"] is True and in_span(trace, stats["span"], "sql"), "async view, async ORM"

    boom = api_requests["/api/boom/"]
    exc = in_span(trace, boom["span"], "exception")
    assert any(
        e["type"] == "ValueError" and e["mechanism"] == "django" and not e["handled"] for e in exc
    )
    assert of(trace, "request.end", span=boom["span"])[0]["status"] == 500

    enroll = api_requests["/api/enroll/"]
    tasks = children(trace, enroll["span"], "task")
    assert {t["task"] for t in tasks} >= {"courses.notify_enrollment", "courses.flaky"}
    assert all(t["svc"] == "worker" for t in tasks)
    notify = next(t for t in tasks if t["task"] == "courses.notify_enrollment")
    assert in_span(trace, notify["span"], "sql"), "the task's SQL is under its span"
    assert of(trace, "task.end", span=notify["span"])[0]["state"] == "SUCCESS"

    flaky = next(t for t in tasks if t["task"] == "courses.flaky")
    assert of(trace, "task.end", span=flaky["span"])[0]["state"] == "RETRY"
    retried = children(trace, flaky["span"], "task")
    assert retried and retried[0]["retries"] == 1
    assert of(trace, "task.end", span=retried[0]["span"])[0]["state"] == "SUCCESS"

    assert_all_valid(folder, event_validator)


def test_task_failure_is_recorded(services) -> None:
    for _ in range(2):  # odd enrollment ids queue the failing task
        _load(services.web_url + "/")

    def failed() -> list[dict]:
        evs = events(services.log_dir)
        return [e for e in of(evs, "task.end", task=None) if e.get("state") == "FAILURE"] or [
            e for e in evs if e["event"] == "task.end" and e.get("state") == "FAILURE"
        ]

    end = wait_for(failed, timeout=30)[0]
    assert end["outcome"] == "error" and "RuntimeError" in end["error"]
    evs = events(services.log_dir)
    exc = in_span(evs, end["span"], "exception")
    assert exc and exc[0]["mechanism"] == "celery" and exc[0]["type"] == "RuntimeError"


def test_async_view_under_wsgi_server(services) -> None:
    _load(services.web_url + "/async/")
    evs = wait_for(
        lambda: (
            (e := events(services.log_dir))
            and of(e, "request.end", view="courses.views.async_page")
            and e
        )
    )
    start = of(evs, "request.start", path="/async/")[-1]
    assert start["svc"] == "web" and start["async"] is False  # runserver: sync chain, async view
    assert in_span(evs, start["span"], "sql"), "async ORM under an async view"
    assert children(evs, start["span"], "http")[0]["lib"] == "httpx"


SECRETS = {
    "bearer": "Zb3arer-S3cret-0001",
    "cookie": "c00kie-S3cret-0002",
    "password": "pa55word-S3cret-0003",
    "token": "t0ken-S3cret-0004",
    "key": "k3y-S3cret-0005",
}


def test_secrets_never_reach_the_files(services) -> None:
    url = f"{services.web_url}/login/?token={SECRETS['token']}&api_key={SECRETS['key']}&page=2"
    response = requests.post(
        url,
        data={"username": "ada", "password": SECRETS["password"]},
        headers={"Authorization": f"Bearer {SECRETS['bearer']}"},
        cookies={"sessionid": SECRETS["cookie"]},
        timeout=30,
    )
    assert response.status_code == 200
    wait_for(lambda: of(events(services.log_dir), "request.end", view="courses.views.login"))
    evs = events(services.log_dir)
    start = of(evs, "request.start", path="/login/")[-1]
    assert start["form"]["username"] == "ada" and start["form"]["password"] == "[redacted]"
    assert "page=2" in start["query"]
    sql = in_span(evs, start["span"], "sql")
    assert sql and sql[0]["params"] == ["[redacted]"], "the token used as an SQL parameter"
    for path in services.log_dir.glob("*.jsonl"):
        text = path.read_text()
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} leaked into {path.name}"


def test_every_line_validates(services, event_validator: Draft202012Validator) -> None:
    urllib.request.urlopen(services.web_url + "/health/", timeout=10).read()
    assert_all_valid(services.log_dir, event_validator)
