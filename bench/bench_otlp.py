"""OTLP export: spans/s and peak memory of sending to a receiver, beside the JSON file export.

    python bench/bench_otlp.py [--events 1000000 100000] [--files 20] [--rounds 3]
                               [--one-trace 0]

Uses the folders of ``bench_ingest.py`` (generated under bench/out/ if missing:
requests with SQL, logs and panels across 10 services). For each folder, each as
its own ``dm-explore export otlp`` process, ``--rounds`` times interleaved:
``-o FILE`` (traces as OTLP/JSON lines, the baseline), ``--endpoint`` with protobuf
(one process, ``--jobs 1``, and the default: one per CPU for a big folder) and
with ``--protocol http/json`` into a receiver on loopback that only counts
requests and bytes per signal (in this process, on another thread). Prints the
median wall time, OTLP spans/s end to end (spans as the receiver counts them,
each SQL statement one; reading the folder included, logs sent as well), lines
of the folder read per second, the ratio to the file export and the median peak
RSS (of the largest process, when several read the folder): the folders differ
tenfold in size, so the RSS says whether memory grows with the folder.
``--one-trace N`` adds a folder holding one trace of N spans (the huge-trace
case): it must go in bounded requests, never one.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ingest import generate  # noqa: E402


class Counting:
    """An OTLP/HTTP receiver that reads each request and counts it, nothing more."""

    def __init__(self) -> None:
        self.requests = self.bytes = self.largest = 0
        self.paths: dict[str, int] = {}
        self.lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(size)
                with counter.lock:
                    counter.requests += 1
                    counter.bytes += size
                    counter.largest = max(counter.largest, size)
                    counter.paths[self.path] = counter.paths.get(self.path, 0) + 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def run(args: list[str]) -> tuple[float, float, str]:
    """Run ``dm-explore`` with ``args``: wall seconds, peak RSS in MiB, stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dm_explore.cli", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, err
    return took, usage.ru_maxrss / 1024, err


def spans_in(folder: Path) -> tuple[int, int]:
    """How many OTLP spans the folder makes (one per ``.start`` line and per ``sql`` line),
    and how many lines it holds."""
    spans = lines = 0
    for path in folder.glob("*.jsonl"):
        with path.open("rb") as text:
            for line in text:
                lines += 1
                spans += b'.start"' in line or b'"event":"sql"' in line
    return spans, lines


def one_trace(folder: Path, spans: int) -> None:
    """One trace of ``spans`` custom spans, each a child of the first."""
    folder.mkdir(parents=True, exist_ok=True)
    trace, root = "ab" * 16, f"{1:016x}"
    with (folder / "huge.bench.1.jsonl").open("wb") as out:
        for i in range(1, spans + 1):
            ids = {"trace": trace, "span": f"{i:016x}", **({"parent": root} if i > 1 else {})}
            envelope = {"v": 1, "svc": "huge", "host": "bench", "pid": 1}
            ts = f"2026-11-23T09:15:{(i // 1_000_000) % 60:02d}.{i % 1_000_000:06d}Z"
            out.write(orjson.dumps({**envelope, "ts": ts, "event": "span.start", "seq": 2 * i,
                                    **ids, "name": f"step-{i % 100}"}) + b"\n")  # fmt: skip
            out.write(orjson.dumps({**envelope, "ts": ts, "event": "span.end", "seq": 2 * i + 1,
                                    **ids, "name": f"step-{i % 100}", "ms": 0.001,
                                    "outcome": "ok"}) + b"\n")  # fmt: skip


def measure(folder: Path, receiver: Counting, label: str, rounds: int) -> None:
    spans, lines = spans_in(folder)
    size = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 2**20
    print(f"\n{label}: {lines} lines, {spans} OTLP spans, {size:.0f} MiB of files "
          f"(median of {rounds})", flush=True)  # fmt: skip
    modes = {
        "-o FILE (OTLP/JSON)": None,
        "--endpoint protobuf --jobs 1": "http/protobuf:1",
        "--endpoint http/protobuf": "http/protobuf",
        "--endpoint http/json": "http/json",
    }
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    peaks: dict[str, list[float]] = {mode: [] for mode in modes}
    notes: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for mode, protocol in modes.items():
                if protocol is None:
                    args = ["export", "otlp", str(folder), "-o", f"{tmp}/out.jsonl"]
                else:
                    protocol, _, jobs = protocol.partition(":")
                    args = ["export", "otlp", str(folder), "--endpoint", receiver.url,
                            "--protocol", protocol]  # fmt: skip
                    args += ["--jobs", jobs] if jobs else []
                before = (receiver.requests, receiver.bytes, dict(receiver.paths))
                receiver.largest = 0
                took, rss, err = run(args)
                times[mode].append(took)
                peaks[mode].append(rss)
                if protocol is None:
                    written = sum(1 for _ in open(f"{tmp}/out.jsonl", "rb"))  # noqa: SIM115
                    notes[mode] = f"{written} lines"
                else:
                    sent = (receiver.bytes - before[1]) / 2**20
                    per_path = {p: n - before[2].get(p, 0) for p, n in receiver.paths.items()}
                    counts = ", ".join(f"{p} {n}" for p, n in sorted(per_path.items()) if n)
                    largest = receiver.largest / 2**10
                    said = re.search(r"\((\d+) spans", err)
                    assert said and int(said.group(1)) == spans, err  # every span sent
                    notes[mode] = (f"{receiver.requests - before[0]} requests: {counts}; "
                                   f"{sent:.0f} MiB, largest {largest:.0f} KiB")  # fmt: skip
    base = statistics.median(times["-o FILE (OTLP/JSON)"])
    for mode in modes:
        took, rss = statistics.median(times[mode]), statistics.median(peaks[mode])
        print(f"  {mode:29} {took:6.1f} s {spans / took:9,.0f} spans/s {lines / took:9,.0f} "
              f"lines/s  {base / took:5.2f}x  peak {rss:4.0f} MiB  ({notes[mode]})",
              flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 100_000])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one-trace", type=int, default=0, metavar="N")
    args = parser.parse_args()
    receiver = Counting()
    for events in args.events:
        folder = ROOT / "bench" / "out" / f"ingest-{events}-{args.files}"
        if not (folder / ".complete").exists():
            print(f"generating {events} events in {folder} ...", flush=True)
            generate(folder, events, args.files)
            (folder / ".complete").write_text("ok")
        measure(folder, receiver, f"{events} events", args.rounds)
    if args.one_trace:
        folder = ROOT / "bench" / "out" / f"one-trace-{args.one_trace}"
        if not (folder / ".complete").exists():
            one_trace(folder, args.one_trace)
            (folder / ".complete").write_text("ok")
        measure(folder, receiver, f"one trace of {args.one_trace} spans", args.rounds)
    print(f"\n(this process: peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
          " MiB, the receiver)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
