"""No stacking: an order kept with a partial refund or a voucher cannot then be refunded in
full as if nothing was given. A later cancellation deducts the refund (or a spent voucher)
and takes an unused voucher back; the decision's lines say so, in both languages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from storage.enums import PaymentMethod, RefundStatus
from tests.api.support import SECRET, MerchantClient
from tests.conftest import NOW
from tests.e2e.cancellation.chat import (
    RENDERER,
    confirm,
    give_reason,
    money,
    offer,
    option,
    plain,
    to_reason,
)
from tests.e2e.cancellation.conftest import Scenario, ago, item
from tests.e2e.cancellation.rows import refunds_for, requests_for, vouchers_of


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"merchant_api_secret": SecretStr(SECRET)})


def given_line(locale: str, code: str, value: str, reference: str | None = None) -> str:
    line = SimpleNamespace(code=code, price=money(value), reference=reference)
    return plain(RENDERER.macro(locale, "labels", "breakdown_line", line))


async def test_a_partial_refund_kept_is_deducted_from_a_later_return(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-9500001",
        item("Linen Shirt", "180.00", zh="亚麻衬衫", category="apparel"),
        status="delivered",
        delivered=ago(days=6),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    # First the customer keeps the shirt for 15 % back …
    await to_reason(chat, order)
    await give_reason(chat, "not_as_described")
    await chat.press("skip_photo")
    await chat.accept(
        offer("partial_refund", "27.00", percent=15, of="selected_items", keep="item")
    )
    await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="partial_refund",
        value=money("27.00"),
        details={"method": "card", "approved": "yes"},
        voucher=None,
    )

    # … then asks to return it after all: 190.00 less the 27.00 already given.
    await to_reason(chat, order)
    await give_reason(chat, "not_as_described")
    await chat.press("skip_photo")
    decision = await chat.expect(given_line(lang, "given_refund", "27.00"))
    assert plain(f"{money('163.00')}") in decision.text
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(order, option("card", "163.00"), returned=True))
    await confirm(chat)
    await chat.expect(order.number)

    partial, refund = await refunds_for(scenario.deps, order.number)
    [request] = await requests_for(scenario.deps, order.number)
    assert (refund.request_id, refund.amount, refund.method) == (
        request.id,
        Decimal("163.00"),
        PaymentMethod.CARD,
    )
    assert (partial.amount, partial.deducted_by_request_id) == (Decimal("27.00"), request.id)
    assert partial.amount + refund.amount == Decimal("190.00")  # what was paid, not more


async def test_an_unused_voucher_is_taken_back_when_the_order_is_cancelled_after_all(
    scenario: Scenario, api: MerchantClient, lang: str
) -> None:
    ann, order, chat = await _kept_with_a_voucher(scenario, lang, "SO-9500002")
    [voucher] = await vouchers_of(scenario.deps, ann)

    await to_reason(chat, order)
    await give_reason(chat, "late_delivery")
    await chat.expect(given_line(lang, "given_voucher_unused", "40.00", voucher.code))
    await chat.press("no_thanks_cancel")
    await confirm(chat)
    await chat.expect(order.number)

    [refund] = await refunds_for(scenario.deps, order.number)
    [request] = await requests_for(scenario.deps, order.number)
    assert (refund.amount, refund.status) == (Decimal("400.00"), RefundStatus.APPROVED)
    [voucher] = await vouchers_of(scenario.deps, ann)
    assert (voucher.taken_back_at, voucher.taken_back_by_request_id) == (NOW, request.id)
    # The shop's checkout can no longer take it.
    answer = await api.post(
        f"/api/v1/vouchers/{voucher.code}/redeem", {"event_id": "till-1", "order_number": "W-1"}
    )
    assert (answer.status, answer.body["error"]["code"]) == (409, "voucher_expired")
    assert (await vouchers_of(scenario.deps, ann))[0].redeemed_at is None


async def _kept_with_a_voucher(scenario: Scenario, lang: str, number: str) -> tuple[Any, Any, Any]:
    """A late order the customer kept for a 40.00 compensation voucher."""
    ann = scenario.customer()
    order = scenario.order(
        ann,
        number,
        item("Espresso Machine", "390.00", zh="咖啡机"),
        status="processing",
        placed=ago(days=9),
        promised=(NOW - timedelta(days=2)).date(),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)
    await to_reason(chat, order)
    await give_reason(chat, "late_delivery")
    await chat.accept(offer("compensation_voucher", "40.00", percent=10, of="order_total"))
    [voucher] = await vouchers_of(scenario.deps, ann)
    await chat.expect(voucher.code)
    return ann, order, chat


async def test_the_shops_own_cancellation_takes_back_an_unused_voucher_too(
    scenario: Scenario, api: MerchantClient, lang: str
) -> None:
    """The shop cancelling (out of stock) follows the same rule as the customer: the
    voucher not spent yet is void, and the customer is told so next to the refund."""
    ann, order, chat = await _kept_with_a_voucher(scenario, lang, "SO-9500003")

    answer = await api.post(
        f"/api/v1/orders/{order.number}/cancel", {"event_id": "cx-1", "reason": "out_of_stock"}
    )
    assert answer.status == 201, answer.body
    assert answer.body["refund"]["amount"] == "400.00"  # nothing spent: nothing deducted

    [voucher] = await vouchers_of(scenario.deps, ann)
    apology = await chat.expect(given_line(lang, "given_voucher_unused", "40.00", voucher.code))
    assert plain(money("400.00")) in apology.text
    [request] = await requests_for(scenario.deps, order.number)
    assert (voucher.taken_back_at, voucher.taken_back_by_request_id) == (NOW, request.id)
    answer = await api.post(
        f"/api/v1/vouchers/{voucher.code}/redeem", {"event_id": "till-1", "order_number": "W-1"}
    )
    assert (answer.status, answer.body["error"]["code"]) == (409, "voucher_expired")


async def test_the_shops_own_cancellation_deducts_a_voucher_already_spent(
    scenario: Scenario, api: MerchantClient, lang: str
) -> None:
    ann, order, chat = await _kept_with_a_voucher(scenario, lang, "SO-9500004")
    [voucher] = await vouchers_of(scenario.deps, ann)
    spent = await api.post(
        f"/api/v1/vouchers/{voucher.code}/redeem", {"event_id": "till-1", "order_number": "W-1"}
    )
    assert spent.status == 200, spent.body

    answer = await api.post(
        f"/api/v1/orders/{order.number}/cancel", {"event_id": "cx-2", "reason": "out_of_stock"}
    )
    assert answer.status == 201, answer.body
    assert answer.body["refund"]["amount"] == "360.00"  # 400.00 paid, 40.00 already spent

    apology = await chat.expect(given_line(lang, "given_voucher_spent", "40.00", voucher.code))
    assert plain(money("360.00")) in apology.text
    [refund] = await refunds_for(scenario.deps, order.number)
    [request] = await requests_for(scenario.deps, order.number)
    assert (refund.amount, refund.request_id) == (Decimal("360.00"), request.id)
    [voucher] = await vouchers_of(scenario.deps, ann)
    assert voucher.taken_back_by_request_id == request.id  # deducted once, never again
