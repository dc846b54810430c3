"""dm_log.sentry.Transport with the real Sentry SDK: captured events land in the current span."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from jsonschema import Draft202012Validator

import dm_log
import dm_log.sentry
from tests.conftest import assert_all_valid, read_events

DSN = "https://public@localhost/1"  # parsed, never contacted: the transport sends nothing


@pytest.fixture
def sentry(log_dir: Path) -> Iterator[Path]:
    """Sentry initialised with our transport; closed (and the hub cleared) afterwards."""
    sentry_sdk.init(dsn=DSN, transport=dm_log.sentry.Transport, enable_logs=True)
    try:
        yield log_dir
    finally:
        _close()


def _close() -> None:
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: a client that records nothing


def _of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == kind]


class PaymentDeclined(Exception):
    pass


def _charge(amount: int) -> None:
    try:
        {"eur": 1}["usd"]
    except KeyError as exc:
        raise PaymentDeclined(f"declined {amount}") from exc


def test_exception_in_current_span_with_dm_logs_fingerprint(
    sentry: Path, event_validator: Draft202012Validator
) -> None:
    with dm_log.span("checkout") as span:
        try:
            _charge(12)
        except PaymentDeclined as exc:
            sentry_sdk.capture_exception(exc)
            dm_log.capture_exception(exc)  # the same error the native way, to compare
    events = assert_all_valid(sentry, event_validator)
    via_sentry, native = _of(events, "exception")
    assert via_sentry["mechanism"] == "sentry" and native["mechanism"] == "user"
    assert via_sentry["span"] == span.span_id and via_sentry["trace"] == span.trace_id
    assert via_sentry["type"] == native["type"] == f"{__name__}.PaymentDeclined"
    assert via_sentry["message"] == "declined 12"
    assert via_sentry["cause"] == native["cause"] == "KeyError: 'usd'"
    assert via_sentry["fingerprint"] == native["fingerprint"]
    keys = ("file", "line", "func", "module", "in_app")
    frames = [{k: f[k] for k in keys} for f in native["frames"]]
    assert [{k: f[k] for k in keys} for f in via_sentry["frames"]] == frames
    assert via_sentry["frames"][-1]["func"] == "_charge" and via_sentry["frames"][-1]["in_app"]
    assert via_sentry["frames"][-1]["src"] == 'raise PaymentDeclined(f"declined {amount}") from exc'
    assert via_sentry["handled"] is True
    assert not _of(events, "log")  # no message: nothing but the exception


def test_messages_and_logging_become_log_events(
    sentry: Path, event_validator: Draft202012Validator
) -> None:
    logger = logging.getLogger("shop.payments")
    with dm_log.span("nightly-sync") as span:
        sentry_sdk.capture_message("stock feed late", level="warning")
        try:
            _charge(3)
        except PaymentDeclined:
            logger.exception("charge failed for order %s", 7)  # the logging integration
    events = assert_all_valid(sentry, event_validator)
    logs = _of(events, "log")
    assert [(e["level"], e["msg"]) for e in logs][:2] == [
        ("warning", "stock feed late"),
        ("error", "charge failed for order 7"),
    ]
    assert logs[1]["logger"] == "shop.payments"
    (exc,) = _of(events, "exception")
    assert exc["type"].endswith("PaymentDeclined") and exc["mechanism"] == "sentry"
    assert all(e["span"] == span.span_id for e in [*logs[:2], exc])


def test_structured_logs_are_written_too(sentry: Path) -> None:
    sentry_sdk.logger.warning("cache cold for {region}", region="eu")
    sentry_sdk.flush()
    logs = _of(read_events(sentry), "log")
    assert any(e["msg"] == "cache cold for eu" and e["level"] == "warning" for e in logs), logs
    assert any(e.get("fields", {}).get("region") == "eu" for e in logs)


def test_nothing_written_while_recording_is_off(tmp_path: Path) -> None:
    dm_log.configure(log_dir=None)
    sentry_sdk.init(dsn=DSN, transport=dm_log.sentry.Transport)
    try:
        sentry_sdk.capture_message("into the void")
        sentry_sdk.flush()
    finally:
        _close()
    assert not list(tmp_path.rglob("*.jsonl"))
