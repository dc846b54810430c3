#!/usr/bin/env python
"""Run the multi-service demo and fill a logs folder.

    python examples/demo.py --log-dir /tmp/dm-logs [--duration 30]

Starts, as real subprocesses on free loopback ports: the ``api`` service
(Django under uvicorn, ASGI), a Celery worker for it, and the ``web`` service
(Django under ``runserver``, WSGI) whose page calls the api several times. Then
it loads pages and runs a management command in a loop until ``--duration``
seconds have passed (or Ctrl-C). The Celery broker is kombu's filesystem
transport in a temporary folder: no daemon needed. Then open the folder with
``dm-explore /tmp/dm-logs``.

From Python: ``handle = start_demo(Path("logs"), duration=None)``, later
``handle.stop()`` (also run on SIGTERM and at exit).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SITE = HERE / "demo_site"
ROOT = HERE.parent

__all__ = ["DemoHandle", "Services", "free_port", "start_demo", "start_services"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


@dataclass
class Services:
    """The running processes and where they listen."""

    log_dir: Path
    work: Path
    env: dict[str, str]
    web_url: str = ""
    api_url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _owned_work: bool = False

    def env_for(self, service: str, **extra: str) -> dict[str, str]:
        env = dict(self.env, DM_SERVICE=service)
        env.update(extra)
        return env

    def manage(
        self, *args: str, service: str = "manage", db: str = "api", check: bool = True, **env: str
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``manage.py <args>`` against the ``db`` service's database and wait."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=SITE,
            env=self.env_for(service, DEMO_DB=str(self.work / f"{db}.sqlite3"), **env),
            capture_output=True,
            check=check,
            timeout=120,
        )

    def popen_manage(
        self, *args: str, service: str = "manage", db: str = "api", **env: str
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=SITE,
            env=self.env_for(service, DEMO_DB=str(self.work / f"{db}.sqlite3"), **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        """Terminate every process (SIGTERM, then SIGKILL after 5 s) and remove temp files."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.terminate()
        deadline = time.monotonic() + 5
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()
        if self._owned_work:
            shutil.rmtree(self.work, ignore_errors=True)


def start_services(
    log_dir: Path,
    *,
    work: Path | None = None,
    broker_url: str | None = None,
    courses: int = 5,
    extra_env: dict[str, str] | None = None,
) -> Services:
    """Migrate and seed both databases, then start api (uvicorn), worker and web (runserver)."""
    owned = work is None
    work = Path(tempfile.mkdtemp(prefix="dm-demo-")) if work is None else work
    work.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        DM_LOG_DIR=str(log_dir),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(SITE), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        DJANGO_SETTINGS_MODULE="courses.settings",
        DEMO_BROKER_URL=broker_url or "filesystem://",
        DEMO_BROKER_DIR=str(work / "broker"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    services = Services(log_dir=log_dir, work=work, env=env, _owned_work=owned)
    try:
        for db in ("api", "web"):
            services.manage("migrate", "--run-syncdb", "-v", "0", service=f"{db}-setup", db=db)
        services.manage("import_courses", "--count", str(courses), service="api-setup", db="api")
        services.manage("import_courses", "--count", "1", service="web-setup", db="web")
        api_port, web_port = free_port(), free_port()
        services.api_url = f"http://127.0.0.1:{api_port}"
        services.web_url = f"http://127.0.0.1:{web_port}"
        api_env = services.env_for("api", DEMO_DB=str(work / "api.sqlite3"))
        services.procs["api"] = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "courses.asgi:application", "--host", "127.0.0.1",
             "--port", str(api_port), "--log-level", "warning", "--lifespan", "off"],
            cwd=SITE, env=api_env, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        services.procs["worker"] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "courses.celery_app", "worker", "--pool=solo",
             "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--loglevel=WARNING"],
            cwd=SITE, env=services.env_for("worker", DEMO_DB=str(work / "api.sqlite3")),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        services.procs["web"] = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload"],
            cwd=SITE,
            env=services.env_for(
                "web", DEMO_DB=str(work / "web.sqlite3"), DEMO_API_URL=services.api_url
            ),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_http(f"{services.api_url}/health/", services.procs["api"])
        _wait_http(f"{services.web_url}/health/", services.procs["web"])
    except BaseException:
        services.stop()
        raise
    return services


class DemoHandle:
    """A running demo: services plus a thread driving them; :meth:`stop` ends it all."""

    def __init__(self, services: Services, duration: float | None) -> None:
        self.services = services
        self._stop = threading.Event()
        self._duration = duration
        self._thread = threading.Thread(target=self._drive, name="demo-driver", daemon=True)
        self._stopped = False
        self._lock = threading.Lock()
        self.loads = 0
        self._thread.start()

    @property
    def web_url(self) -> str:
        return self.services.web_url

    def _drive(self) -> None:
        started = time.monotonic()
        n = 0
        while not self._stop.is_set():
            if self._duration is not None and time.monotonic() - started >= self._duration:
                break
            n += 1
            for path in ("/", "/async/"):
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(self.web_url + path, timeout=30).read()
                    self.loads += 1
            if n % 3 == 1:
                with contextlib.suppress(Exception):
                    self.services.manage(
                        "import_courses", "--count", "6", "--sleep", "0.05",
                        service="api-manage", check=False,
                    )  # fmt: skip
            self._stop.wait(1.0)

    def wait(self) -> None:
        """Block until the duration has passed (or forever without one)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=35)
        self.services.stop()


def start_demo(log_dir: Path, *, duration: float | None = None) -> DemoHandle:
    """Start every service and the page-loading loop; returns a handle with ``stop()``."""
    # The demo's services also sample their memory and threads for the Metrics view.
    handle = DemoHandle(start_services(Path(log_dir), extra_env={"DEMO_RUNTIME": "1"}), duration)
    atexit.register(handle.stop)
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum: int, frame: Any) -> None:
            handle.stop()
            if callable(previous):
                previous(signum, frame)
            else:
                raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_term)
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds (default: until Ctrl-C)"
    )
    args = parser.parse_args(argv)
    handle = start_demo(args.log_dir, duration=args.duration)
    print(f"web {handle.web_url}  api {handle.services.api_url}  logs {args.log_dir}", flush=True)
    try:
        handle.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    print(f"{handle.loads} page loads recorded in {args.log_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
