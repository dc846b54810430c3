"""``export otlp --endpoint --jobs N``: a folder read by several processes sends what one sends.

Each worker process reads its share of the files; the receiver must get every span,
statement span, log record and metric point exactly once, the same as with one
process, and a refusal must stop every worker.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from dm_explore.cli.otlp_push import MIN_BYTES_PER_JOB, jobs_for
from dm_explore.ingest.raw_lines import file_batches, share_files
from dm_explore.outputs.otlp_workers import WorkerFailed, Workers
from tests.otlp.conftest import dm_explore
from tests.otlp.receiver import Receiver
from tests.otlp.writer import Writer


def write_services(folder: Path) -> None:
    """Four processes of three services: requests with statements, an open span, logs, metrics."""
    for k, (svc, pid) in enumerate((("web", 11), ("web", 12), ("api", 21), ("worker", 31))):
        w = Writer(folder, svc=svc, pid=pid)
        for n in range(1 + 100 * k, 40 + 100 * k):
            w.request(n, sql=n % 4)
            w.add("log", level="info", msg=f"served item {n}", logger="items")
        w.add("metric", name="queue.depth", value=k, unit="tasks")
        w.request(99 + 100 * k, end=False, sql=2)  # never ends: sent as unfinished


def _received(receiver: Receiver) -> tuple[Counter[bytes], Counter[bytes], Counter[bytes]]:
    spans = Counter(
        repr(sorted(resource.items())).encode() + span.SerializeToString(deterministic=True)
        for resource, span in receiver.spans()
    )
    logs = Counter(
        repr(sorted(resource.items())).encode() + record.SerializeToString(deterministic=True)
        for resource, record in receiver.logs()
    )
    metrics = Counter(m.SerializeToString(deterministic=True) for _, m in receiver.metrics())
    return spans, logs, metrics


def test_several_processes_send_exactly_what_one_sends(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_services(folder)
    results = {}
    for jobs in ("1", "3"):
        receiver = Receiver().start()
        try:
            run = dm_explore("export", "otlp", str(folder), "--endpoint", receiver.url,
                             "--jobs", jobs)  # fmt: skip
            assert run.returncode == 0, run.stderr
            results[jobs] = (_received(receiver), run.stderr.split(";")[0])
        finally:
            receiver.stop()
    (one, one_said), (three, three_said) = results["1"], results["3"]
    spans, logs, metrics = three
    assert spans == one[0] and logs == one[1] and metrics == one[2]
    assert set(spans.values()) == {1}  # none twice
    # 4 x 39 ended requests + 4 unfinished; statements: n % 4 each, 2 for each unfinished
    statements = sum(n % 4 for k in range(4) for n in range(1 + 100 * k, 40 + 100 * k)) + 8
    assert sum(spans.values()) == 4 * 40 + statements
    assert sum(logs.values()) == 4 * 39 and sum(metrics.values()) == 4
    assert three_said == one_said  # "sent 160 traces (N spans, ...": the same counts
    # (each process fills its own requests: more of them, smaller)
    assert f"sent 160 traces ({4 * 40 + statements} spans, 156 log records" in three_said


def test_a_refusal_stops_every_worker(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs-refused"
    write_services(folder)
    receiver.script.append((400, {"Content-Type": "text/plain"}, b"no thanks"))
    run = dm_explore("export", "otlp", str(folder), "--endpoint", receiver.url, "--jobs", "3")
    assert run.returncode == 1
    assert "HTTP 400: no thanks" in run.stderr
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True)
    assert left.stdout == ""  # no worker left behind


def test_files_are_shared_by_size_and_small_folders_stay_in_one_process(tmp_path: Path) -> None:
    sizes = {"a": 50, "b": 10, "c": 40, "d": 30, "e": 20}
    files = []
    for name, kib in sizes.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(b"x" * kib * 1024)
        files.append(path)
    shares = share_files(files, 2)
    assert [[p.stem for p in share] for share in shares] == [["a", "b", "e"], ["c", "d"]]
    assert jobs_for(files) == 1  # 150 KiB: not worth a second process
    assert jobs_for(files, 8) == 5  # never more processes than files
    big = tmp_path / "big.jsonl"
    with big.open("wb") as out:
        out.truncate(2 * MIN_BYTES_PER_JOB)
    assert jobs_for([*files, big]) == min(os.cpu_count() or 1, 2)  # one per CPU, 8 MiB each


def test_a_reading_process_killed_is_reported_not_waited_for(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    paths = []
    for pid in (1, 2):
        w = Writer(folder, svc="web", pid=pid)
        for n in range(1 + 1000 * pid, 300 + 1000 * pid):
            w.request(n, sql=1)
        paths.append(w.path)
    workers = Workers([file_batches([p]) for p in paths], ("traces",), max_items=10)
    requests = iter(workers)
    next(requests)  # both are reading now, and soon wait for the queue to empty
    time.sleep(0.3)
    victim = multiprocessing.active_children()[0]
    os.kill(victim.pid or 0, signal.SIGKILL)
    with pytest.raises(WorkerFailed, match="ended with -9"):
        for _ in requests:
            pass
    assert not any(p.is_alive() for p in multiprocessing.active_children())


def test_the_traces_counted_stay_bounded_and_the_count_says_so(
    tmp_path: Path,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dm_explore.cli import main
    from dm_explore.outputs import otlp_stream

    folder = tmp_path / "logs"
    w = Writer(folder)
    for n in range(1, 31):
        w.request(n)
    monkeypatch.setattr(otlp_stream, "MAX_TRACE_IDS", 20)
    assert main(["export", "otlp", str(folder), "--endpoint", receiver.url]) == 0
    assert "sent at least 20 traces (60 spans" in capsys.readouterr().err
    assert len(receiver.spans()) == 60  # every span sent all the same
    monkeypatch.setattr(otlp_stream, "MAX_TRACE_IDS", 40)
    assert main(["export", "otlp", str(folder), "--endpoint", receiver.url]) == 0
    assert "sent 30 traces (60 spans" in capsys.readouterr().err
