"""Fixtures for the integration tests: real services, a real broker, real databases.

``services`` starts the demo's api (uvicorn, ASGI), Celery worker and web
(runserver, WSGI) once per module, recording into a fresh folder. The broker
is a real ``redis-server`` on a unix socket in a temp folder when the binary is
installed, otherwise kombu's filesystem transport. ``django_setup`` configures
Django in this process with the demo's settings on a temp SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SITE = EXAMPLES / "demo_site"
for entry in (str(EXAMPLES), str(SITE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from demo import Services, start_services  # type: ignore[import-not-found]  # noqa: E402


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str | None]:
    """``redis+socket://`` of a private redis-server, or None (filesystem transport)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="dm-redis-"))
    sock = folder / "redis.sock"
    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: sock.exists() or proc.poll() is not None, timeout=10)
        if proc.poll() is not None:
            yield None
        else:
            yield f"redis+socket://{sock}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def services(
    tmp_path_factory: pytest.TempPathFactory, broker_url: str | None
) -> Iterator[Services]:
    """api + worker + web, recording into ``services.log_dir``."""
    base = tmp_path_factory.mktemp("services")
    running = start_services(
        base / "logs", work=base / "work", broker_url=broker_url,
        extra_env={"DM_VALIDATE": "1", "DM_COMMAND_PING": "0.2"},
    )  # fmt: skip
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def django_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Django configured in this process with the demo settings and a seeded database."""
    db = tmp_path_factory.mktemp("inproc") / "inproc.sqlite3"
    if os.environ.get("DJANGO_SETTINGS_MODULE", "courses.settings") != "courses.settings":
        pytest.skip("another Django settings module is configured in this process")
    import django
    from django.core.management import call_command

    # The settings read these once, at django.setup(); subprocesses must not inherit them
    # (a sample project run by a later test would find the demo's settings module).
    overrides = {
        "DJANGO_SETTINGS_MODULE": "courses.settings",
        "DEMO_DB": str(db),
        "DEMO_DM_LOGGING": "0",  # leave pytest's root logger alone
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        django.setup()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("import_courses", count=3, disable_monitor=True)
    yield db
