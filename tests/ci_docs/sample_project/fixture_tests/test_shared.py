"""Tests that share fixtures wider than a test: session and module scope."""

import pytest


@pytest.mark.django_db
def test_first(catalogue: list[object], stock_audit: None) -> None:
    assert len(catalogue) == 5


@pytest.mark.django_db
def test_second(catalogue: list[object], stock_audit: None) -> None:
    assert catalogue == [None] * 5


def test_needs_payments(payment_service: None) -> None:
    pass


def test_leaves_a_cache(leaky_cache: None) -> None:
    pass
