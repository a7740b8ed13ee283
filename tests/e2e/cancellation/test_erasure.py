"""Forgetting a customer: after a real conversation (linking, free text, a photo, a
cancellation, a refund, a survey comment, a second Telegram account by deep link and a
guest on a third), nothing personal is left anywhere in the database, while the orders,
the refund and its amounts still add up."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bot.channels.telegram import BotServer
from bot.erasure import forget_customer
from bot.services.refunds.updates import Notice
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from storage.models import (
    Base,
    CancellationRequest,
    Customer,
    Erasure,
    Order,
    Refund,
    SupportCase,
    TelegramUser,
)
from tests.conftest import NOW
from tests.e2e.cancellation.conftest import Scenario, item

FIRST, SECOND, GUEST = 5_550_000_001, 5_550_000_002, 5_550_000_003
STARS = "⭐⭐"


async def everything(deps: AppDeps) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every value in every table."""
    values: list[tuple[str, str, Any]] = []
    async with deps.uow() as uow:
        for table in Base.metadata.sorted_tables:
            for row in (await uow.session.execute(select(table))).mappings():
                values += [(table.name, column, value) for column, value in row.items()]
    return values


def leaks(values: list[tuple[str, str, Any]], needles: list[str], ids: set[int]) -> list[str]:
    found = []
    for table, column, value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value in ids:
            found.append(f"{table}.{column} = {value}")
            continue
        text = json.dumps(value, default=str, ensure_ascii=False) if value is not None else ""
        found += [f"{table}.{column} has {needle!r}" for needle in needles if needle in text]
    return found


async def test_forgetting_leaves_nothing_personal_and_keeps_the_books(
    scenario: Scenario, deps: AppDeps, bot: BotServer
) -> None:
    record = scenario.customer("Zora Quintana")
    zora = record.model_copy(update={"email": "zora.quintana@example.com"})
    scenario._customers[-1] = zora
    kettle = scenario.order(zora, "SO-9100001", item("Kettle", "120.00"), status="delivered")
    scenario.order(zora, "SO-9100002", item("Teapot", "60.00"))
    await scenario.load()

    chat = await scenario.link(zora, user_id=FIRST)
    await chat.send("Hello, this is Zora at 12 Quiet Lane, my cat is Bartholomew")
    await chat.person.next_message()
    await chat.send(f"/cancel_order {kettle.number}")
    await chat.expect("Why")
    await chat.send("it arrived broken, Bartholomew knocked it")
    await chat.expect_text("cancel/ask_photo", required=True)
    await chat.person.send_photo()
    await chat.expect_text("cancel/photo_received")
    await chat.person.next_message()  # the decision
    await chat.press("no_thanks_cancel")
    summary = await chat.person.next_message()
    if summary.buttons() and chat.button("confirm") not in summary.buttons():
        await chat.person.press(summary.buttons()[0])  # a refund method first
    await chat.press("confirm")
    async with deps.uow() as uow:
        case = (await uow.session.scalars(select(SupportCase))).one()
        photo = case.photo_file_id
        refund = (await uow.session.scalars(select(Refund))).one()
        update = await deps.services(uow).refund_updates.apply(
            refund.id, RefundStatus.REFUNDED, actor="merchant", event_id="e-1", occurred_at=NOW
        )
    assert photo is not None
    assert update.notice is Notice.QUEUED
    scenario.server.deps.outbox_signal.kick()
    await chat.expect("How did we do")
    await chat.person.press(STARS)
    await chat.expect("Anything we could do better")
    await chat.send("Bartholomew approves of the refund")
    await chat.expect_text("survey/comment_saved")

    tokens = deps.service_config.link_tokens
    assert tokens is not None
    second = scenario.fake.user(SECOND, "Zee", username="zora_second")
    await second.send(f"/start {tokens.issue(zora.id, NOW + timedelta(days=1))}")
    await second.expect("Zora Quintana")
    guest = scenario.fake.user(GUEST, "Zed")
    await guest.send("/start")
    await guest.next_message()
    await guest.press(chat.button("guest"))
    await guest.send("SO-9100002")
    await guest.next_message()
    await guest.send("zora.quintana@example.com")
    await guest.expect("SO-9100002")

    needles = [
        "Zora",
        "Quintana",
        "Zee",
        "zora_second",
        "Zed",
        "Quiet Lane",
        "Bartholomew",
        "8613800000001",
        "138 0000 0001",
        "zora.quintana@example.com",
        photo,
    ]
    accounts = {FIRST, SECOND, GUEST}
    await bot.runner.wait_idle()  # the last update's transcript is written after its answer
    before = leaks(await everything(deps), needles, accounts)
    assert len(before) > 20, before  # the scan sees the conversation it is about to erase

    result = await forget_customer(deps, zora.id, requested_by="cli")
    again = await forget_customer(deps, zora.id, requested_by="cli")

    assert leaks(await everything(deps), needles, accounts) == []
    assert (result.telegram_accounts, result.repeated) == (3, False)
    assert (again.repeated, again.erased_at) == (True, result.erased_at)
    async with deps.uow() as uow:
        session = uow.session
        customer = await session.scalar(select(Customer).where(Customer.external_id == zora.id))
        assert customer is not None
        orders = (
            await session.scalars(select(Order).where(Order.customer_id == customer.id))
        ).all()
        kept_refund = (await session.scalars(select(Refund))).one()
        request = (await session.scalars(select(CancellationRequest))).one()
        pseudonyms = (await session.scalars(select(TelegramUser.id))).all()
        erasures = await session.scalar(select(func.count()).select_from(Erasure))
    assert {order.number for order in orders} == {"SO-9100001", "SO-9100002"}
    assert (kept_refund.amount, kept_refund.status) == (Decimal("130.00"), RefundStatus.REFUNDED)
    assert request.refund_amount == Decimal("130.00")
    assert all(account < 0 for account in pseudonyms)
    assert erasures == 1
