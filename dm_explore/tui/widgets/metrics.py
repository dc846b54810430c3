"""The metrics view: sparklines of every series, request latency, runtime, span percentiles.

Plots cover the newest :data:`WIDTH` seconds (or minutes) up to the newest sample
of each series, not up to the wall clock, so a folder read later draws the same.
A second with no sample is a blank column for a value plot and ``▁`` (zero) for
a rate.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from ...model import Model, Series, percentile
from ...outputs.textsafe import safe_line
from ..text import cell

__all__ = ["MetricsView", "sparkline", "timeline"]

TICKS = "▁▂▃▄▅▆▇█"
WIDTH = 40  # plot columns
LABEL = 28  # label cells


def sparkline(values: Sequence[float | None], width: int = WIDTH) -> str:
    """Unicode blocks scaled between the smallest and largest of ``values`` (newest last).

    ``None`` (no sample there) is drawn as a space.
    """
    values = values[-width:]
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    spread = (high - low) or 1.0
    top = len(TICKS) - 1
    return "".join(
        " " if v is None else TICKS[min(int((v - low) / spread * top), top)] for v in values
    )


def timeline(series: Series, per: str, value: str, width: int = WIDTH) -> list[float | None]:
    """One point per second (or minute) for the ``width`` buckets up to the series' newest.

    ``value`` is a :class:`~dm_explore.model.Bucket` attribute (``mean``, ``max``) or
    ``count``; an empty bucket is None, or 0 for ``count``.
    """
    buckets = series.seconds if per == "second" else series.minutes
    if not buckets:
        return []
    newest = max(buckets)  # not the last opened: files are read one after another
    empty: float | None = 0.0 if value == "count" else None
    points: list[float | None] = []
    for key in range(newest - width + 1, newest + 1):
        bucket = buckets.get(key)
        if bucket is None:
            points.append(empty)
        else:
            points.append(float(bucket.count) if value == "count" else getattr(bucket, value))
    while points and points[0] is None:  # before the first sample: nothing to draw
        points.pop(0)
    return points


def _label(out: Text, label: str) -> None:
    text = cell(label, LABEL, "bold")
    text.pad_right(LABEL + 1 - text.cell_len)
    out.append_text(text)


def _value_line(out: Text, label: str, series: Series, per: str) -> None:
    """``label  ▁▃█▂  n= min= p50= p95= p99= max=``: the mean per bucket, stats of every sample."""
    stats = series.all.stats()
    _label(out, label)
    out.append(f"{sparkline(timeline(series, per, 'mean')):<{WIDTH}}", style="cyan")
    unit = f" {safe_line(series.unit, 20)}" if series.unit else ""
    out.append(
        f"  n={stats['count']} min={stats['min']:.4g} p50={stats['p50']:.4g} p95={stats['p95']:.4g}"
        f" p99={stats['p99']:.4g} max={stats['max']:.4g}{unit}\n"
    )


def _rate_line(out: Text, label: str, series: Series, per: str) -> None:
    """``label  ▁▃█▂  last 3/s  peak 9/s  total 120``: samples per bucket."""
    points = timeline(series, per, "count")
    counts = [p or 0.0 for p in points]
    unit = "/s" if per == "second" else "/min"
    _label(out, label)
    out.append(f"{sparkline(counts):<{WIDTH}}", style="green")
    last = counts[-1] if counts else 0.0
    out.append(f"  last {last:.0f}{unit}  peak {max(counts, default=0):.0f}{unit}")
    out.append(f"  total {series.all.count}\n")


def _section(out: Text, title: str, empty: bool) -> None:
    out.append(f"\n{title}\n", style="bold underline")
    if empty:
        out.append("(none)\n", style="dim")


class MetricsView(Static):
    """Everything numeric the folder holds, redrawn as it grows."""

    def refresh_from(self, model: Model, per: str = "second") -> None:
        out = Text(end="")
        out.append(
            f"Metric series (mean per {per}; m switches seconds/minutes)\n", style="bold underline"
        )
        for name, series in sorted(model.metrics.items()):
            _value_line(out, name, series, per)
        if not model.metrics:
            out.append("(none)\n", style="dim")
        latency = sorted(model.request_latency.items())
        _section(out, "Request latency per service (ms)", not latency)
        for name, series in latency:
            _value_line(out, name, series, per)
        _section(out, f"Request rate per service (requests per {per})", not latency)
        for name, series in latency:
            _rate_line(out, name, series, per)
        spans = sorted(model.span_durations.items())
        _section(out, "Custom spans (ms)", not spans)
        for name, series in spans:
            _value_line(out, name, series, per)
        _section(out, "Processes (RSS MB / threads)", False)
        shown = 0
        for key, proc in sorted(model.processes.items()):
            samples = list(proc.runtime)
            if not samples:
                continue
            shown += 1
            rss = [float(s.get("rss") or 0) / 1048576 for s in samples]
            threads = [float(s.get("threads") or 0) for s in samples]
            _label(out, f"{key[0]} pid {key[2]}")
            out.append(f"{sparkline(rss, 30):<30}", style="green")
            out.append(
                f" {rss[-1]:7.1f} MB (max {max(rss):.1f}, p95 {percentile(sorted(rss), 95):.1f})  "
            )
            out.append(f"{sparkline(threads, 15):<15}", style="magenta")
            out.append(f" {threads[-1]:.0f} threads\n")
        if not shown:
            out.append("(no runtime samples)\n", style="dim")
        self.update(out)
