"""The metrics view's plots: one column per second up to the newest, gaps kept."""

from __future__ import annotations

from dm_explore.model import Series
from dm_explore.tui.widgets.metrics import sparkline, timeline


def test_timeline_keeps_empty_seconds_and_ends_at_the_newest() -> None:
    series = Series("latency")
    for ts, value in ((103.2, 4.0), (100.1, 2.0), (100.5, 4.0), (105.0, 8.0)):
        series.add(ts, value)  # out of order, as files are read one after another
    assert timeline(series, "second", "mean", width=10) == [3.0, None, None, 4.0, None, 8.0]
    assert timeline(series, "second", "count", width=4) == [0.0, 1.0, 0.0, 1.0]


def test_sparkline_scales_and_leaves_gaps_blank() -> None:
    assert sparkline([1.0, None, 5.0, 3.0]) == "▁ █▄"
    assert sparkline([]) == "" and sparkline([None, None]) == "  "
