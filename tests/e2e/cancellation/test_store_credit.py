"""Store credit is paid by one path: a voucher the customer can spend, shown when it exists.

A return to store credit waits for the parcel: nothing is paid and /status says so until
the merchant records the parcel back (a refund event through the merchant API); then the
voucher is issued and its code reaches the customer through the outbox. A cash-on-delivery
partial refund, which goes to store credit, issues its voucher at once.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.services.refunds.vouchers import voucher_notice
from storage.enums import PaymentMethod, RefundStatus, RequestStatus, VoucherKind
from tests.api.support import SECRET, MerchantClient
from tests.conftest import NOW
from tests.e2e.cancellation.chat import (
    ARRIVAL,
    confirm,
    give_reason,
    money,
    offer,
    option,
    plain,
    store_credit,
    to_reason,
)
from tests.e2e.cancellation.conftest import Scenario, ago, item
from tests.e2e.cancellation.rows import refunds_for, requests_for, vouchers_of

WAITING = {"en": "waiting for your parcel", "zh": "等待您的退货包裹"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"merchant_api_secret": SecretStr(SECRET)})


async def test_a_return_to_store_credit_is_paid_when_the_merchant_has_the_parcel(
    scenario: Scenario, api: MerchantClient, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-9400001",
        item("Electric Kettle", "200.00", zh="电热水壶", category="home"),
        status="delivered",
        payment="cash_on_delivery",
        delivered=ago(days=3),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.press("condition", "unopened")
    credit = store_credit("200.00")
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_unopened",
            lines=[("items", "200.00", "200.00"), ("shipping", "10.00", "0.00")],
            refund="200.00",
            returned=True,
            offers=[credit],
        )
    )
    await chat.accept(credit)
    await chat.expect_exactly(
        chat.summary(order, option("store_credit", "220.00", "20.00"), returned=True)
    )
    await confirm(chat)

    # Registered, not paid: the parcel is not back yet, so no voucher exists.
    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="return",
        refund=money("220.00"),
        method="store_credit",
        approved=True,
        return_required=True,
        arrival=ARRIVAL["store_credit"],
        voucher=None,
        by_agent=False,
    )
    assert await vouchers_of(scenario.deps, ann) == []
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.status, refund.expected_by) == (
        PaymentMethod.STORE_CREDIT,
        RefundStatus.APPROVED,
        None,
    )
    await chat.send("/status")
    status = await chat.expect(WAITING[lang])
    assert "VC-" not in status.text

    # The merchant has the parcel back and moves the refund on: the credit is paid now.
    event = {"event_id": "parcel-back-1", "status": "processing", "occurred_at": NOW.isoformat()}
    answer = await api.post(f"/api/v1/refunds/{refund.id}/events", event)
    assert (answer.status, answer.body["customer_notice"]) == (201, "queued")
    [voucher] = await vouchers_of(scenario.deps, ann)
    assert (voucher.kind, voucher.amount, voucher.request_id) == (
        VoucherKind.BONUS,
        Decimal("220.00"),
        refund.request_id,
    )
    await chat.receipt(
        "notify/refund_status",
        order_number=order.number,
        status="refunded",
        amount=money("220.00"),
        method="store_credit",
        arrival=ARRIVAL["store_credit"],
        expected_by=NOW,
        note=None,
        voucher=voucher_notice(voucher),
    )
    [paid] = await refunds_for(scenario.deps, order.number)
    assert paid.status is RefundStatus.REFUNDED
    [request] = await requests_for(scenario.deps, order.number)
    assert (request.status, request.is_active) == (RequestStatus.COMPLETED, False)


async def test_a_cash_on_delivery_partial_refund_issues_its_store_credit_voucher(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-9400002",
        item("Linen Shirt", "180.00", zh="亚麻衬衫", category="apparel"),
        status="delivered",
        payment="cash_on_delivery",
        delivered=ago(days=6),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "not_as_described")
    await chat.press("skip_photo")
    keep = offer("partial_refund", "27.00", percent=15, of="selected_items", keep="item")
    await chat.accept(keep)

    [voucher] = await vouchers_of(scenario.deps, ann)
    assert (voucher.kind, voucher.amount) == (VoucherKind.STORE_CREDIT, Decimal("27.00"))
    said = {
        "order_number": order.number,
        "type": "partial_refund",
        "value": money("27.00"),
        "details": {"method": "store_credit", "approved": "yes"},
        "voucher": voucher_notice(voucher),
    }
    await chat.receipt("notify/offer_accepted", **said)  # read in the chat, word for word
    assert voucher.code in plain(chat.text("notify/offer_accepted", **said))
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.amount, refund.status) == (
        PaymentMethod.STORE_CREDIT,
        Decimal("27.00"),
        RefundStatus.REFUNDED,
    )
    assert voucher.offer_id == refund.offer_id
