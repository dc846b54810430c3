"""Whatever happens to the log folder, every request of the instrumented app still succeeds.

A real Django app (the demo's api, in this process, on a real SQLite database) serves
the same requests while its log folder is unwritable, deleted, on a full disk, at its
cap, or has its file replaced. Each response must equal the one served with recording
off, and what could not be written must be counted and reported in the file.
"""

from __future__ import annotations

import importlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import dm_log
from dm_log._writer import sink
from tests.conftest import read_events
from tests.integrations.conftest import django_setup  # noqa: F401  # the fixture
from tests.reliability.figures import record_figure

pytestmark = pytest.mark.django

ROUNDS_AT_CAP = 30
PATHS = ["/api/courses/?page=1", "/api/courses/1/", "/api/stats/", "/api/boom/"]


@pytest.fixture(scope="module", autouse=True)
def _http_uninstrumented_afterwards() -> Iterator[None]:
    """Django's app config patches httpx, requests and urllib3 for the whole process;
    undo that after this module, so later tests' own traceparent headers reach their apps."""
    yield
    from dm_log import http

    owners: list[tuple[Any, str]] = []
    for module, owner, name in (
        ("httpx", "Client", "send"),
        ("httpx", "AsyncClient", "send"),
        ("requests", "Session", "send"),
        ("urllib3.connectionpool", "HTTPConnectionPool", "urlopen"),
    ):
        try:
            owners.append((getattr(importlib.import_module(module), owner), name))
        except (ImportError, AttributeError):
            pass
    for cls, name in owners:
        original = getattr(getattr(cls, name), "__wrapped__", None)
        if original is not None:
            setattr(cls, name, original)
    http._done.clear()


def _serve(client) -> list[tuple[int, bytes]]:  # type: ignore[no-untyped-def]
    """Status and body of each path; a 500's debug page holds a timestamp, so status only."""
    return [
        (r.status_code, r.content if r.status_code < 500 else b"")
        for r in (client.get(p) for p in PATHS)
    ]


@pytest.fixture
def client_factory(django_setup: Path):  # type: ignore[no-untyped-def]  # noqa: F811
    from django.test import Client

    return lambda: Client(raise_request_exception=False)


@pytest.fixture
def baseline(django_setup: Path) -> list[tuple[int, bytes]]:  # noqa: F811
    """The responses with recording off (a client of its own: the middleware chain is
    built once per client, and without a folder the middleware steps out of it)."""
    from django.test import Client

    dm_log.configure(log_dir=None)
    return _serve(Client(raise_request_exception=False))


def _unwritable(folder: Path) -> Callable[[], None]:
    folder.write_text("a file where the folder should be")
    return lambda: folder.unlink()


def _deleted(folder: Path) -> Callable[[], None]:
    dm_log.metric("warm", 1)
    shutil.rmtree(folder)
    return lambda: None


def _disk_full(folder: Path) -> Callable[[], None]:
    folder.mkdir(mode=0o700)
    s = sink()
    assert s is not None
    target = folder / (s._base + ".jsonl")
    target.symlink_to("/dev/full")

    def fix() -> None:
        target.unlink()
        s.close()

    return fix


def _capped(folder: Path) -> Callable[[], None]:
    dm_log.configure(max_bytes=64 * 1024, cap_action="stop")
    return lambda: None


def _replaced(folder: Path) -> Callable[[], None]:
    dm_log.metric("warm", 1)
    path = Path(dm_log.log_file() or "")
    path.rename(path.with_suffix(".moved"))
    path.write_text("")  # someone else's file now stands where ours was
    return lambda: None


FAULTS = {
    "unwritable": _unwritable,
    "deleted": _deleted,
    "disk-full": _disk_full,
    "cap-reached": _capped,
    "file-replaced": _replaced,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_requests_succeed_whatever_happens_to_the_folder(
    fault: str,
    client_factory,
    baseline,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "logs"
    dm_log.configure(
        log_dir=folder,
        service="api",
        validate_all=True,
        cap_action="rotate",
        max_bytes=256 * 1024 * 1024,
    )
    client = client_factory()
    try:
        fix = FAULTS[fault](folder)
        served = []
        for _ in range(ROUNDS_AT_CAP if fault == "cap-reached" else 1):
            served = _serve(client)
            assert served == baseline, f"{fault}: a response changed"
        fix()
        time.sleep(1.05)  # the writer looks at its folder and file once a second
        assert _serve(client) == baseline
        dropped_now = sink().dropped if sink() else 0
        events = read_events(folder) if folder.is_dir() else []
    finally:
        dm_log.configure(log_dir=None, max_bytes=256 * 1024 * 1024, cap_action="rotate")
    reported = sum(e["count"] for e in events if e["event"] == "dm.dropped")
    capped = [e for e in events if e["event"] == "dm.capped"]
    rounds = ROUNDS_AT_CAP + 1 if fault == "cap-reached" else 2
    record_figure(
        f"app-fault {fault}",
        requests=len(PATHS) * rounds,
        changed_responses=0,
        drops_reported=reported,
        drops_pending=dropped_now,
    )
    if fault == "cap-reached":
        assert capped and capped[0]["action"] == "stop" and dropped_now > 0
        assert sum(p.stat().st_size for p in folder.glob("*.jsonl")) <= 64 * 1024
    else:
        assert reported > 0, f"{fault}: the loss was not reported"
        assert any(e["event"] == "request.end" for e in events), "recording resumed"
    os.environ.pop("DM_LOG_DIR", None)
