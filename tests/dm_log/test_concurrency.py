"""Threads, asyncio tasks and forked children write whole lines, lose none, nest correctly."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import Counter, defaultdict
from pathlib import Path

import dm_log
from tests.conftest import read_events

THREADS, PER_THREAD = 8, 10_000
TASKS, PER_TASK = 100, 20


def _thread_work(n: int) -> None:
    with dm_log.span("thread", n=n):
        for i in range(PER_THREAD):
            dm_log.record("x.tick", writer=f"t{n}", i=i)


async def _task_work(n: int) -> None:
    with dm_log.span("task", n=n):
        for i in range(PER_TASK):
            dm_log.record("x.tick", writer=f"a{n}", i=i)
            await asyncio.sleep(0)


async def _all_tasks() -> None:
    await asyncio.gather(*(_task_work(n) for n in range(TASKS)))


def test_threads_tasks_and_a_forked_child(log_dir: Path) -> None:
    dm_log.configure(validate_all=False)  # 80k+ events; validation has its own tests
    threads = [threading.Thread(target=_thread_work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    asyncio.run(_all_tasks())
    pid = os.fork()
    if pid == 0:  # the child: a file of its own
        try:
            with dm_log.span("child"):
                for i in range(1000):
                    dm_log.record("x.tick", writer="child", i=i)
        finally:
            os._exit(0)
    for t in threads:
        t.join()
    _, status = os.waitpid(pid, 0)
    assert status == 0

    files = sorted(log_dir.glob("*.jsonl"))
    assert len(files) == 2, files
    events = read_events(log_dir)  # raises on any line that is not whole JSON
    ticks = [e for e in events if e["event"] == "x.tick"]
    per_writer = Counter(e["writer"] for e in ticks)
    for n in range(THREADS):
        assert per_writer[f"t{n}"] == PER_THREAD
    for n in range(TASKS):
        assert per_writer[f"a{n}"] == PER_TASK
    assert per_writer["child"] == 1000

    # Each writer's ticks all sit in the one span that writer opened, in order.
    span_of_writer: dict[str, set[str]] = defaultdict(set)
    order: dict[str, list[int]] = defaultdict(list)
    for e in ticks:
        span_of_writer[e["writer"]].add(e["span"])
        order[e["writer"]].append(e["i"])
    starts = {e["span"]: e for e in events if e["event"] == "span.start"}
    for writer, spans in span_of_writer.items():
        assert len(spans) == 1, writer
        start = starts[next(iter(spans))]
        expected = {"t": "thread", "a": "task", "c": "child"}[writer[0]]
        assert start["name"] == expected
        assert order[writer] == sorted(order[writer])

    # The child wrote under its own pid, with its own process.start first.
    child_events = [e for e in events if e["pid"] == pid]
    assert child_events and child_events[0]["event"] == "process.start"
    assert child_events[0]["parent_pid"] == os.getpid()
    # Sequence numbers per process have no gaps: nothing was lost.
    for p in {e["pid"] for e in events}:
        seqs = sorted(e["seq"] for e in events if e["pid"] == p)
        assert seqs == list(range(len(seqs)))
