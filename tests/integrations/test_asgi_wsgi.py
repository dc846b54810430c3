"""Generic ASGI (Starlette) and WSGI (Flask) middleware, and the Channels consumer mixin."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
import requests
from jsonschema import Draft202012Validator

from dm_log.asgi import DebugMonitorASGIMiddleware
from dm_log.wsgi import DebugMonitorWSGIMiddleware, flask_errors
from tests.conftest import assert_all_valid
from tests.integrations.conftest import wait_for
from tests.integrations.events import events, in_span, of

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _starlette_app():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    import dm_log

    async def item(request):  # type: ignore[no-untyped-def]
        dm_log.record("sql", sql="SELECT 1", ms=0.1)
        return JSONResponse({"id": request.path_params["pk"]})

    async def fail(request):  # type: ignore[no-untyped-def]
        raise KeyError("missing")

    app = Starlette(routes=[Route("/items/{pk}", item), Route("/fail", fail)])
    return DebugMonitorASGIMiddleware(app)


def test_starlette(log_dir: Path, event_validator: Draft202012Validator) -> None:
    async def go() -> None:
        transport = httpx.ASGITransport(app=_starlette_app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            got = await client.get(
                "/items/7?q=1", headers={"traceparent": TP, "cookie": "sid=zz-cookie-val"}
            )
            assert got.status_code == 200
            assert (await client.get("/fail")).status_code == 500

    asyncio.run(go())
    evs = events(log_dir)
    start = of(evs, "request.start", path="/items/7")[0]
    assert start["trace"] == TP.split("-")[1] and start["query"] == "q=1" and start["async"] is True
    assert start["headers"]["cookie"] == "[redacted]"
    end = of(evs, "request.end", span=start["span"])[0]
    assert (
        end["status"] == 200
        and end["route"] == "/items/{pk}"
        and end["bytes"] == len(b'{"id":"7"}')
    )
    assert in_span(evs, start["span"], "sql")
    failed = of(evs, "request.start", path="/fail")[0]
    assert of(evs, "request.end", span=failed["span"])[0]["status"] == 500
    assert in_span(evs, failed["span"], "exception")[0]["type"] == "KeyError"
    assert "zz-cookie-val" not in str(evs)
    assert_all_valid(log_dir, event_validator)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flask_server() -> Iterator[str]:
    from flask import Flask

    app = Flask("demo-flask")

    @app.get("/hello/<name>")
    def hello(name: str) -> dict:
        return {"hello": name}

    @app.get("/oops")
    def oops() -> str:
        raise ZeroDivisionError("flask view failed")

    flask_errors(app)
    app.wsgi_app = DebugMonitorWSGIMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    httpd = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_flask_over_wsgiref(
    flask_server: str, log_dir: Path, event_validator: Draft202012Validator
) -> None:
    got = requests.get(f"{flask_server}/hello/ada?x=2", headers={"traceparent": TP}, timeout=5)
    assert got.json() == {"hello": "ada"}
    assert requests.get(f"{flask_server}/oops", timeout=5).status_code == 500
    # The server writes request.end once the body is sent and closed: after the client has it.
    evs = wait_for(lambda: (e := events(log_dir)) and len(of(e, "request.end")) >= 2 and e)
    start = of(evs, "request.start", path="/hello/ada")[0]
    assert start["parent"] == TP.split("-")[2] and start["async"] is False
    end = of(evs, "request.end", span=start["span"])[0]
    assert end["status"] == 200 and end["bytes"] == len(got.content)
    oops = of(evs, "request.start", path="/oops")[0]
    assert of(evs, "request.end", span=oops["span"])[0]["outcome"] == "error"
    assert in_span(evs, oops["span"], "exception")[0]["type"] == "ZeroDivisionError"
    assert_all_valid(log_dir, event_validator)


@pytest.mark.django
def test_channels_websocket(django_setup: Path, log_dir: Path) -> None:
    from channels.testing import WebsocketCommunicator
    from courses.consumers import EchoConsumer  # type: ignore[import-not-found]

    async def go() -> None:
        communicator = WebsocketCommunicator(EchoConsumer.as_asgi(), "/ws/echo/")
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_to(text_data="hi")
        assert (await communicator.receive_from()).startswith("hi (")
        await communicator.disconnect()

    asyncio.run(go())
    evs = events(log_dir)
    session = of(evs, "request.start", protocol="websocket")[0]
    end = of(evs, "request.end", span=session["span"])[0]
    assert end["status"] == 101 and end["bytes"] == 2
    names = [e["name"] for e in of(evs, "span.start") if e.get("parent") == session["span"]]
    assert names == ["websocket.connect", "websocket.receive", "websocket.disconnect"]
    receive = of(evs, "span.start", name="websocket.receive")[0]
    assert in_span(evs, receive["span"], "sql"), "the handler's SQL is under its message"
