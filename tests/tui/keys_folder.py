"""A folder with more rows than a screen holds in every view and every tab.

One "rich" request (``RICH``) carries 40 statements (some rendered by a template),
40 log lines, an exception with 8 frames, 3 templates, 30 cache calls, 40 child
spans and 40 request headers; 60 more requests on 8 routes, some failing with
one of 6 errors; 6 command runs; 40 tests; 60 metric series; a file with 60 bad lines.
Every file and line is under ``/app`` (a container path, mapped in the tests).
"""

from __future__ import annotations

from pathlib import Path

from tests.explore.fixtures import Writer

RICH_TRACE = "e" * 32
RICH = "e" * 16
TEMPLATE_ORIGIN = "/app/shop/templates/shop/row.html"
ERROR_FRAMES = [
    {"file": f"/app/shop/step{i}.py", "line": 10 + i, "func": f"step{i}", "in_app": i < 7,
     "src": f"step{i + 1}()"}
    for i in range(8)
]  # fmt: skip  # the innermost in-app frame: /app/shop/step6.py:16


def _trace(n: int) -> str:
    return f"{n:032x}"


def _span(n: int) -> str:
    return f"{n:016x}"


def _rich_request(web: Writer) -> None:
    headers = {f"x-header-{i:02d}": f"value {i}" for i in range(40)}
    headers["x-request-id"] = "4f2a-needle"
    headers["x-note"] = "café au lait"
    web.ev("request.start", 1.0, RICH_TRACE, RICH, method="GET", path="/shop/", query="q=wagtail",
           headers=headers)  # fmt: skip
    second = 1.001
    for i in range(40):
        site = {"file": "/app/shop/views.py", "line": 100 + i, "func": "shop"}
        if i == 5:
            site["template"] = {"name": "shop/row.html", "line": 7}
        web.ev("sql", second, RICH_TRACE, RICH, sql=f"SELECT {i} FROM book", params=[i], ms=0.2,
               site=site)  # fmt: skip
        log_site = {"file": "/app/shop/log.py", "line": 200 + i, "func": "f"}
        web.ev("log", second + 0.0001, RICH_TRACE, RICH, level="info", msg=f"step {i}",
               logger="shop", site=log_site)  # fmt: skip
        web.ev("cache", second + 0.0002, RICH_TRACE, RICH, op="get", key=f"k{i}", hit=i % 2 == 0,
               backend="default", ms=0.01,
               site={"file": "/app/shop/cache.py", "line": 300 + i, "func": "g"})  # fmt: skip
        second += 0.001
    for n, (name, origin) in enumerate(
        (("shop/list.html", "/app/shop/templates/shop/list.html"),
         ("shop/row.html", TEMPLATE_ORIGIN),
         ("shop/foot.html", "/app/shop/templates/shop/foot.html"))
    ):  # fmt: skip
        span = _span(0xE100 + n)
        web.ev("template.start", 1.2 + n * 0.01, RICH_TRACE, span, RICH, name=name, origin=origin,
               context_keys=["books"])  # fmt: skip
        web.ev("template.end", 1.205 + n * 0.01, RICH_TRACE, span, RICH, ms=5.0, outcome="ok")
    for n in range(40):
        span = _span(0xE200 + n)
        web.ev("span.start", 1.3 + n * 0.001, RICH_TRACE, span, RICH, name=f"part-{n}")
        web.ev("span.end", 1.3005 + n * 0.001, RICH_TRACE, span, RICH, ms=0.5, outcome="ok",
               name=f"part-{n}")  # fmt: skip
    stacks = {f"shop.views:shelf;shop.parts:f{i}": 10 + i for i in range(8)}
    samples = sum(stacks.values())
    web.ev("profile", 1.45, RICH_TRACE, RICH, interval=0.001, samples=samples, ms=400.0,
           stacks=stacks)  # fmt: skip
    web.ev("panel", 1.44, RICH_TRACE, RICH, panel="Stock", op="append", type="text",
           content="\n".join(f"shelf {i}: {i * 3} books" for i in range(60)))  # fmt: skip
    web.ev("exception", 1.4, RICH_TRACE, RICH, type="ValueError", message="bad shelf",
           fingerprint="f" * 16, frames=ERROR_FRAMES, handled=False)  # fmt: skip
    web.ev("request.end", 1.5, RICH_TRACE, RICH, ms=500.0, outcome="error", status=500,
           view="shop.views.shelf", route="shop/")  # fmt: skip


def keys_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    web = Writer("web", 11)
    web.ev("process.start", 0.0, argv=["manage.py", "runserver"])
    _rich_request(web)
    for n in range(60):
        trace, span, second = _trace(n + 1), _span(n + 1), 2.0 + n * 0.1
        route = f"route{n % 8}/"
        web.ev("request.start", second, trace, span, method="GET", path=f"/{route}{n}/",
               headers={"accept": "text/html"})  # fmt: skip
        web.ev("sql", second + 0.01, trace, span, sql="SELECT 1", params=[], ms=0.1,
               site={"file": "/app/shop/list.py", "line": 5, "func": "lst"})  # fmt: skip
        status = 200
        if n % 10 == 3:  # 6 errors, each its own fingerprint, each twice
            kind = n // 10
            frames = [{"file": f"/app/err{kind}.py", "line": 40 + kind, "func": "boom",
                       "in_app": True}]  # fmt: skip
            web.ev("exception", second + 0.02, trace, span, type=f"Error{kind}", message="boom",
                   fingerprint=f"{kind:016x}", frames=frames, handled=False)  # fmt: skip
            web.ev("exception", second + 0.03, RICH_TRACE, RICH, type=f"Error{kind}",
                   message="boom", fingerprint=f"{kind:016x}", frames=frames,
                   handled=True)  # fmt: skip
            status = 500
        if n % 10 == 7:  # the rich request's error, seen again: its issue has 7 requests
            web.ev("exception", second + 0.02, trace, span, type="ValueError", message="bad shelf",
                   fingerprint="f" * 16, frames=ERROR_FRAMES, handled=False)  # fmt: skip
            status = 500
        web.ev("request.end", second + 0.05, trace, span, ms=50.0 + n, outcome="ok", status=status,
               route=route, view=f"shop.views.v{n % 8}")  # fmt: skip
    for n in range(60):
        web.ev("metric", 1.0 + n * 0.01, name=f"series.{n:02d}", value=n, unit="u")
    web.write(folder / "web.h1.11.jsonl")

    jobs = Writer("jobs", 22)
    for n in range(6):
        trace, span, second = _trace(0x900 + n), _span(0x900 + n), 1.0 + n
        jobs.ev("command.start", second, trace, span, command=f"job{n}", params={})
        jobs.ev("command.end", second + 0.5, trace, span, ms=500.0, outcome="ok",
                status="FINISHED")  # fmt: skip
    jobs.write(folder / "jobs.h1.22.jsonl")

    run = Writer("pytest", 23)
    for n in range(40):  # a test run for the Tests view, none of them making a request
        trace, span, second = _trace(0xA00 + n), _span(0xA00 + n), 1.0 + n * 0.1
        nodeid = f"tests/test_shop.py::test_{n:02d}"
        run.ev("test.start", second, trace, span, nodeid=nodeid)
        run.ev("test.end", second + 0.05, trace, span, nodeid=nodeid, ms=50.0, outcome="ok",
               result="passed")  # fmt: skip
    run.write(folder / "pytest.h1.23.jsonl")

    for n in range(4):  # more files for the Files view
        Writer(f"svc{n}", 30 + n).ev("process.start", 0.0, argv=["x"]).write(
            folder / f"svc{n}.h1.{30 + n}.jsonl"
        )
    bad = folder / "bad.h1.40.jsonl"
    bad.write_bytes(b"".join(b"{not json %d\n" % i for i in range(60)))
    return folder
