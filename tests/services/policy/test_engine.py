"""The default policy, rule by rule and at each boundary, and the money it pays out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.domain.money import Money
from bot.services.policy import (
    NO_RULE,
    Approval,
    ApprovalReason,
    CustomerFacts,
    Decision,
    DecisionKind,
    Given,
    GivenKind,
    ItemFacts,
    OfferSpec,
    OfferType,
    OrderFacts,
    Photo,
    RequestFacts,
    decide,
)
from storage.enums import (
    CustomerTier,
    ItemCategory,
    ItemCondition,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
)
from storage.models import Order, OrderItem
from tests.services.policy import (
    DEFAULT_POLICY,
    NOW,
    TODAY_IN_SHOP,
    booking,
    cny,
    customer,
    decide_now,
    item,
    order,
    policy_variant,
    request,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)

Status = OrderStatus
Reason = ReasonCode
Cond = ItemCondition
Cat = ItemCategory


BOOKING_CHANGED = request(Reason.BOOKING_CHANGED)


def delivered(
    ago: timedelta = 2 * DAY, *, category: Cat = Cat.ELECTRONICS, **kw: Any
) -> OrderFacts:
    return order(delivered_ago=ago, items=(item(category=category, **kw),))


def shipped(promised: date | None = None, category: Cat = Cat.ELECTRONICS) -> OrderFacts:
    return order(status=Status.SHIPPED, promised=promised, items=(item(category=category),))


# (order, request, deciding rule, eligible, refund in CNY); item 100.00 + shipping 12.00.
RULE_CASES = [
    # Unpaid and closed orders come first.
    pytest.param(
        order(status=Status.PENDING_PAYMENT, paid=False), request(), "unpaid", True, "0.00",
        id="unpaid",
    ),
    pytest.param(
        order(status=Status.CANCELLED), request(), "already_closed", False, "0.00", id="cancelled",
    ),
    pytest.param(
        order(status=Status.REFUNDED), request(), "already_closed", False, "0.00", id="refunded",
    ),
    # Not shipped yet: everything back.
    pytest.param(
        order(status=Status.PAID), request(), "before_shipping", True, "112.00", id="paid",
    ),
    pytest.param(
        order(status=Status.PROCESSING), request(), "before_shipping", True, "112.00",
        id="processing",
    ),
    pytest.param(
        order(status=Status.PROCESSING, payment=PaymentMethod.CASH_ON_DELIVERY, paid=False),
        request(), "before_shipping", True, "0.00", id="cash-on-delivery-not-paid-yet",
    ),
    pytest.param(
        order(status=Status.PAID, items=(item(category=Cat.DIGITAL),)),
        request(), "before_shipping", True, "112.00", id="digital-not-activated",
    ),
    pytest.param(
        order(status=Status.PAID, items=(item(category=Cat.DIGITAL, activated=True),)),
        request(), "non_returnable", False, "0.00", id="digital-activated-before-shipping",
    ),
    # Shipped: a return on arrival; shipping kept unless it is the shop's fault.
    pytest.param(shipped(), request(), "in_transit", True, "100.00", id="shipped-changed-mind"),
    pytest.param(
        shipped(promised=TODAY_IN_SHOP - DAY), request(Reason.LATE_DELIVERY),
        "in_transit_merchant_fault", True, "112.00", id="shipped-late-promise-passed",
    ),
    pytest.param(
        shipped(promised=TODAY_IN_SHOP), request(Reason.LATE_DELIVERY),
        "in_transit", True, "100.00", id="shipped-late-promised-today",
    ),
    pytest.param(
        shipped(), request(Reason.LATE_DELIVERY), "in_transit", True, "100.00",
        id="shipped-late-no-promised-date",
    ),
    pytest.param(
        shipped(), request(Reason.WRONG_ITEM), "in_transit_merchant_fault", True, "112.00",
        id="shipped-wrong-item",
    ),
    pytest.param(
        shipped(), request(Reason.DEFECTIVE), "in_transit_merchant_fault", True, "112.00",
        id="shipped-defective",
    ),
    pytest.param(
        shipped(), request(Reason.NOT_AS_DESCRIBED), "in_transit", True, "100.00",
        id="shipped-not-as-described-is-no-fault",
    ),
    pytest.param(
        shipped(category=Cat.FOOD_PERISHABLE), request(), "non_returnable", False, "0.00",
        id="shipped-perishable",
    ),
    # Delivered, no fault: 7 days, unopened only.
    pytest.param(
        delivered(7 * DAY), request(condition=Cond.UNOPENED), "delivered_unopened", True, "100.00",
        id="unopened-exactly-7-days",
    ),
    pytest.param(
        delivered(7 * DAY + SECOND), request(condition=Cond.UNOPENED),
        "delivered_too_long_ago", False, "0.00", id="unopened-7-days-plus-1s",
    ),
    pytest.param(
        delivered(), request(condition=Cond.OPENED), "delivered_opened", False, "0.00",
        id="opened",
    ),
    pytest.param(
        delivered(), request(condition=Cond.DAMAGED), "delivered_opened", False, "0.00",
        id="damaged-without-fault-reason",
    ),
    pytest.param(
        delivered(), request(Reason.MISTAKE, Cond.UNOPENED), "delivered_unopened", True, "100.00",
        id="mistake-unopened",
    ),
    pytest.param(
        delivered(), request(Reason.FOUND_CHEAPER, Cond.UNOPENED), "delivered_unopened", True,
        "100.00", id="found-cheaper-unopened",
    ),
    # Delivered with a fault: 30 days, shipping refunded.
    pytest.param(
        delivered(30 * DAY), request(Reason.DEFECTIVE), "delivered_defective", True, "112.00",
        id="defective-exactly-30-days",
    ),
    pytest.param(
        delivered(30 * DAY + SECOND), request(Reason.DEFECTIVE), "fault_window_over", False,
        "0.00", id="defective-30-days-plus-1s",
    ),
    pytest.param(
        delivered(10 * DAY), request(Reason.WRONG_ITEM), "delivered_defective", True, "112.00",
        id="wrong-item",
    ),
    pytest.param(
        delivered(10 * DAY),
        request(Reason.DEFECTIVE, Cond.OPENED), "delivered_defective", True, "112.00",
        id="defective-opened-still-counts",
    ),
    pytest.param(
        delivered(10 * DAY), request(Reason.NOT_AS_DESCRIBED), "delivered_not_as_described",
        True, "112.00", id="not-as-described",
    ),
    pytest.param(
        delivered(31 * DAY), request(Reason.NOT_AS_DESCRIBED), "fault_window_over", False,
        "0.00", id="not-as-described-31-days",
    ),
    # Non-returnable goods: only for defective/damaged or the wrong item.
    pytest.param(
        delivered(category=Cat.FOOD_PERISHABLE), request(condition=Cond.UNOPENED),
        "non_returnable", False, "0.00", id="perishable-changed-mind",
    ),
    pytest.param(
        delivered(category=Cat.FOOD_PERISHABLE), request(Reason.DEFECTIVE),
        "delivered_defective", True, "112.00", id="perishable-defective",
    ),
    pytest.param(
        delivered(category=Cat.FOOD_PERISHABLE), request(Reason.WRONG_ITEM),
        "delivered_defective", True, "112.00", id="perishable-wrong-item",
    ),
    pytest.param(
        delivered(category=Cat.FOOD_PERISHABLE), request(Reason.NOT_AS_DESCRIBED),
        "non_returnable", False, "0.00", id="perishable-not-as-described",
    ),
    pytest.param(
        delivered(category=Cat.PERSONALIZED), request(condition=Cond.UNOPENED),
        "non_returnable", False, "0.00", id="personalized-changed-mind",
    ),
    pytest.param(
        delivered(category=Cat.PERSONALIZED), request(Reason.DEFECTIVE),
        "delivered_defective", True, "112.00", id="personalized-defective",
    ),
    pytest.param(
        delivered(category=Cat.HOME, returnable=False), request(condition=Cond.UNOPENED),
        "non_returnable", False, "0.00", id="marked-not-returnable",
    ),
    pytest.param(
        delivered(category=Cat.DIGITAL, activated=True), request(condition=Cond.UNOPENED),
        "non_returnable", False, "0.00", id="activated-digital",
    ),
    pytest.param(
        delivered(category=Cat.DIGITAL, activated=True), request(Reason.DEFECTIVE),
        "delivered_defective", True, "112.00", id="activated-digital-defective",
    ),
    pytest.param(
        delivered(category=Cat.DIGITAL), request(condition=Cond.UNOPENED),
        "delivered_unopened", True, "100.00", id="digital-not-activated",
    ),
    # Bookings by the time left before the service.
    pytest.param(
        booking(72 * HOUR), BOOKING_CHANGED, "booking_early", True, "300.00",
        id="booking-exactly-72h",
    ),
    pytest.param(
        booking(72 * HOUR - SECOND), BOOKING_CHANGED, "booking_late", True, "150.00",
        id="booking-72h-minus-1s",
    ),
    pytest.param(
        booking(24 * HOUR), BOOKING_CHANGED, "booking_late", True, "150.00",
        id="booking-exactly-24h",
    ),
    pytest.param(
        booking(24 * HOUR - SECOND), BOOKING_CHANGED, "booking_last_minute", False, "0.00",
        id="booking-24h-minus-1s",
    ),
    pytest.param(
        booking(SECOND), BOOKING_CHANGED, "booking_last_minute", False, "0.00",
        id="booking-1s-ahead",
    ),
    # A service whose time has come is not "less than 24 hours away": it has passed.
    pytest.param(
        booking(timedelta(0)), BOOKING_CHANGED, "booking_service_passed", False, "0.00",
        id="booking-starting-now",
    ),
    pytest.param(
        booking(-HOUR), BOOKING_CHANGED, "booking_service_passed", False, "0.00",
        id="booking-already-begun",
    ),
    pytest.param(
        order(status=Status.DELIVERED, items=booking(None).items, shipping="0.00",
              service_in=-3 * DAY),
        BOOKING_CHANGED, "booking_service_passed", False, "0.00", id="booking-3-days-ago",
    ),
    pytest.param(
        booking(None), BOOKING_CHANGED, "booking_without_date", False, "0.00",
        id="booking-without-date",
    ),
    pytest.param(
        order(status=Status.PENDING_PAYMENT, paid=False, items=booking(DAY).items),
        BOOKING_CHANGED, "unpaid", True, "0.00", id="booking-unpaid",
    ),
    # Nothing fits: a delivered order without a delivery time.
    pytest.param(
        order(delivered_ago=None), request(condition=Cond.UNOPENED), NO_RULE, False, "0.00",
        id="no-rule",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "asked", "rule", "eligible", "refund"), RULE_CASES)
def test_default_rules_at_their_boundaries(
    facts: OrderFacts, asked: RequestFacts, rule: str, eligible: bool, refund: str
) -> None:
    decision = decide_now(facts, asked)
    assert (decision.rule, decision.eligible, decision.refund) == (rule, eligible, cny(refund))
    assert not decision.needs_condition


def test_the_condition_is_asked_only_when_a_rule_needs_it() -> None:
    asking = decide_now(delivered(2 * DAY), request())
    assert (asking.rule, asking.needs_condition, asking.eligible) == (
        "delivered_unopened",
        True,
        False,
    )
    assert not asking.final
    assert asking.refund == cny("0.00")
    assert not decide_now(delivered(8 * DAY), request()).needs_condition
    assert not decide_now(delivered(2 * DAY), request(Reason.DEFECTIVE)).needs_condition


@pytest.mark.parametrize(
    ("reason", "has_photo", "photo", "needs_photo"),
    [
        (Reason.DEFECTIVE, False, Photo.REQUIRED, True),
        (Reason.DEFECTIVE, True, Photo.REQUIRED, False),
        (Reason.WRONG_ITEM, False, Photo.REQUIRED, True),
        (Reason.NOT_AS_DESCRIBED, False, Photo.OPTIONAL, False),
    ],
)
def test_photos_for_fault_returns(
    reason: ReasonCode, has_photo: bool, photo: Photo, needs_photo: bool
) -> None:
    decision = decide_now(delivered(), request(reason, photo=has_photo))
    assert (decision.photo, decision.needs_photo, decision.final) == (
        photo,
        needs_photo,
        not needs_photo,
    )
    assert decision.return_required
    assert decision.kind is DecisionKind.RETURN


def _two_line_order(status: OrderStatus = Status.PAID) -> OrderFacts:
    """Item 1: 299.00 × 2, item 2: 59.90 × 1, shipping 12.00 — 669.90 in all."""
    lines = (item(1, price="299.00", quantity=2), item(2, price="59.90"))
    return order(status=status, items=lines)


SHIPPING_KEPT_PARTIAL = ("shipping_partial", "12.00", "0.00", "12.00")
WHOLE_ITEMS = ("items", "657.90", "657.90", None)
WHOLE_SHIPPING = ("shipping", "12.00", "12.00", None)

Line = tuple[str, str, str, str | None]
"""(code, price, refunded, kept): each part of the order once."""


def _lines(decision: Decision) -> list[Line]:
    return [
        (
            line.code,
            line.price.plain(),
            line.amount.plain(),
            None if line.kept is None else line.kept.plain(),
        )
        for line in decision.breakdown
    ]


@pytest.mark.parametrize(
    ("selection", "refund", "lines"),
    [
        (None, "669.90", [WHOLE_ITEMS, WHOLE_SHIPPING]),
        ({1: 2, 2: 1}, "669.90", [WHOLE_ITEMS, WHOLE_SHIPPING]),
        ({1: 1}, "299.00", [("items", "299.00", "299.00", None), SHIPPING_KEPT_PARTIAL]),
        ({1: 1, 2: 1}, "358.90", [("items", "358.90", "358.90", None), SHIPPING_KEPT_PARTIAL]),
        ({2: 1}, "59.90", [("items", "59.90", "59.90", None), SHIPPING_KEPT_PARTIAL]),
    ],
)  # fmt: skip
def test_partial_selection_refunds_the_selected_quantities(
    selection: dict[int, int] | None, refund: str, lines: list[Line]
) -> None:
    decision = decide_now(_two_line_order(), request(selection=selection))
    assert decision.rule == "before_shipping"
    assert decision.refund == cny(refund)
    assert _lines(decision) == lines


def test_a_no_fault_return_keeps_the_shipping_fee() -> None:
    decision = decide_now(
        _two_line_order(Status.DELIVERED), request(condition=Cond.UNOPENED, selection={1: 1})
    )
    assert decision.rule == "delivered_unopened"
    assert _lines(decision) == [
        ("items", "299.00", "299.00", None),
        ("shipping", "12.00", "0.00", "12.00"),
    ]


def _kettle_and_strawberries() -> OrderFacts:
    """Item 1: a kettle, 199.00; item 2: strawberries, 39.90 × 2 (fresh food)."""
    lines = (
        item(1, price="199.00", category=Cat.HOME),
        item(2, price="39.90", quantity=2, category=Cat.FOOD_PERISHABLE),
    )
    return order(items=lines)


def test_a_mixed_selection_refunds_what_may_go_back_and_names_what_may_not() -> None:
    facts = _kettle_and_strawberries()
    asked = request(selection={1: 1, 2: 2})
    assert decide_now(facts, asked).needs_condition  # for the kettle, which may go back
    decision = decide_now(facts, request(condition=Cond.UNOPENED, selection={1: 1, 2: 2}))
    assert (decision.eligible, decision.rule) == (True, "delivered_unopened")
    assert _lines(decision) == [
        ("items", "199.00", "199.00", None),
        ("shipping", "12.00", "0.00", "12.00"),
    ]
    assert decision.excluded is not None
    assert decision.excluded.rule == "non_returnable"
    assert [(i.item_id, i.quantity, i.price) for i in decision.excluded.items] == [
        (2, 2, cny("79.80"))
    ]
    assert [c.code for c in decision.excluded.because] == ["returnable", "reason_not"]
    assert (decision.covers(1), decision.covers(2)) == (True, False)
    assert decision.to_json()["excluded"]["items"] == [
        {"item_id": 2, "sku": "SKU-2", "quantity": 2, "price": "79.80"}
    ]


def test_a_mixed_selection_is_decided_whole_when_the_fault_covers_everything() -> None:
    decision = decide_now(
        _kettle_and_strawberries(), request(Reason.DEFECTIVE, selection={1: 1, 2: 2}, photo=True)
    )
    assert (decision.rule, decision.excluded) == ("delivered_defective", None)
    assert decision.refund == cny("290.80")  # the whole order: shipping too


def test_a_mixed_selection_refused_for_both_parts_says_why_for_each() -> None:
    asked = request(condition=Cond.OPENED, selection={1: 1, 2: 1})
    decision = decide_now(_kettle_and_strawberries(), asked)
    assert (decision.eligible, decision.rule) == (False, "delivered_opened")
    assert decision.excluded is not None
    assert decision.excluded.rule == "non_returnable"


def test_only_non_returnable_items_are_refused_as_before() -> None:
    decision = decide_now(_kettle_and_strawberries(), request(selection={2: 1}))
    assert (decision.eligible, decision.rule, decision.excluded) == (False, "non_returnable", None)


def test_half_a_booking_rounds_half_up_and_shows_the_kept_half() -> None:
    decision = decide_now(booking(48 * HOUR, price="99.99"), BOOKING_CHANGED)
    assert decision.refund == cny("50.00")
    assert _lines(decision) == [("booking", "99.99", "50.00", "49.99")]
    assert [line.percent for line in decision.breakdown] == [Decimal(50)]


def test_nothing_paid_means_nothing_refunded_and_shows_what_was_owed() -> None:
    unpaid = order(status=Status.PENDING_PAYMENT, paid=False)
    decision = decide_now(unpaid, request())
    assert _lines(decision) == [("not_paid", unpaid.total.plain(), "0.00", None)]
    assert decision.refund_options == ()


def test_free_shipping_has_no_shipping_line() -> None:
    free = order(status=Status.PAID, shipping="0.00")
    assert [line.code for line in decide_now(free, request()).breakdown] == ["items"]


@pytest.mark.parametrize(
    ("selection", "problem"),
    [
        ({9: 1}, "not in order"),
        ({1: 0}, "quantity must be 1 to 2"),
        ({1: 3}, "quantity must be 1 to 2"),
        ({1: True}, "must be an integer"),
        ({}, "selection is empty"),
    ],
)
def test_selections_are_validated(selection: dict[int, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decide_now(_two_line_order(), request(selection=selection))


@pytest.mark.parametrize(
    ("price", "approval", "reasons"),
    [
        ("488.00", Approval.AUTOMATIC, ()),  # refund exactly 500.00
        ("488.01", Approval.AGENT, (ApprovalReason.OVER_LIMIT,)),  # 500.01
    ],
)
def test_approval_limit_is_inclusive(
    price: str, approval: Approval, reasons: tuple[ApprovalReason, ...]
) -> None:
    decision = decide_now(order(status=Status.PAID, items=(item(price=price),)), request())
    assert (decision.approval, decision.approval_reasons) == (approval, reasons)


@pytest.mark.parametrize(
    ("previous", "counted", "approval"),
    [
        ((30 * DAY, DAY), 3, Approval.AGENT),  # this is the 3rd request within 30 days
        ((30 * DAY + SECOND, DAY), 2, Approval.AUTOMATIC),  # one fell out of the window
        ((DAY,), 2, Approval.AUTOMATIC),
    ],
)
def test_frequent_requests_need_an_agent(
    previous: tuple[timedelta, ...], counted: int, approval: Approval
) -> None:
    who = customer(CustomerTier.REGULAR, *previous)
    decision = decide_now(order(status=Status.PAID), request(), who)
    expected = (ApprovalReason.FREQUENT_REQUESTS,) if approval is Approval.AGENT else ()
    assert (decision.approval, decision.approval_reasons) == (approval, expected)
    assert decision.facts["requests_in_window"] == counted


def test_both_approval_reasons_are_given() -> None:
    big = order(status=Status.PAID, items=(item(price="900.00"),))
    decision = decide_now(big, request(), customer(CustomerTier.REGULAR, DAY, 2 * DAY))
    assert decision.approval_reasons == (
        ApprovalReason.OVER_LIMIT,
        ApprovalReason.FREQUENT_REQUESTS,
    )


def test_vip_is_automatic_over_the_limit_and_when_frequent() -> None:
    big = order(status=Status.PAID, items=(item(price="900.00"),))
    vip = customer(CustomerTier.VIP, DAY, 2 * DAY, 3 * DAY)
    assert decide_now(big, request(), vip).approval is Approval.AUTOMATIC

    def no_vip_exception(data: dict[str, Any]) -> None:
        data["approval"]["vip_always_automatic"] = False

    strict = policy_variant(no_vip_exception)
    assert decide_now(big, request(), vip, strict).approval is Approval.AGENT


def test_a_zero_refund_never_waits_for_an_agent() -> None:
    unpaid = order(status=Status.PENDING_PAYMENT, paid=False)
    decision = decide_now(unpaid, request(), customer(CustomerTier.REGULAR, DAY, 2 * DAY))
    assert decision.approval is Approval.AUTOMATIC


@pytest.mark.parametrize(
    ("price", "approval"), [("69988", Approval.AUTOMATIC), ("69989", Approval.AGENT)]
)
def test_a_currency_can_have_its_own_limit(price: str, approval: Approval) -> None:
    def yen_limit(data: dict[str, Any]) -> None:
        data["approval"]["auto_approve_up_to_by_currency"] = {"JPY": "70000"}

    yen = order(
        status=Status.PAID,
        currency="JPY",
        shipping="12",
        items=(item(price=price, currency="JPY"),),
    )
    decision = decide_now(yen, request(), policy=policy_variant(yen_limit))
    assert decision.approval is approval
    assert decision.to_json()["refund_amount"] == str(int(price) + 12)


def _options(decision: Decision) -> list[tuple[str, str, str, bool, str]]:
    return [
        (o.method, o.amount.plain(), o.bonus.plain(), o.completed_by_agent, o.arrival.label())
        for o in decision.refund_options
    ]


@pytest.mark.parametrize(
    ("payment", "arrival"),
    [
        (PaymentMethod.CARD, "3–5 business days"),
        (PaymentMethod.E_WALLET, "within 24 hours"),
        (PaymentMethod.BANK_TRANSFER, "1–3 business days"),
    ],
)
def test_refunds_go_back_the_way_they_came_or_as_store_credit_with_a_bonus(
    payment: PaymentMethod, arrival: str
) -> None:
    decision = decide_now(order(status=Status.PAID, payment=payment), request())
    assert _options(decision) == [
        (payment, "112.00", "0.00", False, arrival),
        ("store_credit", "123.20", "11.20", False, "at once"),  # 112.00 + 10 %
    ]


def test_store_credit_payments_get_store_credit_back_without_a_bonus() -> None:
    paid = order(status=Status.PAID, payment=PaymentMethod.STORE_CREDIT)
    assert _options(decide_now(paid, request())) == [
        ("store_credit", "112.00", "0.00", False, "at once")
    ]


def test_cash_on_delivery_gets_store_credit_or_a_transfer_an_agent_completes() -> None:
    cod = order(delivered_ago=DAY, payment=PaymentMethod.CASH_ON_DELIVERY)
    decision = decide_now(cod, request(condition=Cond.UNOPENED))
    assert _options(decision) == [
        ("store_credit", "110.00", "10.00", False, "at once"),
        ("bank_transfer", "100.00", "0.00", True, "1–3 business days"),
    ]


@pytest.mark.parametrize(
    ("bonus", "price", "credit"),
    [(10, "0.05", "0.06"), ("12.5", "100.00", "126.00"), (0, "100.00", "112.00")],
)
def test_store_credit_bonus_is_exact(bonus: int | str, price: str, credit: str) -> None:
    def set_bonus(data: dict[str, Any]) -> None:
        data["refund_methods"]["store_credit_bonus_percent"] = bonus

    shipping = "0.00" if price == "0.05" else "12.00"
    paid = order(status=Status.PAID, shipping=shipping, items=(item(price=price),))
    decision = decide_now(paid, request(), policy=policy_variant(set_bonus))
    credit_option = decision.refund_options[1]
    assert credit_option.amount == cny(credit)
    assert credit_option.amount - credit_option.bonus == decision.refund


def test_not_eligible_means_no_refund_options() -> None:
    decision = decide_now(delivered(), request(condition=Cond.OPENED))
    assert (decision.refund_options, decision.breakdown) == ((), ())
    assert decision.approval is Approval.AUTOMATIC


def test_facts_for_the_explanation() -> None:
    week = decide_now(delivered(7 * DAY), request(condition=Cond.UNOPENED)).facts
    assert (week["days_since_delivery"], week["window_days"], week["percent"]) == (7, 7, 100)
    late = decide_now(booking(72 * HOUR - SECOND), BOOKING_CHANGED).facts
    assert (late["hours_before_service"], late["hours_min"], late["hours_below"]) == (71, 24, 72)
    assert late["percent"] == Decimal(50)
    passed = decide_now(booking(-3 * DAY - HOUR), BOOKING_CHANGED)
    assert passed.facts["days_since_service"] == 3
    assert "hours_before_service" not in passed.facts
    assert [c.to_json() for c in passed.because] == [
        {"code": "category", "values": ["booking"]},
        {"code": "service_passed", "flag": True, "count": 3},
    ]
    promised = decide_now(shipped(TODAY_IN_SHOP - DAY), request(Reason.LATE_DELIVERY)).facts
    assert (promised["promised_delivery_date"], promised["merchant_fault"]) == ("2026-11-22", True)


def test_late_counts_in_the_shops_time_zone() -> None:
    """18:00 in Shanghai on the 23rd is still the 23rd; at 16:00 UTC it is the 24th there."""
    on_time = shipped(TODAY_IN_SHOP)
    assert (
        decide(on_time, request(Reason.LATE_DELIVERY), customer(), NOW, DEFAULT_POLICY).rule
        == "in_transit"
    )
    past_midnight = NOW.replace(hour=16)
    late = decide(on_time, request(Reason.LATE_DELIVERY), customer(), past_midnight, DEFAULT_POLICY)
    assert late.rule == "in_transit_merchant_fault"


def test_to_json_is_plain_json_with_exact_amounts() -> None:
    offer = OfferSpec(OfferType.EXPEDITED_SHIPPING, cny("0.00"))
    decision = decide_now(_two_line_order(), request(selection={1: 1}))
    data = json.loads(json.dumps(decision.to_json([offer])))
    assert data["eligible"] is True
    assert (data["rule"], data["kind"], data["refund_amount"], data["currency"]) == (
        "before_shipping",
        "cancel",
        "299.00",
        "CNY",
    )
    assert data["breakdown"][0] == {
        "code": "items",
        "price": "299.00",
        "amount": "299.00",
        "percent": "100",
        "kept": None,
        "reference": None,
    }
    assert data["because"] == [
        {"code": "order_status", "values": ["paid"]},
        {"code": "activated", "flag": False},
    ]
    assert (data["approval"], data["approval_reasons"]) == ("automatic", [])
    assert [method["method"] for method in data["refund_methods"]] == ["card", "store_credit"]
    assert data["refund_methods"][0]["arrival"] == {
        "unit": "business_days",
        "min": 3,
        "max": 5,
        "label": "3–5 business days",
    }
    assert data["offers"] == [offer.to_json()]
    assert data["facts"]["percent"] == "100"


def test_order_facts_copy_an_orm_order() -> None:
    placed = NOW - 3 * DAY
    kettle = OrderItem(
        id=7, line_no=1, sku="KET", name="Kettle", category=Cat.HOME, quantity=2,
        unit_price=Decimal("19.99"), returnable=False, activated=False,
    )  # fmt: skip
    orm = Order(
        number="SO-7", status=Status.PAID, currency="USD", payment_method=PaymentMethod.CARD,
        shipping_fee=Decimal("5.00"), placed_at=placed, paid_at=placed, items=[kettle],
    )  # fmt: skip
    facts = OrderFacts.of(orm)
    assert facts.items == (
        ItemFacts(
            item_id=7, sku="KET", name="Kettle", category=Cat.HOME, ordered_quantity=2,
            unit_price=Money(Decimal("19.99"), "USD"), returnable=False, activated=False,
        ),
    )  # fmt: skip
    assert (facts.number, facts.status, facts.paid_at) == ("SO-7", Status.PAID, placed)
    assert facts.total == Money(Decimal("44.98"), "USD")


def test_request_codes_from_the_database_are_read_as_enums() -> None:
    stored = RequestFacts("defective", "opened")  # type: ignore[arg-type]
    assert (stored.reason, stored.condition) == (Reason.DEFECTIVE, Cond.OPENED)
    assert decide_now(delivered(), stored).rule == "delivered_defective"
    with pytest.raises(ValueError, match="not_a_reason"):
        RequestFacts("not_a_reason")  # type: ignore[arg-type]


def test_facts_refuse_naive_times_and_mixed_currencies() -> None:
    with pytest.raises(ValueError, match="aware"):
        CustomerFacts(previous_request_times=(datetime(2026, 1, 1),))  # noqa: DTZ001
    with pytest.raises(ValueError, match="every amount must be in USD"):
        order(currency="USD", items=(item(currency="CNY"),))
    with pytest.raises(ValueError, match="aware"):
        decide(order(), request(), customer(), NOW.replace(tzinfo=None), DEFAULT_POLICY)


# --- the money invariants, for any order, selection, reason and moment -----------------

_prices = st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False)


@st.composite
def _orders(draw: st.DrawFn) -> OrderFacts:
    count = draw(st.integers(1, 4))
    lines = tuple(
        item(
            n,
            price=str(draw(_prices)),
            quantity=draw(st.integers(1, 5)),
            category=draw(st.sampled_from(ItemCategory)),
            returnable=draw(st.booleans()),
            activated=draw(st.booleans()),
        )
        for n in range(1, count + 1)
    )
    offsets = st.none() | st.integers(-60 * 86400, 60 * 86400).map(lambda s: timedelta(seconds=s))
    return order(
        status=draw(st.sampled_from(OrderStatus)),
        items=lines,
        shipping=str(draw(st.decimals(min_value=0, max_value=50, places=2, allow_nan=False))),
        payment=draw(st.sampled_from(PaymentMethod)),
        paid=draw(st.booleans()),
        delivered_ago=draw(offsets),
        service_in=draw(offsets),
        promised=draw(st.none() | st.dates(TODAY_IN_SHOP - 30 * DAY, TODAY_IN_SHOP + 30 * DAY)),
    )


@settings(max_examples=300, deadline=None)
@given(facts=_orders(), data=st.data())
def test_refund_is_never_negative_never_above_what_was_paid_and_adds_up(
    facts: OrderFacts, data: st.DataObject
) -> None:
    chosen = data.draw(
        st.lists(st.sampled_from(facts.items), unique=True, max_size=len(facts.items))
    )
    selection = {line.item_id: data.draw(st.integers(1, line.ordered_quantity)) for line in chosen}
    asked = RequestFacts(
        reason=data.draw(st.sampled_from(ReasonCode)),
        condition=data.draw(st.none() | st.sampled_from(ItemCondition)),
        selection=selection or None,
        has_photo=data.draw(st.booleans()),
    )
    previous = data.draw(st.lists(st.integers(0, 90 * 86400), max_size=4))
    who = CustomerFacts(
        data.draw(st.sampled_from(CustomerTier)),
        tuple(NOW - timedelta(seconds=s) for s in previous),
    )
    decision = decide(facts, asked, who, NOW, DEFAULT_POLICY)

    covered = [(line, selection.get(line.item_id, line.ordered_quantity)) for line in facts.items]
    selected = sum(
        (
            line.unit_price * quantity
            for line, quantity in covered
            if not selection or line.item_id in selection
        ),
        Money.zero("CNY"),
    )
    assert Money.zero("CNY") <= decision.refund <= selected + facts.shipping_fee
    assert sum((line.amount for line in decision.breakdown), Money.zero("CNY")) == decision.refund
    if not decision.eligible or not facts.is_paid:
        assert decision.refund == Money.zero("CNY")
    for option in decision.refund_options:
        assert option.amount == decision.refund + option.bonus


# -- no stacking: what was given while the order was kept -------------------------------------


def _kept_with(*given: Given) -> OrderFacts:
    """A delivered order (item 100.00, shipping 12.00) the customer kept with something."""
    return replace(order(), given=given)


def test_a_partial_refund_already_given_is_deducted() -> None:
    decision = decide_now(
        _kept_with(Given(GivenKind.REFUND, cny("15.00"))), request(Reason.NOT_AS_DESCRIBED)
    )
    assert decision.rule == "delivered_not_as_described"
    assert decision.refund == cny("97.00")  # 100.00 + 12.00 shipping, less 15.00 given
    assert decision.breakdown[-1].to_json() == {
        "code": "given_refund",
        "price": "15.00",
        "amount": "-15.00",
        "percent": None,
        "kept": None,
        "reference": None,
    }
    # Store credit and its bonus follow the refund after the deduction.
    assert [option.amount for option in decision.refund_options] == [cny("97.00"), cny("106.70")]


def test_an_unused_voucher_is_taken_back_and_a_spent_one_deducted() -> None:
    unused = decide_now(
        _kept_with(Given(GivenKind.VOUCHER_UNUSED, cny("20.00"), "VC-AAAA-BBBB")),
        request(Reason.DEFECTIVE, photo=True),
    )
    assert unused.refund == cny("112.00")  # nothing deducted: the voucher is voided
    assert (unused.breakdown[-1].code, unused.breakdown[-1].amount) == (
        "given_voucher_unused",
        cny("0.00"),
    )
    spent = decide_now(
        _kept_with(Given(GivenKind.VOUCHER_SPENT, cny("20.00"), "VC-AAAA-BBBB")),
        request(Reason.DEFECTIVE, photo=True),
    )
    assert spent.refund == cny("92.00")
    assert spent.breakdown[-1].reference == "VC-AAAA-BBBB"


def test_more_given_than_refunded_refunds_nothing_never_a_negative_amount() -> None:
    decision = decide_now(
        _kept_with(Given(GivenKind.REFUND, cny("60.00")), Given(GivenKind.REFUND, cny("60.00"))),
        request(Reason.DEFECTIVE, photo=True),
    )
    assert decision.eligible
    assert decision.refund == cny("0.00")
    assert decision.refund_options == ()
