"""The sample project's own tests: passing, failing, erroring, skipped, sync and async."""

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from shop.models import Category, Item


@pytest.fixture
def stock(db: None) -> None:
    for n in range(3):
        Item.objects.create(name=f"item{n}", category=Category.objects.create(name=f"c{n}"))


def test_items_page(client: Client, stock: None) -> None:
    assert client.get("/items/").status_code == 200


def test_items_total_is_wrong(client: Client, stock: None) -> None:
    response = client.get("/items/?page=2")
    assert len(response.json()["items"]) == 4


def test_boom_is_a_500(stock: None) -> None:
    assert Client(raise_request_exception=False).get("/boom/").status_code == 500


def test_async_client(stock: None) -> None:
    response = async_to_sync(AsyncClient().get)("/items/")
    assert response.status_code == 200


@pytest.fixture
def broken_fixture() -> None:
    raise RuntimeError("fixture could not start")


def test_setup_error(broken_fixture: None) -> None:
    pass


@pytest.mark.skip(reason="not today")
def test_skipped() -> None:
    pass
