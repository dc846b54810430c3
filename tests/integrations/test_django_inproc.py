"""Django in this process: sync and async views through the WSGI-style and ASGI handlers."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import assert_all_valid
from tests.integrations.events import events, in_span, of

pytestmark = pytest.mark.django

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


@pytest.fixture
def client(django_setup: Path, log_dir: Path):
    from django.test import Client

    return Client()


@pytest.fixture
def async_client(django_setup: Path, log_dir: Path):
    from django.test import AsyncClient

    return AsyncClient(raise_request_exception=False)


def _request(folder: Path, path: str) -> tuple[list[dict], dict, dict]:
    evs = events(folder)
    start = of(evs, "request.start", path=path)[-1]
    end = of(evs, "request.end", span=start["span"])[0]
    return evs, start, end


def test_sync_view_sync_handler(
    client, log_dir: Path, event_validator: Draft202012Validator
) -> None:
    response = client.get("/api/courses/?page=1", HTTP_TRACEPARENT=f"00-{TRACE}-{PARENT}-01")
    assert response.status_code == 200
    evs, start, end = _request(log_dir, "/api/courses/")
    assert start["trace"] == TRACE and start["parent"] == PARENT, "continues the caller's trace"
    assert start["async"] is False and start["query"] == "page=1"
    assert end["status"] == 200 and end["view"] == "courses.views.course_list"
    assert end["bytes"] == len(response.content) and end["content_type"] == "application/json"
    sql = in_span(evs, start["span"], "sql")
    assert end["queries"] == len(sql) >= 4
    assert sql[0]["vendor"] == "sqlite" and sql[0]["alias"] == "default"
    assert sql[0]["site"]["file"].endswith("courses/views.py")
    assert_all_valid(log_dir, event_validator)


def test_async_view_sync_handler(client, log_dir: Path) -> None:
    assert client.get("/api/stats/").status_code == 200
    evs, start, end = _request(log_dir, "/api/stats/")
    assert end["view"] == "courses.views.stats"
    assert in_span(evs, start["span"], "sql"), (
        "async ORM runs in a worker thread, still under the span"
    )


def test_async_and_sync_views_async_handler(async_client, log_dir: Path) -> None:
    import asyncio

    async def go() -> None:
        assert (await async_client.get("/api/stats/")).status_code == 200
        assert (await async_client.get("/api/courses/1/")).status_code == 200
        assert (await async_client.get("/api/boom/")).status_code == 500

    asyncio.run(go())
    evs, start, end = _request(log_dir, "/api/stats/")
    assert start["async"] is True and in_span(evs, start["span"], "sql")
    evs, start, end = _request(log_dir, "/api/courses/1/")
    assert start["async"] is True and end["status"] == 200
    assert {p["type"] for p in in_span(evs, start["span"], "panel")} == {"table", "markdown"}
    assert in_span(evs, start["span"], "sql"), "sync view under the ASGI handler"
    evs, start, end = _request(log_dir, "/api/boom/")
    assert end["status"] == 500 and end["outcome"] == "error"
    exc = in_span(evs, start["span"], "exception")
    assert len(exc) == 1 and exc[0]["type"] == "ValueError" and exc[0]["handled"] is False


def test_handled_404_and_sql_error(client, log_dir: Path) -> None:
    from django.db import OperationalError, connection

    assert client.get("/nowhere/").status_code == 404
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table WHERE password = %s", ["hunter22-secret"])
    evs = events(log_dir)
    failed = [e for e in of(evs, "sql") if "no_such_table" in e["sql"]]
    assert failed and "no such table" in failed[0]["error"]
    assert failed[0]["params"] == ["[redacted]"]
    assert of(evs, "request.end", status=404)


def test_recording_off_costs_no_middleware(django_setup: Path) -> None:
    from django.test import Client

    import dm_log

    assert not dm_log.enabled()
    handler_client = Client()
    handler_client.get("/health/")
    chain = handler_client.handler._middleware_chain
    names = []
    while chain is not None:
        names.append(type(getattr(chain, "__self__", chain)).__name__)
        chain = getattr(getattr(chain, "__self__", None), "get_response", None)
    assert "DebugMonitorMiddleware" not in names
