"""TUI tests run their async pilots on asyncio through anyio's pytest plugin, in UTC."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def utc_zone() -> Iterator[None]:
    """The process zone is UTC: the views show local time, and snapshots are in UTC.

    Django sets the process zone from ``TIME_ZONE`` when it is set up in the same
    worker (the in-process integration tests); this puts UTC back for each TUI test,
    and the zone found after it.
    """
    before = os.environ.get("TZ")
    if before == "UTC":
        yield
        return
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
