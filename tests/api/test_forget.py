"""Erasing a customer from the merchant's side: `POST /customers/{id}/forget` and
`cancelbot forget`, one service behind both (tests/e2e/cancellation/test_erasure.py
shows that nothing personal remains after a real conversation)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bench.session import MemorySession
from bench.updates import text_update
from bot.api.routes import REPLAYED_HEADER
from bot.wiring import AppDeps, build_bot, build_dispatcher
from storage.models import Customer, Erasure, TranscriptEntry
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


async def test_words_still_waiting_to_be_written_when_the_customer_is_erased_stay_blank(
    shop: AppDeps,
) -> None:
    """`forget` does not wait for the bot: what the customer said just before (its lines
    waiting for the group commit, storage.group_commit) is written blank, like the rest."""
    shop.group_commit.flush_after = 60  # written only when flushed below
    dp = build_dispatcher(shop)
    bot = build_bot(shop.settings, session=MemorySession())
    await dp.feed_update(bot, text_update(LINKED_USER, "my phone is +86 138 0000 0001"))
    assert shop.group_commit.pending()

    async with shop.uow() as uow:
        await shop.services(uow).erasure.forget("C001", requested_by="merchant")
    await shop.group_commit.flush()

    async with shop.uow() as uow:
        lines = (await uow.session.scalars(select(TranscriptEntry))).all()
    assert lines, "the lines are kept, as the erasure keeps the rest of the transcript"
    assert [(line.text, line.payload) for line in lines] == [(None, None)] * len(lines)
