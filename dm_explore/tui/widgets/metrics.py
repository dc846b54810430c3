"""The metrics view: sparklines of every series, request latency, runtime, span percentiles."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...model import Bucket, Model, Series, percentile
from ..text import cell

__all__ = ["MetricsView", "sparkline"]

TICKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 40) -> str:
    """Unicode blocks scaled between the smallest and largest of ``values`` (the newest last)."""
    values = values[-width:]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(
        TICKS[min(int((v - low) / span * (len(TICKS) - 1)), len(TICKS) - 1)] for v in values
    )


def _series_line(out: Text, label: str, series: Series, per: str, value: str = "mean") -> None:
    buckets: list[Bucket] = series.recent(per, 40)
    points = [getattr(b, value) if value != "count" else float(b.count) for b in buckets]
    stats = series.all.stats()
    out.append_text(cell(label, 28, "bold"))
    out.append(" " * max(1, 29 - min(len(label), 28)))
    out.append(f"{sparkline(points):<40}", style="cyan")
    unit = f" {series.unit}" if series.unit else ""
    out.append(
        f"  n={stats['count']} min={stats['min']:.4g} p50={stats['p50']:.4g} p95={stats['p95']:.4g}"
        f" p99={stats['p99']:.4g} max={stats['max']:.4g}{unit}\n"
    )


class MetricsView(Static):
    """Everything numeric the folder holds, redrawn as it grows."""

    def refresh_from(self, model: Model, per: str = "second") -> None:
        out = Text(end="")
        out.append(
            f"Metric series (per {per}; m switches seconds/minutes)\n", style="bold underline"
        )
        for name, series in sorted(model.metrics.items()):
            _series_line(out, name, series, per)
        if not model.metrics:
            out.append("(none)\n", style="dim")
        out.append("\nRequest latency per service (ms)\n", style="bold underline")
        for name, series in sorted(model.request_latency.items()):
            _series_line(out, name, series, per)
        out.append("\nRequest rate per service (requests per bucket)\n", style="bold underline")
        for name, series in sorted(model.request_latency.items()):
            _series_line(out, name, series, per, value="count")
        out.append("\nCustom spans (ms)\n", style="bold underline")
        for name, series in sorted(model.span_durations.items()):
            _series_line(out, name, series, per)
        out.append("\nProcesses (RSS MB / threads)\n", style="bold underline")
        for key, proc in sorted(model.processes.items()):
            samples = list(proc.runtime)
            if not samples:
                continue
            rss = [float(s.get("rss") or 0) / 1048576 for s in samples]
            threads = [float(s.get("threads") or 0) for s in samples]
            out.append_text(cell(f"{key[0]} pid {key[2]}", 28, "bold"))
            out.append(" ")
            out.append(f"{sparkline(rss, 30):<30}", style="green")
            out.append(
                f" {rss[-1]:.1f} MB (max {max(rss):.1f}, p95 {percentile(sorted(rss), 95):.1f})  "
            )
            out.append(f"{sparkline(threads, 15):<15}", style="magenta")
            out.append(f" {threads[-1]:.0f} threads\n")
        self.update(out)
