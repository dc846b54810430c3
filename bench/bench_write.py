"""Writer cost per event, as ratios to the bare floor measured in the same run.

    python bench/bench_write.py [--events N]
    python bench/bench_write.py --against DIR [--rounds R]   # A/B against another checkout
    python bench/bench_write.py --clock cpu ...   # this process's CPU time, not wall time

Rows: the bare floor (``orjson.dumps`` + one ``os.write`` on an O_APPEND descriptor);
an ``sql`` event under the default policy (not validated), alone and inside a request
span that remembered two cookie secrets (the usual Django case: every string is then
scrubbed); a ``log`` event; a user event (``metric``, ``panel``) under the default
policy (validated by the compiled per-kind validator); a custom span opened and
closed (two events and two fresh ids); ``sql`` with every event validated
(``DM_VALIDATE=1``); full ``jsonschema`` Draft 2020-12 validation of one event; four
threads writing concurrently; and the id source alone.

``--against DIR`` loads the ``dm_log`` of another checkout (say ``git worktree add
/tmp/base <commit>``) beside this one, in the same process, runs the writer rows on
each in turn for ``R`` rounds (so both sides see the same machine load), and prints
the best of each side and their ratio. ``--clock cpu`` times with the process's CPU
time, which other processes on a shared machine disturb less than wall time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import dm_log  # noqa: E402
from dm_log._schema import ROOT_ID, schema_store  # noqa: E402

SQL = 'SELECT "app_item"."id", "app_item"."name" FROM "app_item" WHERE "app_item"."id" = %s'
SITE = {"file": "/srv/app/views.py", "line": 31, "func": "detail"}


CLOCK = time.perf_counter


def _per_event_us(fn: Callable[[int], None], n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = CLOCK()
        fn(n)
        best = min(best, (CLOCK() - t0) / n * 1e6)
    return best


def measure(n: int, dm_log: Any = dm_log, full_schema: bool = True) -> list[tuple[str, float]]:
    """Every row's best microseconds per event, for the given ``dm_log`` package."""
    new_span_id = importlib.import_module(dm_log.__name__ + "._context").new_span_id
    folder = Path(tempfile.mkdtemp(prefix="dm-bench-write-"))

    fd = os.open(folder / "floor.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    sample = {
        "v": 1, "ts": "2026-11-23T09:15:02.120381Z", "event": "sql", "svc": "bench",
        "host": "h", "pid": 1, "seq": 1, "trace": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span": "00f067aa0ba902b7", "sql": SQL, "params": [1], "ms": 0.12,
        "alias": "default", "vendor": "sqlite", "site": SITE,
    }  # fmt: skip

    def floor(k: int) -> None:
        for i in range(k):
            sample["params"] = [i]
            os.write(fd, orjson.dumps(sample, option=orjson.OPT_APPEND_NEWLINE))

    def sql(k: int) -> None:
        for i in range(k):
            dm_log.record(
                "sql", sql=SQL, params=[i], ms=0.12, alias="default", vendor="sqlite", site=SITE
            )

    def log(k: int) -> None:
        for _ in range(k):
            dm_log.record(
                "log", level="info", msg="GET /api/items/12/ 200", logger="django.server", site=SITE
            )

    def metric(k: int) -> None:
        for i in range(k):
            dm_log.metric("queue.depth", i, unit="tasks", queue="mail")

    def panel(k: int) -> None:
        for i in range(k):
            dm_log.panel("Enrollment", "kv", {"course": "demo", "n": i})

    def spans(k: int) -> None:
        for _ in range(k // 2):
            with dm_log.span("step"):
                pass

    def ids(k: int) -> None:
        for _ in range(k):
            new_span_id()

    def urandom_ids(k: int) -> None:
        for _ in range(k):
            os.urandom(8).hex()

    def threads4(k: int) -> None:
        per = k // 4
        workers = [threading.Thread(target=sql, args=(per,)) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def jsonschema_only(k: int) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        store = schema_store()
        registry: Registry = Registry().with_resources(
            (uri, Resource.from_contents(doc)) for uri, doc in store.items()
        )
        full = Draft202012Validator(store[ROOT_ID], registry=registry)
        for _ in range(k):
            full.validate(sample)

    dm_log.configure(log_dir=folder / "logs", service="bench", validate_all=False)
    with dm_log.span("bench"):
        rows: list[tuple[str, float]] = [
            ("bare floor: orjson.dumps + os.write", _per_event_us(floor, n))
        ]
        rows.append(("sql event, default policy (not validated)", _per_event_us(sql, n)))
        rows.append(("log event, default policy (not validated)", _per_event_us(log, n)))
        rows.append(("metric event, default policy (validated)", _per_event_us(metric, n)))
        rows.append(("panel kv event, default policy (validated)", _per_event_us(panel, n)))
        rows.append(("custom span open + close (per event)", _per_event_us(spans, n)))
        rows.append(("4 threads writing sql events (per event)", _per_event_us(threads4, n, 3)))
    request = dm_log.start_span(
        "request", method="GET", path="/", headers={"Cookie": "sessionid=s3cr3tsessionvalue; "
        "csrftoken=c5rft0kenvalue123"},
    )  # fmt: skip
    rows.append(("sql event in a request with cookie secrets", _per_event_us(sql, n)))
    request.end(status=200)
    dm_log.configure(validate_all=True)
    with dm_log.span("bench-validated"):
        rows.append(("sql event, DM_VALIDATE=1 (compiled validator)", _per_event_us(sql, n)))
    if full_schema:
        rows.append(
            (
                "jsonschema Draft 2020-12 validation alone",
                _per_event_us(jsonschema_only, max(n // 20, 200), 3),
            )
        )
    rows.append(("span id from the writer's generator", _per_event_us(ids, n)))
    rows.append(("span id from os.urandom(8).hex()", _per_event_us(urandom_ids, n)))
    dm_log.configure(log_dir=None)
    os.close(fd)
    shutil.rmtree(folder, ignore_errors=True)  # hundreds of MB of events: not kept
    return rows


def _print(rows: list[tuple[str, float]]) -> None:
    base = rows[0][1]
    print(f"{'case':48} {'us/event':>10} {'x floor':>8}")
    for name, us in rows:
        print(f"{name:48} {us:10.2f} {us / base:8.1f}")
    print("targets: sql default <= 5x floor; validated user event <= 15x floor")


def _load(checkout: Path) -> Any:
    """The ``dm_log`` package of another checkout, imported as ``dm_log_other``."""
    spec = importlib.util.spec_from_file_location(
        "dm_log_other",
        checkout / "dm_log" / "__init__.py",
        submodule_search_locations=[str(checkout / "dm_log")],
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dm_log_other"] = module
    spec.loader.exec_module(module)
    return module


def _against(other: Path, n: int, rounds: int) -> None:
    """This checkout's writer and ``other``'s, in turn in one process; best of each."""
    sides = {"this": dm_log, "other": _load(other)}
    best: dict[str, dict[str, float]] = {"this": {}, "other": {}}
    for _ in range(rounds):
        for side, package in sides.items():
            for name, us in measure(n, package, full_schema=False):
                best[side][name] = min(us, best[side].get(name, float("inf")))
    clock = "cpu" if CLOCK is time.process_time else "wall"
    print(f"best of {rounds} rounds, in turn, {clock} time; this = {HERE}, other = {other}")
    print(f"{'case':48} {'this us':>9} {'other us':>9} {'this/other':>10}")
    for name, us in best["this"].items():
        was = best["other"][name]
        print(f"{name:48} {us:9.2f} {was:9.2f} {us / was:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall",
        help="wall time, or this process's CPU time (steadier on a machine others load)",
    )  # fmt: skip
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.against is not None:
        _against(args.against.resolve(), args.events, args.rounds)
        return
    _print(measure(args.events))


if __name__ == "__main__":
    main()
