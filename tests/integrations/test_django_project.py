"""A real project (tests/django_project) served by runserver on loopback, and its commands.

Everything is asserted from the files dm_log wrote: call sites with the template
node, template spans, cache calls, settings and versions panels, request detail,
EXPLAIN plans, the profiler, 4xx views that are not errors, command output and
tracebacks free of dm_log frames, and the ``traceresponse`` header.
"""

from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import assert_all_valid
from tests.integrations.conftest import wait_for
from tests.integrations.events import Event, events, in_span, of

pytestmark = [pytest.mark.django, pytest.mark.xdist_group("django_project")]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "tests" / "django_project"
PAGES = [
    "/login/", "/books/", "/books/1/", "/books/99/", "/books/some-slug/reviews/3/", "/order/",
    "/missing/", "/forbidden/", "/suspicious/", "/gone/", "/boom/", "/dupe/", "+/crunch/",
    "/nowhere/",
]  # fmt: skip


@dataclass
class Run:
    """A folder of logs and what each requested page answered."""

    logs: Path
    env: dict[str, str]
    responses: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)

    def evs(self) -> list[Event]:
        return events(self.logs)

    def request(self, path: str) -> tuple[list[Event], Event, Event]:
        evs = self.evs()
        start = of(evs, "request.start", path=path)[-1]
        end = of(evs, "request.end", span=start["span"])[0]
        return evs, start, end

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=PROJECT, env=self.env,
            capture_output=True, text=True, timeout=120, check=check,
        )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(base: Path, **extra: str) -> Run:
    """Migrate and seed a fresh database, serve it with runserver, request every page."""
    env = dict(os.environ)
    env.pop("DM_LOG_DIR", None)
    env.update(
        SHOP_DB=str(base / "db.sqlite3"), DM_VALIDATE="1", PYTHONDONTWRITEBYTECODE="1",
        DJANGO_SETTINGS_MODULE="proj.settings", **extra,
    )  # fmt: skip
    run = Run(base / "logs", env)
    run.manage("migrate", "--run-syncdb", "-v", "0", "--disable-monitor")
    run.manage("shop_seed", "--disable-monitor")
    env["DM_LOG_DIR"] = str(run.logs)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

        def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
            url = f"http://127.0.0.1:{port}{path}"
            request = urllib.request.Request(url, headers=headers or {})
            try:
                with opener.open(request, timeout=30) as response:
                    return response.status, dict(response.headers.items())
            except urllib.error.HTTPError as exc:
                return exc.code, dict(exc.headers.items())

        def up() -> bool:
            try:
                get("/gone/")
                return True
            except OSError:
                return False

        wait_for(up, timeout=30)
        for page in PAGES:
            path = page.lstrip("+")
            run.responses[page] = get(path, {"X-DM-Profile": "1"} if page.startswith("+") else {})
        wait_for(lambda: of(run.evs(), "panel", panel="Versions"), timeout=60)  # from a thread
    finally:
        server.terminate()
        server.wait(timeout=10)
    return run


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The project served with EXPLAIN on every SELECT, stacks and header-driven profiling."""
    base = tmp_path_factory.mktemp("project")
    yield _serve(base, DM_SQL_EXPLAIN_MS="0", DM_SQL_STACK="1", DM_PROFILE="header")


def test_every_line_is_valid(site: Run, event_validator: Draft202012Validator) -> None:
    assert_all_valid(site.logs, event_validator)


def test_every_statement_has_a_site_and_template_ones_name_the_include(site: Run) -> None:
    evs, start, end = site.request("/books/")
    assert end["status"] == 200
    trace = [e for e in evs if e.get("trace") == start["trace"]]
    sql = of(trace, "sql")
    assert len(sql) == end["queries"] >= 10
    assert all("site" in e for e in sql), [e["sql"] for e in sql if "site" not in e]
    view_sql = [e for e in sql if "shop_book" in e["sql"]]
    assert view_sql[0]["site"]["file"].endswith("shop/views.py")
    assert view_sql[0]["site"]["func"] == "book_list" and "template" not in view_sql[0]["site"]
    authors = [e for e in sql if '"shop_author"' in e["sql"]]
    assert len(authors) == 8, "{{ book.author.name }} in the included row, once per book"
    for e in authors:
        assert e["site"]["template"] == {"name": "shop/row.html", "line": 3}
        assert e["site"]["func"] == "book_list", "the project frame is the view's render()"
    user = [e for e in sql if '"auth_user"' in e["sql"]]
    assert len(user) == 1 and "template" not in user[0]["site"], (
        "describing the template context never loads the lazy request.user"
    )
    library = [e for e in sql if e["sql"].startswith(("BEGIN", "UPDATE \"django_session\""))]
    assert len(library) == 2, "the session saved by SessionMiddleware: no project frame"
    for e in library:
        assert e["site"]["in_app"] is False
        assert e["site"]["file"].endswith("django/contrib/sessions/backends/db.py")
    stack = view_sql[0]["site"]["stack"]
    assert stack[-1]["func"] == "book_list", "DM_SQL_STACK=1: in-app frames, outermost first"


def test_templates_form_a_tree_with_redacted_context(site: Run) -> None:
    evs, start, _end = site.request("/books/")
    tpl = {e["span"]: e for e in evs if e["event"] == "template.start"
           and e["trace"] == start["trace"]}  # fmt: skip
    page = next(e for e in tpl.values() if e["name"] == "shop/list.html")
    assert page["parent"] == start["span"]
    assert page["origin"].endswith("shop/templates/shop/list.html")
    base = next(e for e in tpl.values() if e["name"] == "shop/base.html")
    assert base["parent"] == page["span"], "{% extends %}: the parent renders inside the child"
    rows = [e for e in tpl.values() if e["name"] == "shop/row.html"]
    assert len(rows) == 8 and {r["parent"] for r in rows} == {base["span"]}
    assert page["context"]["books"] == "<list of 8>"
    assert page["context"]["api_token"] == "[redacted]"
    assert "tok-9d8e7f6a5b" not in str(evs)
    assert rows[0]["context"]["book"] == "<Book pk=1>"
    assert set(page["context_keys"]) >= {"books", "featured", "api_token"}
    ends = [e for e in evs if e["event"] == "template.end" and e["span"] in tpl]
    assert len(ends) == len(tpl) and all(e["ms"] >= 0 and e["outcome"] == "ok" for e in ends)


def test_cache_calls(site: Run) -> None:
    evs, start, _ = site.request("/books/")
    calls = [e for e in evs if e["event"] == "cache" and e["trace"] == start["trace"]]
    ops = [(c["op"], c.get("key"), c.get("hit")) for c in calls]
    assert ("set", "shop:featured", None) in ops
    assert ("get", "shop:featured", True) in ops
    assert ("get", "shop:missing", False) in ops
    assert ("get", "[redacted]", False) in ops, "a key named like a session token is redacted"
    assert ("get_or_set", "shop:count", False) in ops, "one event for the call, not its get/add"
    (many,) = [c for c in calls if c["op"] == "get_many"]
    assert many["keys"] == ["shop:featured", "shop:none"] and many["hits"] == 1
    assert len(calls) == 6
    assert all(c["backend"] == "default" and c["ms"] >= 0 for c in calls)
    assert all(c["site"]["file"].endswith("shop/views.py") for c in calls)


def test_settings_and_versions_panels_once_at_process_level(site: Run) -> None:
    evs = site.evs()
    settings = of(evs, "panel", panel="Settings")
    versions = of(evs, "panel", panel="Versions")
    assert len(settings) == 1 and len(versions) == 1
    assert "span" not in settings[0] and "trace" not in settings[0]
    content = settings[0]["content"]
    assert content["ROOT_URLCONF"] == "'proj.urls'"
    assert "test-project-secret-key" not in str(evs)
    assert "tok-live-5f2b9c0e7a" not in str(evs), "PAYMENT_API_TOKEN is masked"
    rows = {row[1]: row for row in versions[0]["content"]}
    import django

    assert rows["django"][3] == django.get_version()
    assert rows["django.contrib.auth"][2] == "Django"
    assert rows["shop"][3] == "", "the project's own app has no distribution"
    assert rows["dm_log.django"][2] == "debug-monitor"


def test_request_detail(site: Run) -> None:
    _, _, end = site.request("/books/")
    assert end["view"] == "shop.views.book_list" and end["url_name"] == "book-list"
    assert end["user"] and end["username"] == "ann"
    assert "cart" in end["session_keys"] and "[1, 2]" not in str(end["session_keys"])
    assert end["static"] == ["shop/app.css"]
    assert end["cpu_ms"] > 0 and end["cpu_ms"] <= end["ms"] * 1.5 + 5
    _, _, end = site.request("/books/some-slug/reviews/3/")
    assert end["view_kwargs"] == {"slug": "some-slug", "page": 3}
    _, _, end = site.request("/order/")
    names = {s["name"]: s for s in end.get("signals", [])}
    login = site.request("/login/")[2]
    fired = {s["name"] for s in login.get("signals", [])}
    assert "django.contrib.auth.signals.user_logged_in" in fired
    assert all(s["count"] >= 1 for s in names.values())
    receivers = [r for e in of(site.evs(), "request.end") for s in e.get("signals", [])
                 for r in s["receivers"]]  # fmt: skip
    assert receivers and not [r for r in receivers if r.startswith("dm_log.")]


def test_explain_plans_on_selects(site: Run) -> None:
    evs, start, _ = site.request("/books/")
    sql = of([e for e in evs if e.get("trace") == start["trace"]], "sql")
    selects = [e for e in sql if e["sql"].startswith("SELECT")]
    assert selects and all(e.get("plan") for e in selects)
    assert any("SCAN" in e["plan"] or "SEARCH" in e["plan"] for e in selects)
    assert not any(e.get("plan") for e in sql if not e["sql"].startswith("SELECT"))


def test_profile_only_with_the_header(site: Run) -> None:
    evs, start, _end = site.request("/crunch/")
    (prof,) = in_span(evs, start["span"], "profile")
    assert prof["interval"] == 0.001 and prof["samples"] > 10
    hot = [stack for stack in prof["stacks"] if "shop.views:_spin" in stack]
    assert hot and sum(prof["stacks"][s] for s in hot) > prof["samples"] / 2
    assert stack_order_ok(hot[0])
    evs, start, _ = site.request("/books/")
    assert not in_span(evs, start["span"], "profile")


def stack_order_ok(stack: str) -> bool:
    frames = stack.split(";")
    return frames.index("shop.views:crunch") < frames.index("shop.views:_spin")


def test_client_errors_are_not_errors(site: Run) -> None:
    evs = site.evs()
    for path, status, kind in [
        ("/books/99/", 404, "Http404"), ("/forbidden/", 403, "PermissionDenied"),
        ("/suspicious/", 400, "SuspiciousOperation"), ("/nowhere/", 404, None),
    ]:  # fmt: skip
        _, start, end = site.request(path)
        assert end["status"] == status and end["outcome"] == "ok"
        if kind is not None:
            assert end["client_error"].startswith(kind)
        assert not in_span(evs, start["span"], "exception"), path
    _, start, end = site.request("/boom/")
    assert end["outcome"] == "error"
    (exc,) = in_span(evs, start["span"], "exception")
    assert not any("dm_log" in f["file"] for f in exc["frames"])


def test_database_error_traceback_has_no_dm_log_frame(site: Run) -> None:
    evs, start, end = site.request("/dupe/")
    assert end["status"] == 500 and end["outcome"] == "error"
    (exc,) = in_span(evs, start["span"], "exception")
    assert exc["type"] == "django.db.utils.IntegrityError"
    files = [f["file"] for f in exc["frames"]]
    assert any(f.endswith("shop/views.py") for f in files)
    assert any("django/db/backends" in f for f in files), "the traceback goes down to the driver"
    assert not any("dm_log" in f for f in files), files
    (failed,) = [e for e in in_span(evs, start["span"], "sql") if "error" in e]
    assert failed["error"].startswith("IntegrityError") and "plan" not in failed


def test_request_log_lines_belong_to_their_request(site: Run) -> None:
    evs = site.evs()
    for path, msg in [("/missing/", "Not Found: /missing/"), ("/gone/", "Gone: /gone/"),
                      ("/nowhere/", "Not Found: /nowhere/")]:  # fmt: skip
        _, start, _ = site.request(path)
        assert [e["msg"] for e in in_span(evs, start["span"], "log")] == [msg]
    assert not [e for e in of(evs, "log") if "span" not in e and "Not Found" in e["msg"]]


def test_traceresponse_names_the_recorded_request(site: Run) -> None:
    evs = site.evs()
    for page in ("/books/", "/boom/", "/nowhere/"):
        _status, headers = site.responses[page]
        value = headers["traceresponse"]
        _, trace, span, flags = value.split("-")
        start = of(evs, "request.start", span=span)[0]
        assert start["path"] == page and start["trace"] == trace and flags == "01"


def test_transaction_atomic_writes(site: Run) -> None:
    evs, start, end = site.request("/order/")
    sql = [e["sql"] for e in in_span(evs, start["span"], "sql")]
    assert sql[0] == "BEGIN" and any(s.startswith("INSERT") for s in sql)
    assert end["status"] == 200


def test_command_output_and_clean_traceback(site: Run) -> None:
    logs = site.logs.parent / "command-logs"
    env = {**site.env, "DM_LOG_DIR": str(logs)}
    done = subprocess.run(
        [sys.executable, "manage.py", "shop_report"], cwd=PROJECT, env=env,
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "books in stock" in done.stdout
    failed = subprocess.run(
        [sys.executable, "manage.py", "shop_fail"], cwd=PROJECT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert failed.returncode == 1 and "bad price row 12" in failed.stderr
    assert "dm_log" not in failed.stderr, failed.stderr
    assert "load_prices" in failed.stderr
    evs = events(logs)
    report = of(evs, "command.start", command="shop_report")[0]
    lines = [(e["logger"], e["level"], e["msg"]) for e in in_span(evs, report["span"], "log")]
    assert ("command.stdout", "info", done.stdout.splitlines()[0]) in lines
    assert ("command.stdout", "info", "report done") in lines
    assert ("command.stderr", "warning", "2 titles low on stock") in lines
    fail = of(evs, "command.start", command="shop_fail")[0]
    (exc,) = in_span(evs, fail["span"], "exception")
    assert not any("dm_log" in f["file"] for f in exc["frames"])


def test_templates_off_explain_off_by_default_and_slow_profiles(tmp_path: Path) -> None:
    run = _serve(tmp_path, DM_TEMPLATES="0", DM_PROFILE="slow:40")
    evs, start, _ = run.request("/crunch/")
    assert in_span(evs, start["span"], "profile"), "slower than 40 ms: profiled without a header"
    evs, start, _ = run.request("/gone/")
    assert not in_span(evs, start["span"], "profile")
    evs, start, end = run.request("/books/")
    assert end["status"] == 200
    assert not of(evs, "template.start")
    sql = of([e for e in evs if e.get("trace") == start["trace"]], "sql")
    assert not any("plan" in e for e in sql)
    authors = [e for e in sql if '"shop_author"' in e["sql"]]
    assert authors[0]["site"]["template"] == {"name": "shop/row.html", "line": 3}
    assert "stack" not in authors[0]["site"]

