"""The request filter's text: query string, headers and view, case-blind, with the
raw-line check that rules requests out before decoding them."""

from __future__ import annotations

from pathlib import Path

from dm_explore.ingest.live import LiveFolder
from dm_explore.model import RequestFilter
from dm_explore.tui.filters import SearchFilter, parse_filter
from tests.tui.keys_folder import RICH, keys_folder


def _matching(folder: Path, text: str) -> set[str]:
    loader = LiveFolder(folder, poll=True)
    loader.read_now()
    flt = parse_filter(text)
    return {span.span_id for span in loader.model.requests.values() if flt.matches(span)}


def test_query_headers_and_view_match_whatever_their_case(tmp_path: Path) -> None:
    folder = keys_folder(tmp_path / "logs")
    for text in ("Q=WAGTAIL", "X-Request-ID: 4F2A", "café", "CAFÉ AU", "shop.views.SHELF"):
        assert _matching(folder, text) == {RICH}, text
    assert _matching(folder, "svc:web q=wagtail") == {RICH}
    assert _matching(folder, "svc:jobs q=wagtail") == set()
    assert _matching(folder, 'x-note: "café') == set(), "a quote the header does not hold"
    assert len(_matching(folder, "accept: text/html")) == 60, "every other request's header"


def test_a_filter_without_text_stays_the_model_s_own() -> None:
    assert type(parse_filter("svc:web errors")) is RequestFilter  # the list's fast path
    found = parse_filter("errors wagtail")
    assert isinstance(found, SearchFilter) and found.errors_only and found.text == "wagtail"
