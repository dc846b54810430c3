"""The request filter typed in the explorer: ``svc:api status:5xx slow:200 errors text``."""

from __future__ import annotations

from ..model import RequestFilter

__all__ = ["parse_filter"]


def parse_filter(text: str) -> RequestFilter:
    """The filter in ``text``.

    Words ``svc:NAME``, ``status:5xx|404``, ``slow:MS``, ``errors`` and ``inflight``
    set those criteria; every other word is text to match.
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
    return RequestFilter(" ".join(words), service, status, slow, errors, inflight)
