"""``dm-explore ship``: a real follower process against a recording receiver on loopback.

Restarted mid-way (SIGTERM, then started again) while lines keep arriving, with a
request open across the restart: every span arrives once, with all its events and
its statements' spans, as ``export otlp`` maps them. Counts are of OTLP spans, as the
receiver counts them: a request of the writer with one statement is two.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from dm_explore.cli import main
from tests.ci_docs.test_otlp import _parse, _spans, statement_id
from tests.otlp.receiver import Receiver
from tests.otlp.writer import Writer

ROOT = Path(__file__).resolve().parents[2]


def ship(folder: Path, url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dm_explore.cli", "ship", str(folder), "--endpoint", url, *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def span_ids(receiver: Receiver) -> Counter[str]:
    return Counter(span.span_id.hex() for _, span in receiver.spans())


def ids_of(numbers: range, sql: int = 1) -> set[str]:
    """The span ids of the writer's requests ``numbers``: each request's and its statements'."""
    ids = {f"{n + 1:016x}" for n in numbers}
    ids |= {statement_id(f"{n:032x}", f"{n + 1:016x}", i) for n in numbers for i in range(sql)}
    return ids


def test_a_restart_neither_resends_nor_skips(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    for n in range(1, 21):
        w.request(n)
    w.request(21, end=False)  # open across the restart
    first = ship(folder, receiver.url)
    wait_for(lambda: len(span_ids(receiver)) == 40)  # 20 requests and their statements
    for n in range(22, 31):
        w.request(n)
    wait_for(lambda: len(span_ids(receiver)) == 58)
    err = stop(first)
    assert " 58 spans sent" in err
    assert set(span_ids(receiver)) == ids_of(range(1, 21)) | ids_of(range(22, 31))
    state = folder / ".dm-ship-state.json"
    assert state.stat().st_mode & 0o777 == 0o600
    # while it is down: the open request gets more SQL and ends; new requests arrive
    w.add("sql", trace=f"{21:032x}", span=f"{22:016x}", sql="SELECT late", params=[], ms=0.1,
          alias="default", vendor="sqlite", many=False)  # fmt: skip
    w.finish(21)
    for n in range(31, 41):
        w.request(n)
    second = ship(folder, receiver.url)
    wait_for(lambda: len(span_ids(receiver)) == 81)  # and request 21 with its two statements
    for n in range(41, 46):
        w.request(n)
    wait_for(lambda: len(span_ids(receiver)) == 91)
    err = stop(second)
    assert " 33 spans sent" in err and " 58 already sent before a restart" in err
    ids = span_ids(receiver)
    late = {statement_id(f"{21:032x}", f"{22:016x}", 1)}
    assert set(ids) == ids_of(range(1, 46)) | late  # none skipped
    assert set(ids.values()) == {1}  # none twice
    got = {s.span_id.hex(): s for _, s in receiver.spans()}
    texts = [{a.key: a.value.string_value for a in got[i].attributes}["db.query.text"]
             for i in (statement_id(f"{21:032x}", f"{22:016x}", i) for i in (0, 1))]  # fmt: skip
    assert texts == ["SELECT 0 FROM items WHERE id = %s", "SELECT late"]  # either side of it
    # the file export of the same folder: the same spans, statement ids included
    assert main(["export", "otlp", str(folder), "-o", str(tmp_path / "o.jsonl")]) == 0
    exported = _spans(_parse((tmp_path / "o.jsonl").read_text()))
    assert {k: span for k, (_, span) in exported.items()} == got


def test_a_full_queue_drops_the_oldest_and_says_so(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    for n in range(1, 13):
        w.request(n)
    down = "http://127.0.0.1:9"  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "dm_explore.cli", "ship", str(folder), "--endpoint", down,
         "--once", "--queue", "5", "--retry-for", "0.3"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 1
    assert "receiver unreachable" in result.stderr and "at most 5 kept" in result.stderr
    # 24 spans, counted with their statements; a span is kept or dropped with its statement,
    # so two requests (4 spans) fit in 5
    assert "4 queued, 20 dropped (queue full)" in result.stderr
    again = ship(folder, receiver.url, "--once")
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    # the two kept are sent now, with their statements; the ten dropped are not sent late
    assert span_ids(receiver) == Counter(dict.fromkeys(ids_of(range(11, 13)), 1))
    assert " 4 spans sent" in err


def test_a_file_compressed_while_followed_is_not_sent_again(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    for n in range(1, 11):
        w.request(n)
    follower = ship(folder, receiver.url)
    wait_for(lambda: len(span_ids(receiver)) == 20)
    with w.path.open("rb") as src, gzip.open(str(w.path) + ".gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    w.path.unlink()
    other = Writer(folder, "api", 5151)
    other.request(100)
    wait_for(lambda: len(span_ids(receiver)) == 22)
    time.sleep(0.5)  # time enough to have sent the compressed file again, were it to
    stop(follower)
    assert set(span_ids(receiver).values()) == {1}
    assert set(span_ids(receiver)) == ids_of(range(1, 11)) | ids_of(range(100, 101))


def test_a_long_open_span_is_held_and_the_state_stays_small(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dm_explore.cli import shipper
    from dm_explore.outputs.otlp_send import Sender, endpoint_from

    monkeypatch.setattr(shipper, "MAX_DONE", 5)
    folder = tmp_path / "logs"
    w = Writer(folder)
    w.request(1, end=False)  # a request that stays open while many others end
    state = shipper.StateFile(tmp_path / "state.json")

    def run_once() -> shipper.Shipper:
        endpoint = endpoint_from(receiver.url)
        assert endpoint is not None
        ship_ = shipper.Shipper(folder, Sender(endpoint), state)
        ship_.read()
        assert ship_.flush(wait=True)
        ship_.save()
        return ship_

    for n in range(2, 40):
        w.request(n)
        if n % 8 == 0:
            run_once()  # several restarts, each after a batch of its own
    saved = orjson.loads(state.path.read_bytes())["files"]
    (entry,) = saved.values()
    # held by its ref, <trace>-<span>: a span id alone may repeat in another trace
    assert [ref.rpartition("-")[2] for ref in entry["held"]] == [f"{2:016x}"]
    assert entry["line"] > 2
    assert len(entry["done"]) <= 5 + 8  # bounded, not every span ever sent
    w.add("sql", trace=f"{1:032x}", span=f"{2:016x}", sql="SELECT after", params=[], ms=0.1,
          alias="default", vendor="sqlite", many=False)  # fmt: skip
    w.finish(1)
    for n in range(40, 45):
        w.request(n)
    run_once()
    ids = span_ids(receiver)
    # the held request's first statement was written before the resume point: not sent with
    # it; the one written after is the first it read again, so its index is 0 (docs/format.md)
    assert set(ids) == ids_of(range(1, 45)) and set(ids.values()) == {1}
    (after,) = [s for _, s in receiver.spans()
                if s.span_id.hex() == statement_id(f"{1:032x}", f"{2:016x}", 0)]  # fmt: skip
    assert {a.key: a.value.string_value for a in after.attributes}["db.query.text"] == (
        "SELECT after")  # fmt: skip
    assert after.parent_span_id.hex() == f"{2:016x}"
    (held,) = [s for _, s in receiver.spans() if s.span_id.hex() == f"{2:016x}"]
    # its start line came back from the state: the kind and the start's fields
    assert held.kind == held.SPAN_KIND_SERVER and held.name == "GET items/<int:pk>/"
    assert {a.key: a.value.string_value for a in held.attributes}["url.path"] == "/items/1/"


def test_a_refusal_ends_ship_with_the_receivers_message(tmp_path: Path, receiver: Receiver) -> None:
    folder = tmp_path / "logs"
    Writer(folder).request(1)
    receiver.script.append((401, {}, b"missing API key"))
    proc = ship(folder, receiver.url, "--once")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "HTTP 401: missing API key" in err
    again = ship(folder, receiver.url, "--once")  # the state kept it for the next run
    assert again.communicate(timeout=60) and again.returncode == 0
    assert span_ids(receiver) == Counter(dict.fromkeys(ids_of(range(1, 2)), 1))


def test_sigterm_while_the_receiver_is_down_keeps_the_spans_for_later(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    for n in range(1, 4):
        w.request(n)
    down = ship(folder, "http://127.0.0.1:9", "--retry-for", "0.3")
    time.sleep(2.0)
    began = time.monotonic()
    err = stop(down)
    assert time.monotonic() - began < 10
    assert "receiver unreachable" in err and "they are sent on the next run" in err
    up = ship(folder, receiver.url, "--once")
    assert up.communicate(timeout=60) and up.returncode == 0
    assert span_ids(receiver) == Counter(dict.fromkeys(ids_of(range(1, 4)), 1))


def test_a_span_with_many_statements_is_shipped_in_bounded_requests(
    tmp_path: Path, receiver: Receiver
) -> None:
    from dm_explore.outputs.otlp import MAX_ITEMS

    folder = tmp_path / "logs"
    w = Writer(folder)
    w.request(1, sql=10_000)  # a command's loop of queries: 10,001 spans
    w.request(2)
    proc = ship(folder, receiver.url, "--once")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert " 10003 spans sent in 3 requests, 0 queued" in err
    sizes = receiver.request_sizes()
    assert max(sizes) <= MAX_ITEMS and sum(sizes) == 10_003
    assert span_ids(receiver) == Counter(dict.fromkeys(ids_of(range(1, 2), 10_000) | ids_of(
        range(2, 3)), 1))  # fmt: skip


def test_a_folder_bigger_than_the_queue_is_sent_whole_when_the_receiver_is_up(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "logs"
    w = Writer(folder)
    for n in range(1, 31):
        w.request(n)
    result = ship(folder, receiver.url, "--once", "--queue", "5")
    _, err = result.communicate(timeout=60)
    assert result.returncode == 0, err
    assert span_ids(receiver) == Counter(dict.fromkeys(ids_of(range(1, 31)), 1))
    assert "60 spans sent" in err and "0 dropped (queue full)" in err
