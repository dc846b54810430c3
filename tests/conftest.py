"""Shared fixtures: a private log folder per test and a full-schema validator."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from dm_log._schema import ROOT_ID, schema_store

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
# Times are shown in the local zone: the suite runs in UTC, so snapshots and expected
# text read the same on every machine (tests of other zones set TZ in a subprocess).
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(autouse=True)
def utc_zone() -> Iterator[None]:
    """The process zone is UTC for every test: views show local time, expected text is UTC.

    Django sets the process zone from ``TIME_ZONE`` when it is set up in the same
    worker (the in-process integration tests); this puts UTC back for each test,
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak", action="store_true", default=False,
        help="run the long reliability soak (1M events, a bigger hostile corpus)",
    )  # fmt: skip


@pytest.fixture(scope="session")
def soak(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with ``--soak``."""
    return bool(request.config.getoption("--soak"))


@pytest.fixture(scope="session")
def event_validator() -> Draft202012Validator:
    """The root event schema as jsonschema (Draft 2020-12) sees it."""
    store = schema_store()
    registry: Registry = Registry().with_resources(
        (uri, Resource.from_contents(doc)) for uri, doc in store.items()
    )
    return Draft202012Validator(store[ROOT_ID], registry=registry)


def read_events(folder: Path) -> list[dict[str, Any]]:
    """Every line of every ``*.jsonl`` under ``folder``, parsed; fails on a bad line."""
    events = []
    for path in sorted(folder.rglob("*.jsonl")):
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise AssertionError(f"{path}:{number}: not JSON: {line[:200]!r}") from exc
    return events


def assert_all_valid(folder: Path, validator: Draft202012Validator) -> list[dict[str, Any]]:
    """Every line parses and validates, and none is a ``dm.invalid`` report."""
    events = read_events(folder)
    assert events, f"no events under {folder}"
    for event in events:
        errors = [e.message for e in validator.iter_errors(event)]
        assert not errors, (event, errors)
        assert event["event"] != "dm.invalid", event
    return events


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    """Recording on, into a fresh folder, for this test only."""
    import dm_log
    from dm_log import _config

    before = _config.current()
    folder = tmp_path / "logs"
    dm_log.configure(log_dir=folder, service="test-svc", validate_all=True)
    try:
        yield folder
    finally:
        dm_log.configure(
            log_dir=before.log_dir,
            service=before.service,
            validate_all=before.validate_all,
            max_bytes=before.max_bytes,
            cap_action=before.cap_action,
        )
