"""The merchant's systems talk to the running bot over HTTP; the customer hears it in Telegram.

The real bot polls the fake Telegram and serves the merchant API on its real port. A
customer links their account by sharing their contact; signed requests then move their
refund or cancel their order, and the outbox notifier delivers each message to the chat,
where the customer presses the offers' buttons.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.telegram import BotServer
from bot.services.outbox import decode_context
from bot.texts import Renderer
from bot.wiring import AppDeps
from dialogs.callbacks import AnswerOffer
from storage.enums import OfferStatus, OutboxStatus, RefundStatus
from storage.models import Offer, OutboxMessage, Voucher
from tests.api.support import (
    SECRET,
    MerchantClient,
    cny,
    customer,
    item,
    load,
    open_refund,
    order,
    order_row,
    outbox,
    refund_row,
    variant,
)
from tests.conftest import NOW
from tests.e2e.conftest import StartBot, stop_bot
from tests.support.fake_telegram import FakeTelegram, FakeUser, SentMessage, parse_html

RENDERER = Renderer()
ANN = "C001"


@pytest.fixture
async def shop(deps: AppDeps) -> AppDeps:
    """Ann's paid order SO-1 (a blue M T-shirt, sold out since) and the T-shirt's variants.

    Overrides tests/e2e/conftest.py's demo shop.
    """
    await load(
        deps,
        customers=[customer(ANN, "Ann Lee")],
        orders=[order("SO-1", ANN, item("TS-BLUE-M", "99.00", color="blue", size="M"))],
        stock=[
            variant("TS-BLUE-M", "TS", "99.00", 0, color="blue", size="M"),
            variant("TS-BLUE-L", "TS", "99.00", 3, color="blue", size="L"),
        ],
    )
    return deps


@pytest.fixture
async def bot(start_bot: StartBot) -> BotServer:
    """The bot as `cancelbot run` builds it, with MERCHANT_API_SECRET set."""
    return await start_bot(merchant_api_secret=SecretStr(SECRET))


@pytest.fixture
async def ann(fake: FakeTelegram, bot: BotServer) -> FakeUser:
    """Ann's Telegram account, linked by sharing her own contact."""
    person = fake.user(7001, "Ann", language_code="en", phone="+86 138 0000 0001")
    await person.share_contact()
    await person.expect(_plain(RENDERER.render("en", "link/linked", name="Ann Lee")).split("\n")[0])
    return person


async def test_each_refund_update_reaches_the_customer_in_telegram(
    api: MerchantClient, ann: FakeUser, shop: AppDeps, bot: BotServer
) -> None:
    refund_id = await open_refund(shop, "SO-1", status=RefundStatus.PENDING_REVIEW)

    for n, status in enumerate(("approved", "processing", "refunded")):
        event = {"event_id": f"evt-{n}", "status": status, "occurred_at": NOW.isoformat()}
        answer = await api.post(f"/api/v1/refunds/{refund_id}/events", event)
        assert (answer.status, answer.body["customer_notice"]) == (201, "queued")
        await _expect_outbox_message(ann, shop)

    assert (await refund_row(shop, refund_id)).status is RefundStatus.REFUNDED
    await stop_bot(bot)  # the notifier records its last "sent" before stopping
    assert {m.status for m in await outbox(shop)} == {OutboxStatus.SENT}


async def test_a_merchant_cancellation_reaches_the_customer_and_the_voucher_can_be_taken(
    api: MerchantClient, ann: FakeUser, shop: AppDeps
) -> None:
    answer = await api.post(
        "/api/v1/orders/SO-1/cancel", {"event_id": "cx-1", "reason": "out_of_stock"}
    )
    assert answer.status == 201
    apology = await _expect_outbox_message(ann, shop)
    voucher_label = RENDERER.button(
        "en", "merchant_offer", "compensation_voucher", cny("10.90"), {}
    )
    exchange_label = RENDERER.button(
        "en", "merchant_offer", "exchange", cny("99.00"), {"attributes": "blue / L"}
    )
    assert [b["text"] for b in apology.inline_buttons()] == [voucher_label, exchange_label]

    press = await ann.press(voucher_label)
    await ann.answer_to(press)
    receipt = await _expect_outbox_message(ann, shop)

    async with shop.uow() as uow:
        (voucher,) = (await uow.session.scalars(select(Voucher))).all()
        offers = (await uow.session.scalars(select(Offer).order_by(Offer.id))).all()
    assert voucher.code in receipt.text
    assert [o.status for o in offers] == [OfferStatus.ACCEPTED, OfferStatus.DECLINED]
    assert apology.inline_buttons() == []  # the choice is made: the buttons are gone

    # An old copy of the buttons (another device) is answered, not honoured.
    late = await ann.press_data(apology, _callback(offers[1]))
    assert (await ann.answer_to(late)).show_alert


async def test_taking_the_exchange_opens_the_replacement_order_end_to_end(
    api: MerchantClient, ann: FakeUser, shop: AppDeps
) -> None:
    await api.post("/api/v1/orders/SO-1/cancel", {"event_id": "cx-1", "reason": "out_of_stock"})
    await _expect_outbox_message(ann, shop)

    press = await ann.press(
        RENDERER.button(
            "en", "merchant_offer", "exchange", cny("99.00"), {"attributes": "blue / L"}
        )
    )
    await ann.answer_to(press)
    receipt = await _expect_outbox_message(ann, shop)

    assert "SO-1-X1" in receipt.text
    replacement = await order_row(shop, "SO-1-X1")
    assert [line.sku for line in replacement.items] == ["TS-BLUE-L"]
    seen = (await api.get("/api/v1/orders/SO-1")).body
    assert (seen["replacements"], seen["refunds"][0]["status"]) == (["SO-1-X1"], "cancelled")


async def _expect_outbox_message(person: FakeUser, deps: AppDeps) -> SentMessage:
    """The newest outbox message, as its template renders it, arrives in the chat whole."""
    async with deps.uow() as uow:
        row = await uow.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    assert row is not None
    text = _plain(RENDERER.render(row.locale, row.template, **decode_context(row.context)))
    message = await person.expect(text.split("\n")[0])
    assert message.text == text
    return message


def _plain(html: Any) -> str:
    return parse_html(str(html)).text


def _callback(offer: Offer) -> str:
    return AnswerOffer(case_id=offer.case_id, offer_id=offer.id).pack()
