"""``dm-explore mcp`` on the folder the example services write: a page load, as an agent sees it."""

from __future__ import annotations

import pytest
import requests

from tests.explore.mcp_client import mcp_server

pytest.importorskip("mcp")
pytestmark = [pytest.mark.django, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_an_agent_finds_the_page_its_trace_and_its_repeated_queries(services) -> None:
    async with mcp_server(services.log_dir) as agent:
        response = requests.get(services.web_url + "/", timeout=30)
        assert response.status_code == 200

        def page_done(answer: dict) -> bool:
            return any(r["name"] == "GET /" and r["outcome"] == "ok" for r in answer["requests"])

        listing = await agent.until("list_requests", page_done, timeout=30, service="web")
        page = next(r for r in listing["requests"] if r["name"] == "GET /")

        def tasks_done(answer: dict) -> bool:
            tasks = [s for s in answer["spans"] if s["kind"] == "task"]
            return len(tasks) >= 4 and all(s["ms"] is not None for s in tasks)

        trace = await agent.until("get_trace", tasks_done, timeout=30, trace_id=page["trace"])
        assert {"web", "api", "worker"} <= set(trace["services"])
        assert trace["spans"][0]["span"] == page["span"] and trace["spans"][0]["depth"] == 0

        courses = next(s for s in trace["spans"] if s["name"].startswith("GET /api/courses/"))
        detail = await agent.call("get_request", span_id=courses["span"])
        counts = [s for s in detail["sql"]["statements"] if "COUNT" in s["sql"]]
        assert len(counts) >= 3
        assert all("similar" in s.get("flags", ()) for s in counts), "the N+1 pattern is flagged"
        assert all(s["site"] for s in counts), "each statement names its call site"

        web = await agent.call("get_request", span_id=page["span"])
        assert web["overview"]["status"] == 200
        assert {c["svc"] for c in web["calls"]} == {"api"}
        assert (await agent.call("tail", limit=10))["events"]
