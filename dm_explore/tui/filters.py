"""The request filter typed in the explorer: ``svc:api status:5xx slow:200 errors text``.

Text matches what the model's own filter matches (path, method, service, view,
route, trace id) and also the query string and the request's and response's
headers (``name: value``): ``query=wagtail`` or ``x-request-id: 4f2a`` finds
the request. The same test serves ``/`` in the request list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..model import RequestFilter, Span
from ..model.queries import names_trace

__all__ = ["SearchFilter", "parse_filter", "request_matches"]

_SEPARATORS = re.compile(r"[?:\s]+")


def request_matches(needle: str, span: Span) -> bool:
    """Whether ``needle`` (lowercase) is in the request's path, method, service, view,
    route, query string or headers, or names its trace."""
    hay = f"{span.name} {span.svc} {span.view or ''} {span.route or ''}"
    return needle in hay.lower() or names_trace(needle, span) or _in_fields(needle, span)


def _in_fields(needle: str, span: Span) -> bool:
    """``needle`` in the query string or a header, reading the start and end lines only
    when their raw bytes hold it (most requests are ruled out without decoding)."""
    start_raw, end_raw = span.start_raw, span.end_raw
    if start_raw is None and end_raw is None:
        return False
    lines = ((start_raw or b"") + (end_raw or b"")).lower()
    for piece in _pieces(needle):
        if piece not in lines:
            return False
    start = span.start
    query = start.get("query")
    if isinstance(query, str) and needle in f"{span.target or ''}?{query}".lower():
        return True
    if _in_headers(needle, start.get("headers")):
        return True
    end = span.end or {}  # decoded only when the start line did not match
    view = end.get("view") or start.get("view")
    if isinstance(view, str) and needle in view.lower():
        return True
    return _in_headers(needle, end.get("headers"))


def _in_headers(needle: str, headers: object) -> bool:
    """``needle`` in one of the ``name: value`` lines of ``headers`` (lowercased)."""
    if isinstance(headers, dict):
        for name, value in headers.items():
            if needle in f"{name}: {value}".lower():
                return True
    return False


@lru_cache(maxsize=32)
def _pieces(needle: str) -> tuple[bytes, ...]:
    """What a lowercased line must hold for ``needle`` (lowercase) to match in it: each
    piece between the separators of ``path?query`` and ``name: value``, as JSON writes
    it. None for a needle JSON may write otherwise (quotes, backslashes, not ASCII)."""
    if not needle.isascii() or '"' in needle or "\\" in needle:
        return ()
    return tuple(p.encode() for p in _SEPARATORS.split(needle) if p)


@dataclass(slots=True, frozen=True)
class SearchFilter(RequestFilter):
    """A filter with text: :func:`request_matches` for the text, ``rest`` for the other criteria."""

    rest: RequestFilter = field(default_factory=RequestFilter)

    def matches(self, span: Span) -> bool:
        return self.rest.matches(span) and request_matches(self.text.lower(), span)


def parse_filter(text: str) -> RequestFilter:
    """The filter in ``text``.

    Words ``svc:NAME``, ``status:5xx|404``, ``slow:MS``, ``errors`` and ``inflight``
    set those criteria; every other word is text to match (:func:`request_matches`).
    """
    service, status, slow, errors, inflight = "", "", None, False, False
    words = []
    for word in text.split():
        key, sep, value = word.partition(":")
        key = key.lower()
        if sep and key in ("svc", "service"):
            service = value
        elif sep and key == "status":
            status = value
        elif sep and key == "slow":
            try:
                slow = float(value.removesuffix("ms"))
            except ValueError:
                words.append(word)
        elif word.lower() in ("errors", "error", "has-error"):
            errors = True
        elif word.lower() in ("inflight", "in-flight"):
            inflight = True
        else:
            words.append(word)
    rest = RequestFilter("", service, status, slow, errors, inflight)
    if not words:
        return rest
    return SearchFilter(" ".join(words), service, status, slow, errors, inflight, rest=rest)
