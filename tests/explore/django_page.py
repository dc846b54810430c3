"""A hand-written folder in the shapes the Django integration writes (docs/format.md):
templates, cache calls, a profile, request.end's view/user/session/signals/CPU
fields, SQL with template sites, library sites, a plan and transaction control,
a 404 answered from ``Http404``, and two management command runs."""

from __future__ import annotations

from pathlib import Path

from tests.explore.fixtures import Writer

TD = "7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d7d"  # the page
T404 = "4040404040404040404040404040404a"  # a 404 answered from Http404
T403 = "4030403040304030403040304030403b"  # a 403 an older writer marked as an error
TC1, TC2 = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1", "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2"
REQ = "00f067aa0ba902b7"
PAGE, BASE, ROW1, ROW2 = (
    "7eb9dc822e400001",
    "7eb9dc822e400002",
    "7eb9dc822e400003",
    "7eb9dc822e400004",
)
REQ404, REQ403, CMD1, CMD2 = (
    "4040000000000001",
    "4030000000000001",
    "c100000000000001",
    "c200000000000001",
)
TRACERESPONSE = f"00-{TD}-{REQ}-01"
VIEW_SITE = {"file": "/srv/web/courses/views.py", "line": 31, "func": "detail"}
ROW_SITE = {**VIEW_SITE, "line": 52, "template": {"name": "courses/row.html", "line": 3}}
LIB_SITE = {"file": "/venv/wagtail/models.py", "line": 880, "func": "specific", "in_app": False}
ROW_CONTEXT = {"forloop": "<dict of 7>", "row": "<Row pk=3>", "api_token": "[redacted]"}
PLAN = "SEARCH courses_teacher USING INTEGER PRIMARY KEY (rowid=?)"
STACKS = {
    "courses.views:detail;courses.grading:score": 90,
    "courses.views:detail;courses.grading:score;courses.grading:weight": 7,
    "courses.views:detail;django.shortcuts:render": 21,
}


def _sql(
    w: Writer, second: float, span: str, parent: str | None, sql: str, **fields: object
) -> None:
    w.ev(
        "sql", second, TD, span, parent, sql=sql, ms=0.5, alias="default", vendor="sqlite", **fields
    )


def django_page(folder: Path) -> Path:
    web = Writer("web", 4121)
    web.ev("process.start", 0.0, argv=["manage.py", "runserver"])
    web.ev("request.start", 1.0, TD, REQ, method="GET", path="/courses/42/", headers={})
    _sql(web, 1.01, REQ, None, "BEGIN")
    _sql(web, 1.02, REQ, None, 'SELECT "course" WHERE id = %s', params=[42], site=VIEW_SITE)
    _sql(web, 1.03, REQ, None, 'SAVEPOINT "s1_x1"')
    _sql(web, 1.04, REQ, None, 'RELEASE SAVEPOINT "s1_x1"')
    _sql(web, 1.05, REQ, None, "COMMIT")
    _sql(web, 1.06, REQ, None, "BEGIN")
    _sql(web, 1.07, REQ, None, "COMMIT")
    _sql(web, 1.08, REQ, None, 'SELECT "page" WHERE id = %s', params=[7], site=LIB_SITE)
    web.ev("cache", 1.09, TD, REQ, op="get", key="course:42:outline", hit=False, backend="default",
           ms=0.04, site=VIEW_SITE)  # fmt: skip
    web.ev("cache", 1.10, TD, REQ, op="set", key="course:42:outline", backend="default", ms=0.05,
           site=VIEW_SITE)  # fmt: skip
    web.ev("cache", 1.11, TD, REQ, op="get", key="course:42:outline", hit=True, backend="default",
           ms=0.03, site=VIEW_SITE)  # fmt: skip
    web.ev("cache", 1.12, TD, REQ, op="get_many", keys=["a", "b"], hits=1, backend="default",
           ms=0.06)  # fmt: skip
    web.ev("template.start", 1.2, TD, PAGE, REQ, name="courses/page.html",
           origin="/srv/web/courses/templates/courses/page.html", context_keys=["course", "rows"],
           context={"course": "<Course pk=42>", "rows": "<list of 2>"})  # fmt: skip
    web.ev("template.start", 1.21, TD, BASE, PAGE, name="base.html",
           origin="/srv/web/templates/base.html", context_keys=["site_name"],
           context={"site_name": "'Courses'"})  # fmt: skip
    for second, span in ((1.22, ROW1), (1.25, ROW2)):
        web.ev("template.start", second, TD, span, BASE, name="courses/row.html",
               origin="/srv/web/courses/templates/courses/row.html",
               context_keys=["forloop", "row", "api_token"], context=ROW_CONTEXT)  # fmt: skip
        _sql(web, second + 0.01, span, BASE, 'SELECT "teacher" WHERE id = %s',
             params=[7 if span == ROW1 else 8], site=ROW_SITE, plan=PLAN)  # fmt: skip
        web.ev("template.end", second + 0.02, TD, span, BASE, ms=0.8, outcome="ok")
    web.ev("template.end", 1.3, TD, BASE, PAGE, ms=9.0, outcome="ok")
    web.ev("template.end", 1.31, TD, PAGE, REQ, ms=11.0, outcome="ok")
    web.ev("profile", 1.4, TD, REQ, interval=0.001, samples=118, ms=121.3, stacks=STACKS)
    web.ev(
        "request.end", 1.5, TD, REQ, ms=180.8, outcome="ok", status=200, route="courses/<int:pk>/",
        view="courses.views.detail", url_name="courses:detail", view_args=[],
        view_kwargs={"pk": 42}, user="17", username="ann", session_keys=["_auth_user_id", "cart"],
        headers={"traceresponse": TRACERESPONSE}, static=["courses/app.css"],
        signals=[{"name": "django.db.models.signals.post_save",
                  "receivers": ["courses.signals.recount"], "count": 1}],
        cpu_ms=121.5,
    )  # fmt: skip
    web.ev("request.start", 2.0, T404, REQ404, method="GET", path="/courses/999/", headers={})
    web.ev("request.end", 2.1, T404, REQ404, ms=4.0, outcome="ok", status=404,
           client_error="Http404", view="courses.views.detail")  # fmt: skip
    web.ev("request.start", 2.2, T403, REQ403, method="POST", path="/admin/", headers={})
    web.ev("request.end", 2.3, T403, REQ403, ms=3.0, outcome="error", status=403,
           client_error="PermissionDenied")  # fmt: skip
    web.write(folder / "web.h1.4121.jsonl")
    manage = Writer("manage", 6001)
    # "zeta" ran first, "alpha" last: newest first is not alphabetical.
    for trace, span, command, second in ((TC1, CMD1, "zeta", 0.5), (TC2, CMD2, "alpha", 3.0)):
        manage.ev("command.start", second, trace, span, command=command, params={}, interval=30)
        manage.ev("command.end", second + 0.1, trace, span, ms=100.0, outcome="ok",
                  command=command, status="FINISHED")  # fmt: skip
    manage.write(folder / "manage.h1.6001.jsonl")
    return folder
