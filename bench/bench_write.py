"""Writer cost per event, as ratios to the bare floor measured in the same run.

    python bench/bench_write.py [--events N]

Rows: the bare floor (``orjson.dumps`` + one ``os.write`` on an O_APPEND descriptor);
an ``sql`` event under the default policy (not validated); a user event (``metric``,
``panel``) under the default policy (validated by the compiled per-kind validator);
``sql`` with every event validated (``DM_VALIDATE=1``); full ``jsonschema`` Draft
2020-12 validation of one event; four threads writing concurrently.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dm_log
from dm_log._schema import ROOT_ID, schema_store

SQL = 'SELECT "app_item"."id", "app_item"."name" FROM "app_item" WHERE "app_item"."id" = %s'
SITE = {"file": "/srv/app/views.py", "line": 31, "func": "detail"}


def _per_event_us(fn: Callable[[int], None], n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(n)
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    n = parser.parse_args().events
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

    def metric(k: int) -> None:
        for i in range(k):
            dm_log.metric("queue.depth", i, unit="tasks", queue="mail")

    def panel(k: int) -> None:
        for i in range(k):
            dm_log.panel("Enrollment", "kv", {"course": "demo", "n": i})

    def threads4(k: int) -> None:
        per = k // 4
        workers = [threading.Thread(target=sql, args=(per,)) for _ in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    store = schema_store()
    registry: Registry = Registry().with_resources(
        (uri, Resource.from_contents(doc)) for uri, doc in store.items()
    )
    full = Draft202012Validator(store[ROOT_ID], registry=registry)

    def jsonschema_only(k: int) -> None:
        for _ in range(k):
            full.validate(sample)

    dm_log.configure(log_dir=folder / "logs", service="bench", validate_all=False)
    with dm_log.span("bench"):
        rows: list[tuple[str, float]] = [
            ("bare floor: orjson.dumps + os.write", _per_event_us(floor, n))
        ]
        rows.append(("sql event, default policy (not validated)", _per_event_us(sql, n)))
        rows.append(("metric event, default policy (validated)", _per_event_us(metric, n)))
        rows.append(("panel kv event, default policy (validated)", _per_event_us(panel, n)))
        rows.append(("4 threads writing sql events (per event)", _per_event_us(threads4, n, 3)))
        dm_log.configure(validate_all=True)
    with dm_log.span("bench-validated"):
        rows.append(("sql event, DM_VALIDATE=1 (compiled validator)", _per_event_us(sql, n)))
    rows.append(
        (
            "jsonschema Draft 2020-12 validation alone",
            _per_event_us(jsonschema_only, max(n // 20, 200), 3),
        )
    )
    dm_log.configure(log_dir=None)

    base = rows[0][1]
    print(f"{'case':48} {'us/event':>10} {'x floor':>8}")
    for name, us in rows:
        print(f"{name:48} {us:10.2f} {us / base:8.1f}")
    print("targets: sql default <= 5x floor; validated user event <= 15x floor")


if __name__ == "__main__":
    main()
