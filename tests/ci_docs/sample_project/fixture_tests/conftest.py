"""Fixtures shared between tests: set up once, in whichever test needs them first."""

from collections.abc import Iterator

import pytest
from shop.models import Category, Item


@pytest.fixture(scope="session")
def catalogue(request: pytest.FixtureRequest, django_db_blocker: object) -> list[object]:
    # The database asked for while this setup runs, as pytest-django's unittest support does.
    request.getfixturevalue("django_db_setup")
    # One query per name: an N+1 of the fixture's own, not of the test that needed it first.
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        return [Category.objects.filter(name=f"shelf{n}").first() for n in range(5)]


@pytest.fixture(scope="module")
def stock_audit(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        Item.objects.filter(name="audit").count()


@pytest.fixture(scope="session")
def payment_service() -> None:
    raise ConnectionError("payment service down")


@pytest.fixture(scope="module")
def leaky_cache() -> Iterator[None]:
    yield
    raise RuntimeError("cache would not close")
