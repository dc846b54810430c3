"""``dm-explore diff`` over two folders against ``dm-explore summary`` on both.

    python bench/bench_diff.py [--events 500000] [--rounds 3]

Generates two folders of realistic events (the generator of ``bench_ingest.py``:
10 services, requests with SQL, logs and panels chained across services; the
second folder spread over one more file, so that it is not a copy of the first)
under bench/out/ (reused between runs), then times, as a user runs them, in
interleaved rounds, best of ``--rounds``: ``dm-explore summary DIR --json`` on
each folder, and ``dm-explore diff BASE HEAD --format json``. Prints both and
their ratio: diff / (summary BASE + summary HEAD). The target is at most 2.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import generate  # noqa: E402


def _folder(events: int, files: int) -> Path:
    folder = ROOT / "bench" / "out" / f"diff-{events}-{files}"
    done = folder / ".complete"
    if not done.exists():
        for old in folder.glob("*.jsonl"):
            old.unlink()
        generate(folder, events, files)
        done.write_text("ok\n")
    return folder


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(*args: str) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``dm-explore ARGS`` in a fresh process."""
    cpu = _cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - started, _cpu() - cpu
    if result.returncode not in (0, 1):
        raise SystemExit(
            f"dm-explore {' '.join(args)}: exit {result.returncode}: {result.stderr!r}"
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500_000, help="events per folder")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, best taken")
    args = parser.parse_args()
    base = _folder(args.events, 20)
    head = _folder(args.events, 21)
    summaries: list[tuple[float, float]] = []
    diffs: list[tuple[float, float]] = []
    for _ in range(args.rounds):  # interleaved: a slow moment of the machine hits both
        one, two = _timed("summary", str(base), "--json"), _timed("summary", str(head), "--json")
        summaries.append((one[0] + two[0], one[1] + two[1]))
        diffs.append(_timed("diff", str(base), str(head), "--format", "json"))
    print(f"folders            2 x {args.events} events ({base.name}, {head.name})")
    for index, what in ((0, "wall"), (1, "cpu")):
        summary = min(t[index] for t in summaries)
        diff = min(t[index] for t in diffs)
        print(f"{what:<4} summary on both {summary:7.2f} s   diff BASE HEAD {diff:7.2f} s   "
              f"ratio {diff / summary:.2f}x  (target: at most 2x)")  # fmt: skip


if __name__ == "__main__":
    main()
