"""Erasing a customer from the merchant's side: `POST /customers/{id}/forget` and
`cancelbot forget`, one service behind both (tests/e2e/cancellation/test_erasure.py
shows that nothing personal remains after a real conversation)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.api.routes import REPLAYED_HEADER
from bot.wiring import AppDeps
from storage.models import Customer, Erasure
from tests.api.conftest import LINKED_USER
from tests.api.support import MerchantClient
from tests.api.test_cli import cancelbot


async def customer_row(deps: AppDeps, external_id: str) -> Customer:
    async with deps.uow() as uow:
        row = await uow.customers.by_external_id(external_id)
    assert row is not None
    return row


async def test_the_api_erases_once_and_then_answers_the_same(
    api: MerchantClient, shop: AppDeps
) -> None:
    first = await api.post("/api/v1/customers/C001/forget")
    again = await api.post("/api/v1/customers/C001/forget")
    assert (first.status, first.body["telegram_accounts"]) == (200, 1)
    assert REPLAYED_HEADER not in first.headers
    assert (again.status, again.headers[REPLAYED_HEADER]) == (200, "true")
    assert again.body == first.body
    customer = await customer_row(shop, "C001")
    assert (customer.name, customer.phone, customer.email) == ("", None, None)
    assert customer.telegram_user_id is None
    async with shop.uow() as uow:
        assert await uow.customers.by_telegram_user(LINKED_USER) is None
        orders = await uow.orders.for_customer(customer.id)
    assert {order.number for order in orders} == {"SO-1", "SO-2"}
    bo = await customer_row(shop, "C002")
    assert bo.name == "Bo Chen"  # nobody else is touched


async def test_an_unknown_customer_is_not_found(api: MerchantClient, shop: AppDeps) -> None:
    answer = await api.post("/api/v1/customers/C404/forget")
    assert (answer.status, answer.body["error"]["code"]) == (404, "not_found")


@pytest.mark.slow  # a whole process of its own
async def test_the_command_line_erases_and_says_what_it_kept(shop: AppDeps) -> None:
    code, out, _ = await cancelbot(shop, "forget", "C002", "--yes")
    assert code == 0
    assert out.startswith("customer C002 erased on ")
    assert "orders, refunds and amounts kept" in out
    code, out, _ = await cancelbot(shop, "forget", "C002", "--yes")
    assert (code, "nothing changed" in out) == (0, True)
    code, _, err = await cancelbot(shop, "forget", "C404", "--yes")
    assert (code, err.strip()) == (1, "no customer with id 'C404'")
    code, _, err = await cancelbot(shop, "forget", "C001")  # no terminal to ask in
    assert (code, "--yes" in err) == (2, True)
    async with shop.uow() as uow:
        erasures = (await uow.session.scalars(select(Erasure))).all()
    assert [(e.requested_by, e.changes["telegram_accounts"]) for e in erasures] == [("cli", 0)]
