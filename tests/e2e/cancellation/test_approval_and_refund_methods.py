"""Who approves the refund (automatic up to 500.00, an agent above it or for frequent
requesters, never for VIPs) and where the money goes (card, store credit with its bonus,
cash on delivery)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.services.imports.records import CustomerRecord, OrderRecord
from bot.services.refunds.vouchers import voucher_notice
from storage.enums import (
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestStatus,
    TicketReason,
    VoucherKind,
)
from tests.conftest import NOW
from tests.e2e.cancellation.chat import (
    ARRIVAL,
    Chat,
    confirm,
    give_reason,
    money,
    offer,
    option,
    store_credit,
    to_reason,
)
from tests.e2e.cancellation.conftest import (
    Scenario,
    ago,
    item,
)
from tests.e2e.cancellation.rows import (
    offers_for,
    order_row,
    outbox_of,
    refunds_for,
    requests_for,
    tickets_of,
    vouchers_of,
)


async def cancel_before_shipping(
    chat: Chat, order: OrderRecord, refund: str, *, agent: bool, why: str | None = None
) -> str:
    """changed_mind on a paid order: decision, "No thanks", summary, Confirm. `why` is
    the policy's reason an agent approves. Returns the decision message's text."""
    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    item_price = f"{Decimal(refund) - Decimal('10.00'):.2f}"
    decision = await chat.expect_exactly(
        chat.decision(
            order,
            "before_shipping",
            lines=[("items", item_price, item_price), ("shipping", "10.00", "10.00")],
            refund=refund,
            offers=[store_credit(refund)],
            agent=agent,
            approval_reasons=[why] if why else [],
        )
    )
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(order, option("card", refund), agent=agent))
    await confirm(chat)
    return decision.text


def paid_order(
    scenario: Scenario, customer: CustomerRecord, number: str, price: str
) -> OrderRecord:
    return scenario.order(
        customer, number, item("Espresso Machine", price, zh="咖啡机"), status="paid"
    )


# -- approval ------------------------------------------------------------------------------------


async def test_a_refund_of_exactly_500_is_approved_automatically(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = paid_order(scenario, ann, "SO-4000001", "490.00")
    await scenario.load()
    chat = await scenario.link(ann)

    await cancel_before_shipping(chat, order, "500.00", agent=False)

    [request] = await requests_for(scenario.deps, order.number)
    assert request.status is RequestStatus.APPROVED
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.amount, refund.status) == (Decimal("500.00"), RefundStatus.APPROVED)
    assert (await order_row(scenario.deps, order.number)).status is OrderStatus.CANCELLED
    assert await tickets_of(scenario.deps, chat.chat_id) == []


async def test_a_refund_above_500_waits_for_an_agent_with_a_ticket(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = paid_order(scenario, ann, "SO-4000002", "490.01")
    await scenario.load()
    chat = await scenario.link(ann, lang)

    said = await cancel_before_shipping(chat, order, "500.01", agent=True, why="over_limit")
    assert {"en": "of this size", "zh": "这个金额"}[lang] in said

    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="cancel",
        refund=money("500.01"),
        method="card",
        approved=False,
        return_required=False,
        arrival=ARRIVAL["card"],
        voucher=None,
        by_agent=False,
    )
    [request] = await requests_for(scenario.deps, order.number)
    assert (request.status, request.is_active) == (RequestStatus.PENDING_REVIEW, True)
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.amount, refund.status, refund.expected_by) == (
        Decimal("500.01"),
        RefundStatus.PENDING_REVIEW,
        None,
    )
    assert [(e.from_status, e.to_status) for e in refund.events] == [
        (None, RefundStatus.PENDING_REVIEW)
    ]
    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    assert ticket.reason is TicketReason.NEEDS_APPROVAL
    assert ticket.case_id == request.case_id
    # Not cancelled until an agent approves.
    assert (await order_row(scenario.deps, order.number)).status is OrderStatus.PAID


async def test_the_third_request_in_30_days_goes_to_an_agent(scenario: Scenario, lang: str) -> None:
    ann = scenario.customer()
    first = paid_order(scenario, ann, "SO-4000003", "20.00")
    second = paid_order(scenario, ann, "SO-4000004", "30.00")
    third = paid_order(scenario, ann, "SO-4000005", "40.00")
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await cancel_before_shipping(chat, first, "30.00", agent=False)
    await cancel_before_shipping(chat, second, "40.00", agent=False)
    said = await cancel_before_shipping(chat, third, "50.00", agent=True, why="frequent_requests")
    # The amount is well within the limit: it is the count that needs a colleague.
    assert {"en": "of this size", "zh": "这个金额"}[lang] not in said
    assert {"en": "several refunds recently", "zh": "次数较多"}[lang] in said

    statuses = [
        (await requests_for(scenario.deps, order.number))[0].status
        for order in (first, second, third)
    ]
    assert statuses == [
        RequestStatus.APPROVED,
        RequestStatus.APPROVED,
        RequestStatus.PENDING_REVIEW,
    ]
    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    assert ticket.reason is TicketReason.NEEDS_APPROVAL


async def test_a_vip_is_always_approved_automatically(scenario: Scenario, lang: str) -> None:
    vip = scenario.customer("Wang Fang", tier="vip")
    order = paid_order(scenario, vip, "SO-4000006", "1990.00")
    await scenario.load()
    chat = await scenario.link(vip, lang)

    await cancel_before_shipping(chat, order, "2000.00", agent=False)

    [request] = await requests_for(scenario.deps, order.number)
    assert request.status is RequestStatus.APPROVED
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.amount, refund.status) == (Decimal("2000.00"), RefundStatus.APPROVED)
    assert await tickets_of(scenario.deps, chat.chat_id) == []


# -- refund methods ------------------------------------------------------------------------------


async def test_store_credit_offer_pays_the_bonus_at_once_as_a_voucher(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = paid_order(scenario, ann, "SO-4000007", "190.00")
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    credit = store_credit("200.00")
    await chat.expect_exactly(
        chat.decision(
            order,
            "before_shipping",
            lines=[("items", "190.00", "190.00"), ("shipping", "10.00", "10.00")],
            refund="200.00",
            offers=[credit],
        )
    )
    await chat.accept(credit)
    await chat.expect_exactly(chat.summary(order, option("store_credit", "220.00", "20.00")))
    await confirm(chat)

    [voucher] = await vouchers_of(scenario.deps, ann)
    assert (voucher.kind, voucher.amount) == (VoucherKind.BONUS, Decimal("220.00"))
    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="cancel",
        refund=money("220.00"),
        method="store_credit",
        approved=True,
        return_required=False,
        arrival=ARRIVAL["store_credit"],
        voucher=voucher_notice(voucher),  # its code, value and expiry, and how to use it
        by_agent=False,
    )
    [request] = await requests_for(scenario.deps, order.number)
    assert (request.status, request.is_active) == (RequestStatus.COMPLETED, False)
    assert voucher.request_id == request.id
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.amount, refund.status) == (
        PaymentMethod.STORE_CREDIT,
        Decimal("220.00"),
        RefundStatus.REFUNDED,
    )
    assert [(e.from_status, e.to_status) for e in refund.events] == [
        (None, RefundStatus.APPROVED),
        (RefundStatus.APPROVED, RefundStatus.REFUNDED),
    ]
    [accepted] = await offers_for(scenario.deps, order.number)
    assert (accepted.type, accepted.status) == (OfferType.STORE_CREDIT, OfferStatus.ACCEPTED)
    # Paid at once, so the case has ended: the survey follows the receipt, once.
    await chat.receipt("notify/survey", order_number=order.number, rating=None)


@pytest.mark.parametrize("method", ["card", "store_credit"])
async def test_with_no_store_credit_offer_the_customer_chooses_card_or_store_credit(
    scenario: Scenario, lang: str, method: str
) -> None:
    """Late before shipping: the voucher and the express upgrade fill both offer places,
    so store credit is a choice of refund method instead."""
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-4000008",
        item("Espresso Machine", "390.00", zh="咖啡机"),
        status="processing",
        placed=ago(days=9),
        promised=(NOW - timedelta(days=2)).date(),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "late_delivery")
    await chat.expect_exactly(
        chat.decision(
            order,
            "before_shipping",
            lines=[("items", "390.00", "390.00"), ("shipping", "10.00", "10.00")],
            refund="400.00",
            offers=[
                offer("compensation_voucher", "40.00", percent=10, of="order_total"),
                offer("expedited_shipping", "0.00"),
            ],
        )
    )
    await chat.press("no_thanks_cancel")
    card, credit = option("card", "400.00"), option("store_credit", "440.00", "40.00")
    methods = await chat.expect_text("cancel/choose_method", options=[card, credit])
    assert methods.buttons() == [
        chat.button("method", "card", money("400.00")),
        chat.button("method", "store_credit", money("440.00")),
    ]
    chosen = card if method == "card" else credit
    await chat.press("method", method, chosen.amount)
    await chat.expect_exactly(chat.summary(order, chosen))
    await confirm(chat)

    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method.value, refund.amount) == (method, chosen.amount.amount)
    expected = RefundStatus.APPROVED if method == "card" else RefundStatus.REFUNDED
    assert refund.status is expected
    vouchers = await vouchers_of(scenario.deps, ann)
    assert [(v.kind, v.amount) for v in vouchers] == (
        [] if method == "card" else [(VoucherKind.BONUS, Decimal("440.00"))]
    )
    assert {(o.type, o.status) for o in await offers_for(scenario.deps, order.number)} == {
        (OfferType.COMPENSATION_VOUCHER, OfferStatus.DECLINED),
        (OfferType.EXPEDITED_SHIPPING, OfferStatus.DECLINED),
        *(
            [(OfferType.STORE_CREDIT, OfferStatus.ACCEPTED)]  # the bonus, once per period
            if method == "store_credit"
            else []
        ),
    }
    # A card refund's case ends when the money arrives; store credit has arrived already.
    surveys = [
        r for r in await outbox_of(scenario.deps, chat.chat_id) if r.template == "notify/survey"
    ]
    assert len(surveys) == (0 if method == "card" else 1)


def cod_lamp(scenario: Scenario, customer: CustomerRecord) -> OrderRecord:
    return scenario.order(
        customer,
        "SO-4000009",
        item("Desk Lamp", "120.00", zh="台灯", category="home"),
        status="delivered",
        payment="cash_on_delivery",
        delivered=ago(days=3),
    )


async def _cod_to_decision(chat: Chat, order: OrderRecord) -> None:
    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.expect_text("cancel/choose_condition")
    await chat.press("condition", "unopened")
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_unopened",
            lines=[("items", "120.00", "120.00"), ("shipping", "10.00", "0.00")],
            refund="120.00",
            returned=True,
            offers=[store_credit("120.00")],
            days_since_delivery=3,
        )
    )


async def test_cash_on_delivery_is_refunded_as_store_credit(scenario: Scenario, lang: str) -> None:
    ann = scenario.customer()
    order = cod_lamp(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await _cod_to_decision(chat, order)
    await chat.accept(store_credit("120.00"))
    await chat.expect_exactly(
        chat.summary(order, option("store_credit", "132.00", "12.00"), returned=True)
    )
    await confirm(chat)

    # A return: the store credit waits for the parcel (paid when the merchant has it back,
    # tests/e2e/cancellation/test_store_credit.py), so no voucher exists yet.
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.amount, refund.status) == (
        PaymentMethod.STORE_CREDIT,
        Decimal("132.00"),
        RefundStatus.APPROVED,
    )
    assert await vouchers_of(scenario.deps, ann) == []


async def test_cash_on_delivery_declining_store_credit_gets_a_bank_transfer_by_an_agent(
    scenario: Scenario, lang: str
) -> None:
    """The cash cannot go back the way it came: store credit is the default, and the one
    way left once it is turned down is a bank transfer a colleague arranges."""
    ann = scenario.customer()
    order = cod_lamp(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await _cod_to_decision(chat, order)
    await chat.press("no_thanks_cancel")
    bank = option("bank_transfer", "120.00", by_agent=True)
    await chat.expect_exactly(chat.summary(order, bank, returned=True))
    await confirm(chat)

    await chat.receipt(
        "notify/cancellation_confirmed",
        order_number=order.number,
        kind="return",
        refund=money("120.00"),
        method="bank_transfer",
        approved=True,
        return_required=True,
        arrival=ARRIVAL["bank_transfer"],
        voucher=None,
        by_agent=True,
    )
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.amount, refund.status) == (
        PaymentMethod.BANK_TRANSFER,
        Decimal("120.00"),
        RefundStatus.APPROVED,
    )
    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    assert ticket.reason is TicketReason.COMPLETE_TRANSFER
    assert await vouchers_of(scenario.deps, ann) == []
    [declined] = await offers_for(scenario.deps, order.number)
    assert (declined.type, declined.status) == (OfferType.STORE_CREDIT, OfferStatus.DECLINED)


async def test_cash_on_delivery_choosing_between_store_credit_and_a_bank_transfer(
    scenario: Scenario,
) -> None:
    """With the offers' places taken (an exchange and a partial refund), the choice of
    method shows both ways back, the bank transfer arranged by a colleague."""
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-4000010",
        item("Cotton Hoodie", "200.00", category="apparel", sku="HD-M", size="M"),
        status="delivered",
        payment="cash_on_delivery",
        delivered=ago(days=4),
    )
    scenario.variant("HD-L", "HD", "Cotton Hoodie", "200.00", available=3, size="L")
    scenario.variant("HD-M", "HD", "Cotton Hoodie", "200.00", available=0, size="M")
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "not_as_described")
    await chat.expect_text("cancel/ask_photo", required=False)
    await chat.press("skip_photo")
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_not_as_described",
            reason="not_as_described",
            lines=[("items", "200.00", "200.00"), ("shipping", "10.00", "10.00")],
            refund="210.00",
            returned=True,
            offers=[
                offer("exchange", "200.00", attributes="L"),
                offer("partial_refund", "30.00", percent=15, of="selected_items", keep="item"),
            ],
        )
    )
    await chat.press("no_thanks_cancel")
    credit = option("store_credit", "231.00", "21.00")
    bank = option("bank_transfer", "210.00", by_agent=True)
    await chat.expect_text("cancel/choose_method", options=[credit, bank])
    await chat.press("method", "bank_transfer", bank.amount)
    await chat.expect_exactly(chat.summary(order, bank, returned=True))
    await confirm(chat)

    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.amount) == (PaymentMethod.BANK_TRANSFER, Decimal("210.00"))


async def test_cash_on_delivery_not_paid_yet_refunds_nothing(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-4000011",
        item("Desk Lamp", "120.00", category="home"),
        status="shipped",
        payment="cash_on_delivery",
        paid=None,
    )
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    await chat.expect_exactly(
        chat.decision(
            order,
            "in_transit",
            lines=[("not_paid", "130.00", "0.00")],
            refund="0.00",
            returned=True,
        )
    )
    await chat.expect_exactly(chat.summary(order, None, returned=True))
    await confirm(chat)

    [request] = await requests_for(scenario.deps, order.number)
    assert request.refund_amount == 0
    assert await refunds_for(scenario.deps, order.number) == []
