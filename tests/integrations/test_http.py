"""Outgoing HTTP with requests, httpx (sync and async) and urllib3 against a real local server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import requests
import urllib3

import dm_log
from dm_log import http as dm_http
from tests.integrations.events import events, of


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"traceparent": self.headers.get("traceparent")}).encode()
        self.send_response(503 if self.path.startswith("/down") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def instrumented() -> None:
    assert dm_log.http.instrument() >= {"requests", "httpx", "urllib3"}


def _check(folder: Path, lib: str, received: str | None, status: int = 200) -> dict:
    evs = events(folder)
    starts = of(evs, "http.start", lib=lib)
    assert len(starts) == 1, [e["lib"] for e in of(evs, "http.start")]
    start = starts[0]
    assert received == f"00-{start['trace']}-{start['span']}-01", "traceparent names the http span"
    end = of(evs, "http.end", span=start["span"])[0]
    assert end["status"] == status and end["bytes"] > 0
    return start


def test_requests_one_span_not_two(server: str, log_dir: Path) -> None:
    with dm_log.span("caller") as outer:
        got = requests.get(f"{server}/r?access_token=s3cr3t-tok&x=1", timeout=5).json()
    start = _check(log_dir, "requests", got["traceparent"])
    assert start["parent"] == outer.span_id
    assert "s3cr3t-tok" not in start["url"] and "x=1" in start["url"]
    assert not of(events(log_dir), "http.start", lib="urllib3")


def test_httpx_sync(server: str, log_dir: Path) -> None:
    got = httpx.get(f"{server}/h").json()
    _check(log_dir, "httpx", got["traceparent"])


def test_httpx_async(server: str, log_dir: Path) -> None:
    async def go() -> dict:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{server}/a")).json()

    _check(log_dir, "httpx", asyncio.run(go())["traceparent"])


def test_urllib3_and_credentials_in_url(server: str, log_dir: Path) -> None:
    url = server.replace("http://", "http://bob:pa55-word@") + "/u"
    got = json.loads(urllib3.request("GET", url).data)
    start = _check(log_dir, "urllib3", got["traceparent"])
    assert "pa55-word" not in json.dumps(events(log_dir))
    assert start["method"] == "GET"


def test_server_error_and_connection_error(server: str, log_dir: Path) -> None:
    requests.get(f"{server}/down", timeout=5)
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:9/", timeout=2)
    ends = of(events(log_dir), "http.end")
    assert ends[0]["status"] == 503 and ends[0]["outcome"] == "error"
    assert ends[1]["outcome"] == "error" and "ConnectionError" in ends[1]["error"]


def test_idempotent_and_silent_when_off(server: str) -> None:
    before = requests.Session.send
    dm_http.instrument()
    assert requests.Session.send is before
    assert not dm_log.enabled()
    assert requests.get(f"{server}/off", timeout=5).json()["traceparent"] is None


@pytest.mark.parametrize("lib", ["requests", "httpx", "urllib3"])
def test_a_traceparent_the_caller_set_is_kept(server: str, log_dir: Path, lib: str) -> None:
    given = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    url = f"{server}/given"
    if lib == "requests":
        got = requests.get(url, headers={"traceparent": given}, timeout=5).json()
    elif lib == "httpx":
        got = httpx.get(url, headers={"TraceParent": given}).json()
    else:
        pool = urllib3.PoolManager()
        got = json.loads(pool.request("GET", url, headers={"traceparent": given}).data)
    assert got["traceparent"] == given, "the downstream continues the caller's own trace"
    assert of(events(log_dir), "http.start", lib=lib), "the call is still recorded"
