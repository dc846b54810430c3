"""Proof against a real OTLP trace store: Arize Phoenix, installed from PyPI, on loopback.

The bundled example services (web calling api over HTTP, Celery tasks) record a
folder; ``export otlp --endpoint`` sends it, and ``ship`` follows another folder
while pages are loaded, restarted mid-way. The spans, each SQL statement's span
included, are read back over Phoenix's REST API and compared with the files: trace
and span ids, parents, names, start and end times to the microsecond, attributes,
span events and status. None lost, none twice. Phoenix keeps neither the resource
(``service.name``...) nor the OTLP span kind (its ``span_kind`` is OpenInference's);
those are compared, from the same requests, by the recording receiver of
``test_send.py``, and ``dm.kind`` here.

Phoenix binds its gRPC port on every interface, so these tests run only inside a
private network namespace, where loopback is the only interface: ``.ci/run``
installs Phoenix in its own virtual environment and runs this module under
``unshare -n`` with ``DM_PHOENIX`` naming the ``phoenix`` program. Elsewhere they
are skipped, saying why; with ``DM_PHOENIX_REQUIRED=1`` (CI) they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from dm_explore.ingest import ALL_TRACES, load_folder
from dm_explore.outputs.otlp import export_requests

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
for entry in (str(EXAMPLES), str(EXAMPLES / "demo_site")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

PHOENIX = os.environ.get("DM_PHOENIX", "")
REQUIRED = os.environ.get("DM_PHOENIX_REQUIRED") == "1"
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


def _interfaces() -> list[str]:
    """Network interfaces of this process's namespace (``/proc/self/net/dev``)."""
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return sorted(line.split(":")[0].strip() for line in lines)


def _why_not() -> str | None:
    if not PHOENIX:
        return (
            "Phoenix is not installed here: set DM_PHOENIX to its `phoenix` program "
            "(bash .ci/run installs it in .venv-phoenix and runs these tests)"
        )
    if not Path(PHOENIX).is_file():
        return f"DM_PHOENIX={PHOENIX} is not a file"
    if _interfaces() != ["lo"]:
        return (
            "not in a private network namespace (Phoenix listens on every interface): "
            "run under `unshare -n` with lo up, as .ci/run does"
        )
    return None


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Phoenix serving on loopback with a fresh SQLite store; its base URL."""
    reason = _why_not()
    if reason is not None:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    from demo import free_port  # type: ignore[import-not-found]

    work = tmp_path_factory.mktemp("phoenix")
    port, grpc = free_port(), free_port()
    env = {**os.environ, "PHOENIX_WORKING_DIR": str(work), "PHOENIX_PORT": str(port),
           "PHOENIX_GRPC_PORT": str(grpc), "PHOENIX_HOST": "127.0.0.1"}  # fmt: skip
    log = (work / "phoenix.log").open("wb")
    proc = subprocess.Popen([PHOENIX, "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    try:
        while True:
            assert proc.poll() is None, (work / "phoenix.log").read_text()[-3000:]
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            assert time.monotonic() < deadline, "Phoenix did not start in 240 s"
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def phoenix_spans(url: str, traces: set[str]) -> list[dict[str, Any]]:
    """Every span Phoenix holds of the given traces, over its REST API, page by page."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "limit=1000" + (f"&cursor={cursor}" if cursor else "")
        with urllib.request.urlopen(f"{url}/v1/projects/default/spans?{query}") as answer:
            page = orjson.loads(answer.read())
        found += [s for s in page["data"] if s["context"]["trace_id"] in traces]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def _micros(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return round(moment.timestamp() * 1_000_000)


def _plain(value: dict[str, Any]) -> Any:
    """An OTLP/JSON AnyValue as the plain value Phoenix gives back."""
    ((kind, inner),) = value.items()
    if kind == "intValue":
        return int(inner)
    if kind == "arrayValue":
        return [_plain(v) for v in inner.get("values", [])]
    return inner


def expected_spans(folder: Path, ended_only: bool = False) -> dict[str, dict[str, Any]]:
    """What the files say each span is, in the terms Phoenix gives back."""
    model = load_folder(folder, max_traces=ALL_TRACES).model
    found = {}
    for request in export_requests(model):
        for rs in request["resourceSpans"]:
            for span in rs["scopeSpans"][0]["spans"]:
                attrs = {a["key"]: _plain(a["value"]) for a in span["attributes"]}
                if ended_only and attrs.get("dm.unfinished"):
                    continue
                found[span["spanId"]] = {
                    "trace_id": span["traceId"],
                    "parent_id": span.get("parentSpanId"),
                    "name": span["name"],
                    "start": int(span["startTimeUnixNano"]) // 1000,
                    "end": int(span["endTimeUnixNano"]) // 1000,
                    "status": STATUS[span["status"]["code"]],
                    "attributes": attrs,
                    "events": [e["name"] for e in span["events"]],
                }
    return found


def compare(url: str, expected: dict[str, dict[str, Any]]) -> None:
    """Wait until Phoenix holds every expected span, then compare each, field by field."""
    traces = {s["trace_id"] for s in expected.values()}
    deadline = time.monotonic() + 60
    while True:
        got = phoenix_spans(url, traces)
        if {s["context"]["span_id"] for s in got} >= set(expected):
            break
        assert time.monotonic() < deadline, f"{len(got)} of {len(expected)} spans in Phoenix"
        time.sleep(0.5)
    time.sleep(1.0)  # anything sent twice has had time to land too
    got = phoenix_spans(url, traces)
    counts = Counter(s["context"]["span_id"] for s in got)
    assert set(counts) == set(expected) and set(counts.values()) == {1}  # none lost, none twice
    for span in got:
        want = expected[span["context"]["span_id"]]
        assert span["context"]["trace_id"] == want["trace_id"]
        assert span["parent_id"] == want["parent_id"]
        assert span["name"] == want["name"]
        assert _micros(span["start_time"]) == want["start"]
        assert _micros(span["end_time"]) == want["end"]
        assert span["status_code"] == want["status"]
        assert span["attributes"] == want["attributes"]
        assert [e["name"] for e in span["events"]] == want["events"]


def _load_pages(base: str, count: int) -> None:
    for _ in range(count):
        for path in ("/", "/async/"):
            urllib.request.urlopen(base + path, timeout=60).read()


def _settled(folder: Path) -> bool:
    """Every request and task of the folder has ended (the worker is done)."""
    model = load_folder(folder, max_traces=ALL_TRACES).model
    return bool(model.spans) and all(
        s.end_ts is not None for s in model.spans.values() if s.kind in ("request", "http", "task")
    )


def _wait_settled(folder: Path) -> None:
    deadline = time.monotonic() + 60
    while not _settled(folder):
        assert time.monotonic() < deadline, "the example services did not finish their work"
        time.sleep(0.5)


def test_export_of_the_example_services_lands_whole(phoenix: str, tmp_path: Path) -> None:
    from demo import start_services

    folder = tmp_path / "logs"
    services = start_services(folder, work=tmp_path / "work")
    try:
        _load_pages(services.web_url, 3)
        _wait_settled(folder)
    finally:
        services.stop()
    expected = expected_spans(folder)
    kinds = Counter(s["attributes"]["dm.kind"] for s in expected.values())
    assert kinds["request"] >= 6 and kinds["http"] >= 3 and kinds["task"] >= 1, kinds
    statements = [s for s in expected.values() if s["attributes"]["dm.kind"] == "sql"]
    assert len(statements) >= kinds["request"]  # every page and api call runs SQL
    assert {s["name"] for s in statements} >= {"SELECT", "INSERT"}
    for statement in statements:  # each under a span that ran it, itself sent
        assert expected[statement["parent_id"]]["attributes"]["dm.kind"] != "sql"
    result = subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", "export", "otlp", str(folder),
         "--endpoint", phoenix],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    compare(phoenix, expected)


def _ship(folder: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dm_explore.cli", "ship", str(folder), "--endpoint", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def _sent(proc: subprocess.Popen[str]) -> int:
    """Stop a ship process with SIGTERM; the spans it says it sent."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (sent,) = re.findall(r"(\d+) spans sent in", err.splitlines()[-1])
    return int(sent)


def test_ship_follows_the_services_across_a_restart(phoenix: str, tmp_path: Path) -> None:
    from demo import start_services

    folder = tmp_path / "logs"
    services = start_services(folder, work=tmp_path / "work")
    try:
        first = _ship(folder, phoenix)
        _load_pages(services.web_url, 2)
        time.sleep(1.0)
        sent = _sent(first)  # restarted mid-way, with the worker possibly still busy
        _load_pages(services.web_url, 2)
        second = _ship(folder, phoenix)
        _load_pages(services.web_url, 2)
        _wait_settled(folder)
    finally:
        services.stop()
    expected = expected_spans(folder, ended_only=True)
    kinds = Counter(s["attributes"]["dm.kind"] for s in expected.values())
    assert kinds["request"] >= 12 and kinds["http"] >= 6 and kinds["task"] >= 1, kinds
    assert kinds["sql"] >= kinds["request"]
    try:
        compare(phoenix, expected)
    finally:
        sent += _sent(second)
    assert sent == len(expected)  # each span sent once over both runs, statements counted
