"""Alternatives to a refund: an exchange, a voucher, a partial refund, express shipping;
declining them; and a refusal that hands the case to a person."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.services.imports.records import CustomerRecord, OrderRecord
from bot.services.refunds.vouchers import voucher_notice
from storage.enums import (
    CaseStatus,
    OfferStatus,
    OfferType,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestKind,
    RequestStatus,
    TicketReason,
    VoucherKind,
)
from tests.conftest import NOW
from tests.e2e.cancellation.chat import (
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
    available,
    cases_of,
    offers_for,
    order_row,
    refunds_for,
    requests_for,
    tickets_of,
    vouchers_of,
)


def hoodie_in_m(scenario: Scenario, customer: CustomerRecord, *, l_left: int = 3) -> OrderRecord:
    """A hoodie in size M, delivered; size L costs the same, XL more."""
    order = scenario.order(
        customer,
        "SO-8000001",
        item("Cotton Hoodie", "259.00", zh="纯棉卫衣", category="apparel", sku="HD-M", size="M"),
        status="delivered",
        delivered=ago(days=4),
    )
    scenario.variant("HD-M", "HD", "Cotton Hoodie", "259.00", available=0, size="M")
    scenario.variant("HD-L", "HD", "Cotton Hoodie", "259.00", available=l_left, size="L")
    scenario.variant("HD-XL", "HD", "Cotton Hoodie", "279.00", available=9, size="XL")
    return order


async def test_an_accepted_exchange_ships_a_replacement_and_records_the_return(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = hoodie_in_m(scenario, ann)
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "wrong_item")
    await chat.expect_text("cancel/ask_photo", required=True)
    await chat.person.send_photo()
    exchange = offer("exchange", "259.00", attributes="L")  # XL costs more: never offered
    decision = await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_defective",
            lines=[("items", "259.00", "259.00"), ("shipping", "10.00", "10.00")],
            refund="269.00",
            returned=True,
            offers=[exchange, store_credit("269.00")],
            reason="wrong_item",
        )
    )
    await chat.accept(exchange)

    await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="exchange",
        value=money("259.00"),
        details={"new_order": f"{order.number}-X1", "variant": "L"},
        voucher=None,
    )
    assert decision.inline_buttons() == []  # its buttons are gone
    replacement = await order_row(scenario.deps, f"{order.number}-X1")
    original = await order_row(scenario.deps, order.number)
    assert replacement.replaces_order_id == original.id
    assert replacement.status is OrderStatus.PROCESSING
    assert [(line.sku, line.quantity, line.unit_price) for line in replacement.items] == [
        ("HD-L", 1, Decimal("259.00"))
    ]
    assert await available(scenario.deps, "HD-L") == 2
    assert original.status is OrderStatus.DELIVERED
    [request] = await requests_for(scenario.deps, order.number)
    assert (request.kind, request.status, request.rule, request.refund_amount) == (
        RequestKind.RETURN,
        RequestStatus.APPROVED,
        "exchange",
        0,
    )
    assert [(line.order_item_id, line.quantity) for line in request.items] == [
        (original.items[0].id, 1)
    ]
    assert await refunds_for(scenario.deps, order.number) == []
    assert {(o.type, o.status) for o in await offers_for(scenario.deps, order.number)} == {
        (OfferType.EXCHANGE, OfferStatus.ACCEPTED),
        (OfferType.STORE_CREDIT, OfferStatus.DECLINED),
    }
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert case.status is CaseStatus.SAVED


async def test_no_exchange_is_offered_when_no_variant_is_in_stock(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = hoodie_in_m(scenario, ann, l_left=0)
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "wrong_item")
    await chat.expect_text("cancel/ask_photo", required=True)
    await chat.person.send_photo()
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_defective",
            lines=[("items", "259.00", "259.00"), ("shipping", "10.00", "10.00")],
            refund="269.00",
            returned=True,
            offers=[store_credit("269.00")],
            reason="wrong_item",
        )
    )


async def test_an_accepted_voucher_keeps_the_late_order(scenario: Scenario, lang: str) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-8000002",
        item("Desk Lamp", "120.00", zh="台灯", category="home"),
        status="shipped",
        shipped=ago(days=6),
        promised=(NOW - timedelta(days=1)).date(),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await chat.send("still not arrived" if lang == "en" else "还没收到")  # late, in words
    voucher_offer = offer("compensation_voucher", "13.00", percent=10, of="order_total")
    await chat.expect_exactly(
        chat.decision(
            order,
            "in_transit_merchant_fault",
            reason="late_delivery",
            lines=[("items", "120.00", "120.00"), ("shipping", "10.00", "10.00")],
            refund="130.00",
            returned=True,
            offers=[voucher_offer, store_credit("130.00")],
        )
    )
    await chat.accept(voucher_offer)

    [voucher] = await vouchers_of(scenario.deps, ann)
    assert (voucher.kind, voucher.amount) == (VoucherKind.COMPENSATION, Decimal("13.00"))
    await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="compensation_voucher",
        value=money("13.00"),
        details={"code": voucher.code},
        voucher=voucher_notice(voucher),  # code, value, expiry and how to use it
    )
    assert (await order_row(scenario.deps, order.number)).status is OrderStatus.SHIPPED
    assert await requests_for(scenario.deps, order.number) == []
    assert await refunds_for(scenario.deps, order.number) == []


async def test_an_accepted_partial_refund_keeps_the_item(scenario: Scenario, lang: str) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-8000003",
        item("Linen Shirt", "180.00", zh="亚麻衬衫", category="apparel"),
        status="delivered",
        delivered=ago(days=6),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "not_as_described")
    await chat.press("skip_photo")
    keep = offer("partial_refund", "27.00", percent=15, of="selected_items", keep="item")
    await chat.expect_exactly(
        chat.decision(
            order,
            "delivered_not_as_described",
            reason="not_as_described",
            lines=[("items", "180.00", "180.00"), ("shipping", "10.00", "10.00")],
            refund="190.00",
            returned=True,
            offers=[keep, store_credit("190.00")],
        )
    )
    await chat.accept(keep)

    await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="partial_refund",
        value=money("27.00"),
        details={"method": "card", "approved": "yes"},
        voucher=None,  # paid to the card: no voucher
    )
    accepted = next(
        o for o in await offers_for(scenario.deps, order.number) if o.status is OfferStatus.ACCEPTED
    )
    assert accepted.type is OfferType.PARTIAL_REFUND
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.offer_id, refund.request_id) == (accepted.id, None)
    assert (refund.amount, refund.method, refund.status) == (
        Decimal("27.00"),
        PaymentMethod.CARD,
        RefundStatus.APPROVED,
    )
    assert await requests_for(scenario.deps, order.number) == []
    assert (await order_row(scenario.deps, order.number)).status is OrderStatus.DELIVERED


async def test_express_shipping_instead_of_cancelling_a_late_order(scenario: Scenario) -> None:
    ann = scenario.customer()
    order = scenario.order(ann, "SO-8000004", item("Desk Lamp", "120.00"), status="processing")
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "late_delivery")
    express = offer("expedited_shipping", "0.00")
    await chat.expect_exactly(
        chat.decision(
            order,
            "before_shipping",
            lines=[("items", "120.00", "120.00"), ("shipping", "10.00", "10.00")],
            refund="130.00",
            offers=[express, store_credit("130.00")],
        )
    )
    await chat.accept(express)

    await chat.receipt(
        "notify/offer_accepted",
        order_number=order.number,
        type="expedited_shipping",
        value=money("0.00"),
        details={},
        voucher=None,
    )
    stored = await order_row(scenario.deps, order.number)
    assert (stored.status, stored.expedite_requested_at) == (OrderStatus.PROCESSING, NOW)


async def test_declined_offers_are_shown_again_after_back_and_counted_once(
    scenario: Scenario,
) -> None:
    """No thanks, then Back from the summary: the same offers, the same rows; taking one
    of them then is still possible."""
    ann = scenario.customer()
    order = scenario.order(ann, "SO-8000005", item("Desk Lamp", "120.00"), status="paid")
    await scenario.load()
    chat = await scenario.link(ann)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    credit = store_credit("130.00")
    decision = chat.decision(
        order,
        "before_shipping",
        lines=[("items", "120.00", "120.00"), ("shipping", "10.00", "10.00")],
        refund="130.00",
        offers=[credit],
    )
    await chat.expect_exactly(decision)
    await chat.press("no_thanks_cancel")
    await chat.expect_exactly(chat.summary(order, option("card", "130.00")))
    await chat.press("back")
    await chat.expect_exactly(decision)
    [shown_once] = await offers_for(scenario.deps, order.number)
    assert shown_once.status is OfferStatus.SHOWN

    await chat.accept(credit)
    await chat.expect_exactly(chat.summary(order, option("store_credit", "143.00", "13.00")))
    await confirm(chat)

    [accepted] = await offers_for(scenario.deps, order.number)
    assert (accepted.id, accepted.status) == (shown_once.id, OfferStatus.ACCEPTED)
    [refund] = await refunds_for(scenario.deps, order.number)
    assert (refund.method, refund.amount) == (PaymentMethod.STORE_CREDIT, Decimal("143.00"))


async def test_a_refusal_explains_why_and_a_person_can_take_over(
    scenario: Scenario, lang: str
) -> None:
    ann = scenario.customer()
    order = scenario.order(
        ann,
        "SO-8000006",
        item("Desk Lamp", "120.00", zh="台灯", category="home"),
        status="delivered",
        delivered=ago(days=20),
    )
    await scenario.load()
    chat = await scenario.link(ann, lang)

    await to_reason(chat, order)
    await give_reason(chat, "changed_mind")
    refusal = await chat.expect_exactly(
        chat.decision(order, "delivered_too_long_ago", days_since_delivery=20, window_days=7)
    )
    await chat.press_in(refusal, "person")
    await chat.expect_text("person/ticket_opened")
    await chat.expect_text("menu/main")
    [ticket] = await tickets_of(scenario.deps, chat.chat_id)
    [case] = await cases_of(scenario.deps, chat.chat_id)
    assert (ticket.reason, ticket.case_id, ticket.customer_id) == (
        TicketReason.NOT_ELIGIBLE,
        case.id,
        case.customer_id,
    )

    await chat.press_in(refusal, "person")  # asked again: still the one ticket
    await chat.expect_text("person/ticket_waiting")
    assert len(await tickets_of(scenario.deps, chat.chat_id)) == 1
    assert await requests_for(scenario.deps, order.number) == []
