"""A process that writes heavily from every kind of concurrent writer at once.

    DM_LOG_DIR=... python stress_writer.py TOTAL

8 threads, 100 asyncio tasks, 4 forked children and a 2-process multiprocessing pool
(fork start method) share ``TOTAL`` events of kind ``x.stress``. Each writer opens one
span named after itself and numbers its events ``i = 0..n-1``, so a reader can check
counts, order and nesting per writer. Prints one JSON line: the expected count per writer.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import threading

import dm_log


def write(writer: str, n: int) -> None:
    with dm_log.span(writer):
        for i in range(n):
            dm_log.record("x.stress", writer=writer, i=i)


async def write_async(writer: str, n: int) -> None:
    with dm_log.span(writer):
        for i in range(n):
            dm_log.record("x.stress", writer=writer, i=i)
            if i % 10 == 0:
                await asyncio.sleep(0)


async def tasks(count: int, n: int) -> None:
    await asyncio.gather(*(write_async(f"task-{k}", n) for k in range(count)))


def pool_job(args: tuple[str, int]) -> int:
    write(*args)
    return args[1]


def main() -> None:
    total = int(sys.argv[1])
    share = total // 4  # threads, tasks, forks and the pool each write a quarter
    expected: dict[str, int] = {}
    threads = []
    for k in range(8):
        name, n = f"thread-{k}", share // 8
        expected[name] = n
        threads.append(threading.Thread(target=write, args=(name, n)))
    children = []
    for k in range(4):
        name, n = f"fork-{k}", share // 4
        expected[name] = n
        pid = os.fork()
        if pid == 0:
            try:
                write(name, n)
            finally:
                os._exit(0)
        children.append(pid)
    for t in threads:
        t.start()
    for k in range(100):
        expected[f"task-{k}"] = share // 100
    asyncio.run(tasks(100, share // 100))
    jobs = [(f"pool-{k}", share // 8) for k in range(8)]
    expected.update(dict(jobs))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(pool_job, jobs)
    for t in threads:
        t.join()
    for pid in children:
        _, status = os.waitpid(pid, 0)
        if status:
            raise SystemExit(f"forked writer {pid} failed: {status}")
    print(json.dumps(expected))


if __name__ == "__main__":
    main()
