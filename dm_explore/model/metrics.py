"""Metric series consolidated per second and per minute, and duration percentiles."""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["Bucket", "Series", "percentile"]

MAX_BUCKETS = 3600  # an hour of seconds, or 60 hours of minutes
MAX_SAMPLES = 2000  # per bucket, for percentiles; counts and sums stay exact
MAX_PENDING = 100_000  # samples recorded before they are folded into buckets unasked


def percentile(sorted_values: list[float], p: float) -> float:
    """The ``p``-th percentile (0..100) of already sorted values, nearest rank."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


@dataclass(slots=True)
class Bucket:
    """Samples of one series in one second or one minute."""

    start: float
    count: int = 0
    total: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    samples: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(value)
        else:  # reservoir sampling keeps percentiles honest past the sample cap
            slot = random.randrange(self.count)
            if slot < MAX_SAMPLES:
                self.samples[slot] = value

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def stats(self) -> dict[str, float]:
        """count, min, max, mean, p50, p95, p99."""
        ordered = sorted(self.samples)
        return {
            "count": self.count,
            "min": self.min if self.count else 0.0,
            "max": self.max if self.count else 0.0,
            "mean": self.mean,
            "p50": percentile(ordered, 50),
            "p95": percentile(ordered, 95),
            "p99": percentile(ordered, 99),
        }


class Series:
    """A named series: every sample goes into its second's and its minute's bucket.

    :meth:`add` only records the sample; the buckets take in what was added
    when they are next read, so ingest pays an append per sample and a view
    pays for what arrived since it last looked.
    """

    __slots__ = ("_all", "_minutes", "_pending", "_seconds", "name", "unit")

    def __init__(self, name: str, unit: str | None = None) -> None:
        self.name = name
        self.unit = unit
        self._seconds: OrderedDict[int, Bucket] = OrderedDict()
        self._minutes: OrderedDict[int, Bucket] = OrderedDict()
        self._all = Bucket(0.0)
        self._pending: list[float] = []  # ts, value, ts, value, ...

    def add(self, ts: float, value: float) -> None:
        self._pending += (ts, value)
        if len(self._pending) > 2 * MAX_PENDING:
            self._fold()

    @property
    def seconds(self) -> OrderedDict[int, Bucket]:
        """Buckets per second (the newest MAX_BUCKETS), by epoch second."""
        if self._pending:
            self._fold()
        return self._seconds

    @property
    def minutes(self) -> OrderedDict[int, Bucket]:
        """Buckets per minute (the newest MAX_BUCKETS), by epoch minute."""
        if self._pending:
            self._fold()
        return self._minutes

    @property
    def all(self) -> Bucket:
        """Every sample so far."""
        if self._pending:
            self._fold()
        return self._all

    def _fold(self) -> None:
        pending, self._pending = self._pending, []
        seconds, minutes, everything = self._seconds, self._minutes, self._all
        isfinite = math.isfinite
        for i in range(0, len(pending), 2):
            ts, value = pending[i], pending[i + 1]
            if not isfinite(value):
                continue
            everything.add(value)
            second = int(ts)
            bucket = seconds.get(second)
            if bucket is None:
                bucket = self._open(seconds, second, 1)
            bucket.add(value)
            minute = second // 60
            bucket = minutes.get(minute)
            if bucket is None:
                bucket = self._open(minutes, minute, 60)
            bucket.add(value)

    @staticmethod
    def _open(buckets: OrderedDict[int, Bucket], key: int, width: int) -> Bucket:
        bucket = buckets[key] = Bucket(float(key * width))
        if len(buckets) > MAX_BUCKETS:
            buckets.popitem(last=False)
        return bucket

    def recent(self, per: str = "second", last: int = 60) -> list[Bucket]:
        """The newest ``last`` buckets (``per`` is ``second`` or ``minute``), oldest first."""
        buckets = self.seconds if per == "second" else self.minutes
        keys = sorted(buckets)[-last:]
        return [buckets[k] for k in keys]
