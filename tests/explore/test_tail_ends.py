"""Reading a file from its end, and a compressed file in bounded batches."""

from __future__ import annotations

import gzip
from pathlib import Path

from dm_explore.ingest.tail import BATCH_BYTES, Tail


def _lines(first: int, count: int) -> bytes:
    return b"".join(b'{"n": %d}\n' % n for n in range(first, first + count))


def test_the_last_lines_of_a_plain_file_then_only_what_follows(tmp_path: Path) -> None:
    path = tmp_path / "web.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _lines(1, 5) + b"\n\n" + b'{"n": 6')  # blank, unfinished
    tail = Tail(path)
    assert tail.read_last(3) == [b'{"n": 3}', b'{"n": 4}', b'{"n": 5}']
    assert tail.read_last(0) == []
    with open(path, "ab") as out:
        out.write(b"}\n" + _lines(7, 1))
    lines, problems = tail.read()
    assert [line.raw for line in lines] == [b'{"n": 6}', b'{"n": 7}'] and not problems
    assert Tail(path).read_last(50)[0] == b'{"n": 1}'  # the whole file, its BOM removed


def test_the_last_lines_of_a_compressed_file(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl.gz"
    path.write_bytes(gzip.compress(_lines(1, 100_000)))
    tail = Tail(path)
    assert tail.read_last(2) == [b'{"n": 99999}', b'{"n": 100000}']
    assert tail.read() == ([], [])


def test_a_compressed_file_is_read_in_batches_and_appended_members_follow(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl.gz"
    path.write_bytes(gzip.compress(_lines(1, 200_000)))
    tail = Tail(path)
    batches = []
    while True:
        batch = tail.read_batch()
        batches.append(batch)
        assert sum(map(len, batch.raws)) <= 2 * BATCH_BYTES  # a batch, and one more piece
        if not batch.more:
            break
    assert len(batches) > 5 and sum(len(b.raws) for b in batches) == 200_000
    assert sum(b.bytes for b in batches) == path.stat().st_size and not tail.partial
    with open(path, "ab") as out:  # another gzip member, as `gzip -c >>` writes
        out.write(gzip.compress(_lines(200_001, 2)))
    lines, problems = tail.read()
    assert [line.number for line in lines] == [200_001, 200_002] and not problems


def test_a_compressed_file_cut_short_is_unfinished_not_broken(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    whole = gzip.compress(_lines(1, 1000))
    path.write_bytes(whole[: len(whole) // 2])
    tail = Tail(path)
    lines, problems = tail.read()
    assert 0 < len(lines) < 1000 and not problems and tail.partial
    path.write_bytes(whole)  # the compression went on: the rest arrives
    lines, problems = tail.read()
    assert lines[-1].number == 1000 and not problems and not tail.partial
