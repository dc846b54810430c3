"""Corners of the Django integration, served for real by uvicorn (ASGI) on loopback.

A small project is written to a temp folder (SQLite, ``django.contrib.auth``), migrated,
then served with ``DM_SQL_EXPLAIN_MS=0`` and ``DM_PROFILE=all``; everything is asserted
from the files dm_log wrote:

* EXPLAIN on a statement inside a transaction broken by an ``IntegrityError``: no
  plan, nothing raised into the view, the request recorded; after a savepoint
  rollback the transaction is usable again and SELECTs get their plan;
* ``DM_PROFILE=all``: one ``profile`` event in every request's span, 404s included;
* ``cpu_ms`` of async views: near the wall time for a view burning CPU on the event
  loop, far below it for a view that awaits a sleep.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import assert_all_valid
from tests.integrations.conftest import wait_for
from tests.integrations.events import Event, events, in_span, of

pytestmark = [pytest.mark.django, pytest.mark.xdist_group("django_corners")]

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """
import os
SECRET_KEY = "corners"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "corners_app"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "dm_log.django"]
MIDDLEWARE = ["dm_log.django.DebugMonitorMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["CORNERS_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DM_LOGGING = False
"""

APP = '''
import asyncio
import time

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.http import JsonResponse
from django.urls import path


def broken(request):
    """A duplicate username inside atomic(): the transaction is broken until the block ends."""
    User.objects.get_or_create(username="ann")
    seen = {}
    with transaction.atomic():
        try:
            User.objects.create(username="ann")
        except IntegrityError:
            seen["integrity_error"] = True
        seen["needs_rollback"] = connection.needs_rollback
        try:
            User.objects.filter(username__startswith="a").count()
        except TransactionManagementError:
            seen["blocked"] = True
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the error is rolled back to it
                User.objects.create(username="ann")
        except IntegrityError:
            seen["savepoint_rolled_back"] = True
        seen["users"] = User.objects.filter(username__startswith="a").count()
    return JsonResponse(seen)


def fast(request):
    return JsonResponse({"users": User.objects.count()})


def _burn(seconds):
    end = time.thread_time() + seconds
    total = 0
    while time.thread_time() < end:
        total += sum(i * i for i in range(500))
    return total


async def spin(request):
    return JsonResponse({"total": _burn(0.15)})


async def nap(request):
    await asyncio.sleep(0.3)
    return JsonResponse({"slept": True})


urlpatterns = [
    path("broken/", broken), path("fast/", fast), path("spin/", spin), path("nap/", nap),
]
'''

ASGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "corners_settings")
from django.core.asgi import get_asgi_application
application = get_asgi_application()
"""

PAGES = ["/broken/", "/fast/", "/spin/", "/nap/", "/nowhere/"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The project served by uvicorn, each page requested in turn: (logs, answers)."""
    base = tmp_path_factory.mktemp("corners")
    (base / "corners_settings.py").write_text(SETTINGS)
    (base / "corners_app.py").write_text(textwrap.dedent(APP))
    (base / "corners_asgi.py").write_text(ASGI)
    logs = base / "logs"
    env = dict(os.environ)
    env.pop("DM_LOG_DIR", None)
    env.update(
        CORNERS_DB=str(base / "db.sqlite3"), DJANGO_SETTINGS_MODULE="corners_settings",
        PYTHONPATH=os.pathsep.join([str(base), str(ROOT)]), PYTHONDONTWRITEBYTECODE="1",
        DM_VALIDATE="1",
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v", "0"], cwd=base, env=env,
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    env.update(DM_LOG_DIR=str(logs), DM_SQL_EXPLAIN_MS="0", DM_PROFILE="all")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "corners_asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--log-level", "warning"],
        cwd=base, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    answers: dict[str, Any] = {}
    try:

        def up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return server.poll() is not None

        wait_for(up, timeout=30)
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        for page in PAGES:
            answers[page] = _get(port, page)
        wait_for(lambda: len(of(events(logs), "request.end")) >= len(PAGES), timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=10)
    yield logs, answers


def _request(logs: Path, path: str) -> tuple[list[Event], Event, Event]:
    evs = events(logs)
    start = of(evs, "request.start", path=path)[-1]
    end = of(evs, "request.end", span=start["span"])[0]
    return evs, start, end


def test_explain_never_runs_in_a_broken_transaction(
    served: tuple[Path, dict[str, Any]], event_validator: Draft202012Validator
) -> None:
    logs, answers = served
    status, body = answers["/broken/"]
    assert status == 200, body[:500]
    seen = json.loads(body)
    assert seen == {
        "integrity_error": True, "needs_rollback": True, "blocked": True,
        "savepoint_rolled_back": True, "users": 1,
    }, "the view saw Django's own errors and nothing of dm_log's"  # fmt: skip
    evs, start, end = _request(logs, "/broken/")
    assert end["status"] == 200 and end["outcome"] == "ok"
    assert not in_span(evs, start["span"], "exception")
    sql = in_span(evs, start["span"], "sql")
    assert end["queries"] == len(sql)
    counts = [e for e in sql if "COUNT(*)" in e["sql"]]
    assert len(counts) == 2
    in_broken, after_savepoint = counts
    assert in_broken["error"].startswith("TransactionManagementError")
    assert "plan" not in in_broken
    assert "error" not in after_savepoint and after_savepoint["plan"], "EXPLAIN is on"
    failed_inserts = [e for e in sql if e["sql"].startswith("INSERT") and "error" in e]
    assert len(failed_inserts) == 2
    assert all(e["error"].startswith("IntegrityError") and "plan" not in e for e in failed_inserts)
    assert any(e["sql"].startswith("ROLLBACK TO SAVEPOINT") for e in sql)
    assert_all_valid(logs, event_validator)


def test_explain_skips_a_connection_that_needs_rollback(django_setup: Path) -> None:
    """The guard itself, on a live connection left broken by an IntegrityError."""
    from courses.models import Course  # type: ignore[import-not-found]
    from django.db import IntegrityError, connection, transaction

    from dm_log.django.sql import explain

    Course.objects.get_or_create(code="corner-1", defaults={"title": "Corner"})
    query = f'SELECT * FROM "{Course._meta.db_table}"'
    with transaction.atomic():
        assert explain(connection, query, None), "a plan while the transaction is healthy"
        with pytest.raises(IntegrityError):
            Course.objects.create(code="corner-1", title="Again")
        assert connection.needs_rollback
        assert explain(connection, query, None) is None
        assert connection.needs_rollback, "left as it was"
    assert Course.objects.filter(code="corner-1").count() == 1


def test_profile_all_profiles_every_request(served: tuple[Path, dict[str, Any]]) -> None:
    logs, answers = served
    assert answers["/nowhere/"][0] == 404
    evs = events(logs)
    starts = of(evs, "request.start")
    assert sorted(s["path"] for s in starts) == sorted(PAGES)
    for start in starts:
        profiles = in_span(evs, start["span"], "profile")
        assert len(profiles) == 1, start["path"]
        assert profiles[0]["interval"] > 0 and isinstance(profiles[0]["stacks"], dict)
    (spin,) = in_span(evs, of(evs, "request.start", path="/spin/")[0]["span"], "profile")
    assert any("corners_app:_burn" in stack for stack in spin["stacks"])


def test_cpu_ms_of_async_views(served: tuple[Path, dict[str, Any]]) -> None:
    logs, answers = served
    assert answers["/spin/"][0] == 200 and answers["/nap/"][0] == 200
    _, start, spin = _request(logs, "/spin/")
    assert start["async"] is True, "served through the async middleware chain"
    assert spin["cpu_ms"] >= 140, spin
    assert spin["cpu_ms"] <= spin["ms"] * 1.5 + 5, spin
    _, start, nap = _request(logs, "/nap/")
    assert start["async"] is True
    assert nap["ms"] >= 290
    assert 0 <= nap["cpu_ms"] < nap["ms"] / 3, "an awaited sleep is not CPU time"
