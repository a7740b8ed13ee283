"""Odd input in Telegram, end to end: forged buttons naming ids no database row can have,
a merchant's very long product names and refund notes, NUL characters and Unicode
digits. Each used to crash a handler or send a message Telegram refuses."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.telegram import BotServer
from bot.texts import Renderer
from bot.wiring import AppDeps
from storage.enums import RefundStatus
from storage.models import RefundEvent, TranscriptEntry
from tests.api.support import customer, load, open_refund, order
from tests.conftest import NOW
from tests.e2e.conftest import StartBot
from tests.support.fake_telegram import FakeTelegram, FakeUser, parse_html

RENDERER = Renderer()
ANN = 7001
LONG_NAME = "Deluxe <Limited> Edition & Co. " + "Extra-Long Merchant Product Name " * 6
ORDERS = 24


def long_item(n: int) -> dict[str, Any]:
    return {
        "sku": f"SKU-{n}",
        "name": (LONG_NAME + f"#{n}")[:200],
        "category": "home",
        "quantity": 1,
        "unit_price": "10.00",
        "attributes": {},
    }


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann (C001) with 24 orders of products named with 200 characters, every one of them
    with a cancellation waiting for approval and its refund. Overrides the demo shop."""
    await load(
        deps,
        customers=[customer("C001", "Ann Lee")],
        orders=[order(f"SO-{n:07d}", "C001", long_item(n)) for n in range(ORDERS)],
    )
    for n in range(ORDERS):
        await open_refund(deps, f"SO-{n:07d}", status=RefundStatus.PENDING_REVIEW)
    return deps


@pytest.fixture
async def bot(start_bot: StartBot) -> BotServer:
    return await start_bot()


@pytest.fixture
async def ann(fake: FakeTelegram, bot: BotServer) -> FakeUser:
    person = fake.user(ANN, "Ann", phone="+86 138 0000 0001")
    await person.share_contact()
    await person.expect(RENDERER.render("en", "menu/main"))
    return person


def plain(html: str) -> str:
    return parse_html(html).text


async def test_status_fits_in_one_message_however_long_the_names(ann: FakeUser) -> None:
    await ann.send("/status")
    overview = await ann.expect("Your orders")
    assert len(overview.text) <= 4096
    assert "not listed here" in overview.text
    assert "SO-0000023" in overview.text  # the newest order is there
    assert "Deluxe <Limited> Edition & Co." in overview.text  # escaped, and shortened
    assert LONG_NAME[:120] not in overview.text
    shown = [button for button in overview.inline_buttons() if "SO-" in button["text"]]
    assert shown  # a history button for each refund listed


async def test_a_long_refund_history_fits_and_shows_its_latest_steps(
    ann: FakeUser, shop: AppDeps
) -> None:
    async with shop.uow() as uow, uow.transaction():
        newest = await uow.orders.by_number("SO-0000023")
        assert newest is not None
        (refund,) = await uow.refunds.for_orders([newest.id])
        for step in range(40):
            uow.session.add(
                RefundEvent(
                    refund_id=refund.id,
                    from_status=RefundStatus.PENDING_REVIEW,
                    to_status=RefundStatus.REJECTED,  # its note is shown to the customer
                    actor="merchant",
                    note=f"step {step}: " + "the payment provider said something long. " * 24,
                    occurred_at=NOW + timedelta(minutes=step),
                    recorded_at=NOW,
                )
            )
    await ann.send("/status")
    overview = await ann.expect("Your orders")
    newest_refund = [
        b["text"] for b in overview.inline_buttons() if b["text"].startswith("🧾 SO-0000023")
    ]
    await ann.press(newest_refund[0])
    history = await ann.expect("History")
    assert len(history.text) <= 4096
    assert "step 39" in history.text
    assert "earlier steps not shown" in history.text


@pytest.mark.parametrize(
    "data",
    [
        f"rt1:{2**63}",  # SQLite's INTEGER ends at 2**63 - 1: an OverflowError in the handler
        f"rt1:{2**31}",  # PostgreSQL's INTEGER ends at 2**31 - 1
        f"sv1:{2**63}:3",
        "sv1:1:99",  # a rating the database's CHECK refuses
        f"co1:{2**63}:{2**63}",
    ],
)
async def test_forged_buttons_naming_impossible_ids_are_stale_buttons(
    ann: FakeUser, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        press = await ann.press_data(ann.last, data)
        answer = await ann.answer_to(press)
    assert answer.text == RENDERER.render("en", "plain/stale_button")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    await ann.send("/help")
    await ann.expect("What I can do")


async def test_nul_characters_and_unicode_digits_from_telegram(
    fake: FakeTelegram, bot: BotServer, shop: AppDeps
) -> None:
    guest = fake.user(7002, "Guo")
    await guest.send("hello\x00 there")
    await guest.next_message()
    await guest.press(RENDERER.button("en", "guest"))
    await guest.send("SO-0000001")
    await guest.next_message()
    await guest.send("٠٠٠١")  # Arabic-Indic digits: the phone ends in 0001
    verified = await guest.expect("SO-0000001")
    assert "SO-0000001" in verified.text
    await bot.deps.group_commit.flush()  # the bot's transcript lines wait up to 25 ms
    async with shop.uow() as uow:
        texts = (await uow.session.scalars(select(TranscriptEntry.text))).all()
    assert "hello there" in texts
