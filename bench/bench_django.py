#!/usr/bin/env python
"""Overhead of dm_log.django against bare Django, django-debug-toolbar and django-silk.

    python bench/bench_django.py [-n 2000] [--rounds 10]

One process, one SQLite database, two pages requested through
``django.test.Client``:

* ``/v/``: a JSON view making 10 queries (2 of them duplicates);
* ``/t/``: a template page: a base template, ``{% extends %}``, 8 ``{% include %}``
  in a loop (each running one query from the template), 3 cache calls (locmem),
  14 statements in all.

Five configurations are measured interleaved, round after round, so drift in the
machine affects all alike:

* ``bare``       Django alone;
* ``unset``      ``dm_log.django`` installed (app + middleware), ``DM_LOG_DIR`` unset;
* ``recording``  the same, recording to a temp folder (SQL call sites, template
  spans and cache calls included);
* ``toolbar``    django-debug-toolbar, shown (so recording) on every request;
* ``silk``       django-silk recording every request and its SQL.

Prints microseconds per request (mean of the rounds' means) and the ratio to bare,
per page; ``--clock cpu`` measures the process's CPU time instead of wall time, which
other processes on a busy machine disturb less. Targets: recording <= 1.15x on
``/v/`` and <= 1.25x on ``/t/``, unset <= 1.02x.

On a machine too loaded for either clock, ``--clock instructions`` counts instead:
each configuration and page runs in processes of its own under ``valgrind
--tool=cachegrind`` (Debian's ``valgrind``), once with N requests and once with none,
with the garbage collector off after the warm-up; the difference over N is the
instructions per request, which the machine's load does not move (repeated runs
still differ by a few percent, from each process's own start-up). The kernel's side
of ``write()`` is not counted, and an instruction of ours costs more time than one of
Django's (more cache and branch misses), so time ratios stay above instruction ratios.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean, median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="dm-bench-"))
os.environ.pop("DM_LOG_DIR", None)
os.environ["DM_VALIDATE"] = "0"

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=True,
    SECRET_KEY="bench",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    USE_TZ=True,
    INSTALLED_APPS=[
        "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions",
        "django.contrib.staticfiles", "debug_toolbar", "silk", "dm_log.django",
    ],
    MIDDLEWARE=[],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(WORK / "db.sqlite3"),
                           "CONN_MAX_AGE": None}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}},
               {"BACKEND": "django.template.backends.django.DjangoTemplates", "NAME": "bench",
                "DIRS": [str(WORK / "templates")]}],
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    STATIC_URL="/static/",
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    DEBUG_TOOLBAR_CONFIG={"SHOW_TOOLBAR_CALLBACK": lambda request: True, "RESULTS_CACHE_SIZE": 50},
    SILKY_PYTHON_PROFILER=False,
    SILKY_MAX_RECORDED_REQUESTS=10**6,
    SILKY_MAX_RECORDED_REQUESTS_CHECK_PERCENT=0,
    DM_LOGGING=False,
    DM_COMMANDS=False,
    DM_INSTRUMENT_HTTP=False,
    LOGGING_CONFIG=None,
)  # fmt: skip
(WORK / "templates").mkdir()
(WORK / "templates" / "base.html").write_text(
    "<html><head><title>{% block title %}{% endblock %}</title></head>"
    "<body>{% block content %}{% endblock %}</body></html>"
)
(WORK / "templates" / "page.html").write_text(
    '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}'
    '{% block content %}<ul>{% for row in rows %}{% include "row.html" %}{% endfor %}</ul>'
    "<p>{{ featured }}</p>{% endblock %}"
)
(WORK / "templates" / "row.html").write_text(
    "<li>{% with ct=row.first %}{{ ct.app_label }}.{{ ct.model }}{% endwith %}</li>"
)
django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models.sql.compiler import SQLCompiler  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

import dm_log  # noqa: E402
from dm_log.django import cache as dm_cache  # noqa: E402
from dm_log.django import detail as dm_detail  # noqa: E402
from dm_log.django import sql as dm_sql  # noqa: E402
from dm_log.django import templates as dm_templates  # noqa: E402


def view(request: Any) -> JsonResponse:
    """10 queries, 2 of them repeated."""
    rows = []
    for pk in (1, 2, 3, 4, 5, 6, 7, 8, 1, 2):
        ct = ContentType.objects.filter(pk=pk).first()
        rows.append(ct.model if ct else None)
    return JsonResponse({"rows": rows})


def template_view(request: Any) -> HttpResponse:
    """6 queries here, 8 more from the included rows, 3 cache calls."""
    cache.set("bench:featured", [1, 2, 3], 60)
    featured = cache.get("bench:featured")
    cache.get("bench:missing")
    for pk in (1, 2, 3, 4, 1, 2):
        ContentType.objects.filter(pk=pk).first()
    rows = [ContentType.objects.filter(pk=pk) for pk in range(1, 9)]
    page = engines["bench"].get_template("page.html")
    context = {"title": "bench", "rows": rows, "featured": featured}
    return HttpResponse(page.render(context, request))


urlpatterns = [
    path("v/", view),
    path("t/", template_view),
    path("__debug__/", include("debug_toolbar.urls")),
]

DM = "dm_log.django.DebugMonitorMiddleware"
CONFIGS: dict[str, list[str]] = {
    "bare": [],
    "unset": [DM],
    "recording": [DM],
    "toolbar": ["debug_toolbar.middleware.DebugToolbarMiddleware"],
    "silk": ["silk.middleware.SilkyMiddleware"],
}
LOGS = WORK / "logs"
PAGES = {
    "/v/": "JSON view, 10 queries",
    "/t/": "template page: extends, 8 includes, 3 cache calls, 14 queries",
}


def recording(on: bool) -> None:
    if on != dm_log.enabled():
        dm_log.configure(log_dir=LOGS if on else None, validate_all=False)


def enter(name: str) -> None:
    """Put the process in the state of configuration ``name``."""
    recording(name == "recording")
    if name in ("unset", "recording"):
        dm_sql.install()
        dm_templates.install()
        dm_cache.install()
        dm_detail.install()
    else:
        dm_sql.uninstall()
        dm_templates.uninstall()
        dm_cache.uninstall()
        dm_detail.uninstall()
    if name != "silk" and hasattr(SQLCompiler, "_execute_sql"):  # silk patches it globally
        SQLCompiler.execute_sql = SQLCompiler._execute_sql
        del SQLCompiler._execute_sql


def make_client(name: str) -> Client:
    enter(name)
    client = Client()
    with override_settings(MIDDLEWARE=CONFIGS[name]):
        response = client.get("/v/")  # builds the middleware chain now
    assert response.status_code == 200, response.content[:300]
    return client


CLOCK = time.perf_counter


def run(client: Client, page: str, n: int) -> float:
    gc.collect()
    t0 = CLOCK()
    for _ in range(n):
        client.get(page)
    return (CLOCK() - t0) / n * 1e6


def child(name: str, page: str, n: int) -> int:
    """Run ``n`` requests of ``page`` in configuration ``name`` (a counted process)."""
    call_command("migrate", verbosity=0)
    client = make_client(name)
    for _ in range(30):
        client.get(page)
    gc.collect()
    gc.disable()
    for _ in range(n):
        client.get(page)
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


def _instructions(name: str, page: str, n: int) -> int:
    """Instructions of a child process running ``n`` requests, counted by cachegrind."""
    out = WORK / f"cachegrind.{name}.{n}"
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
        sys.executable, __file__, "--child", name, page, str(n),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary in {out}")


def count(n: int) -> int:
    """``--clock instructions``: instructions per request, each count in two processes."""
    if shutil.which("valgrind") is None:
        print("--clock instructions needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    print(f"Django {django.get_version()}, {n} requests per configuration and page, "
          "instructions per request (cachegrind)")  # fmt: skip
    for page, what in PAGES.items():
        print(f"\n{page}: {what}")
        print(f"{'configuration':<12} {'instructions':>13} {'x bare':>7}")
        base = 0.0
        for name in CONFIGS:
            per = (_instructions(name, page, n) - _instructions(name, page, 0)) / n
            base = base or per
            print(f"{name:<12} {per:>13,.0f} {per / base:>7.3f}", flush=True)
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per configuration")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--clock", choices=("wall", "cpu", "instructions"), default="wall",
        help="wall time, this process's CPU time (steadier on a machine others load), or "
        "instructions counted under cachegrind (load-independent; -n 200 is plenty)",
    )  # fmt: skip
    parser.add_argument(
        "--only", nargs="*", default=None, help="configurations to run (bare always)"
    )
    parser.add_argument("--child", nargs=3, metavar=("CONFIG", "PAGE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.only:
        for name in list(CONFIGS):
            if name != "bare" and name not in args.only:
                del CONFIGS[name]
    if args.clock == "instructions":
        return count(args.n)
    call_command("migrate", verbosity=0)
    clients = {name: make_client(name) for name in CONFIGS}
    per_round = max(1, args.n // args.rounds)
    names = list(CONFIGS)
    print(f"Django {django.get_version()}, {per_round * args.rounds} requests per configuration "
          f"and page, {args.rounds} interleaved rounds, {args.clock} time")  # fmt: skip
    for page, what in PAGES.items():
        results: dict[str, list[float]] = {name: [] for name in CONFIGS}
        for name in names:  # warm-up
            enter(name)
            run(clients[name], page, min(100, per_round))
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                enter(name)
                results[name].append(run(clients[name], page, per_round))
        enter("bare")
        base = mean(results["bare"])
        print(f"\n{page}: {what}")
        print(f"{'configuration':<12} {'us/request':>11} {'median':>9} {'x bare':>7}")
        for name in names:
            us = mean(results[name])
            print(f"{name:<12} {us:>11.1f} {median(results[name]):>9.1f} {us / base:>7.2f}")
    lines = (
        sum(len(p.read_bytes().splitlines()) for p in LOGS.glob("*.jsonl")) if LOGS.exists() else 0
    )
    print(f"recording wrote {lines} lines")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
