"""Offers from the default policy: which, in what order, worth how much, and how often."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pytest

from bot.services.domain.money import Money
from bot.services.policy import (
    OfferHistory,
    OfferSpec,
    OfferType,
    OrderFacts,
    Policy,
    RequestFacts,
    StockFacts,
    StockLookup,
    offers_for,
)
from storage.enums import ItemCategory, ItemCondition, OrderStatus, ReasonCode
from tests.services.policy import (
    DEFAULT_POLICY,
    NOW,
    TODAY_IN_SHOP,
    booking,
    cny,
    decide_now,
    item,
    order,
    policy_variant,
    request,
)

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
Reason = ReasonCode
Type = OfferType


def tee(sku: str, available: int, price: str = "100.00", group: str = "TEE") -> StockFacts:
    size = sku.split("-")[1]
    return StockFacts(sku, group, {"size": size, "colour": "blue"}, cny(price), available)


STOCK = {
    stock.sku: stock
    for stock in (
        tee("TEE-M", 5),  # the ordered one
        tee("TEE-L", 2),
        tee("TEE-S", 0),  # sold out
        tee("TEE-XL", 9, price="120.00"),  # not the same price
        tee("MUG-1", 9, group="MUG"),  # another product
    )
}


def shirt_order(quantity: int = 1, **changes: Any) -> OrderFacts:
    shirt = item(1, sku="TEE-M", quantity=quantity, category=ItemCategory.APPAREL)
    return order(items=(shirt,), **changes)


def offers_now(
    facts: OrderFacts,
    asked: RequestFacts,
    *,
    stock: Mapping[str, StockFacts] | StockLookup = STOCK,
    history: OfferHistory | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[OfferSpec, ...]:
    decision = decide_now(facts, asked, policy=policy)
    return offers_for(decision, facts, asked, history or OfferHistory(), stock, NOW, policy)


def summary(offers: Iterable[OfferSpec]) -> list[tuple[str, str]]:
    return [(offer.type, offer.value.plain()) for offer in offers]


def test_a_wrong_item_is_exchanged_only_for_a_variant_the_order_does_not_hold() -> None:
    """Issue 10: a fresh unit of the very same variant is not an exchange (the customer
    already has it); TEE-M is in stock but only TEE-L is offered."""
    exchange, credit = offers_now(shirt_order(), request(Reason.WRONG_ITEM))
    assert (exchange.type, exchange.value) == (Type.EXCHANGE, cny("100.00"))
    assert dict(exchange.params) == {
        "sku": "TEE-L",
        "attributes": "blue / L",
        "replaces": "TEE-M",
        "alternatives": "",
    }
    assert (credit.type, credit.value, credit.percent) == (Type.STORE_CREDIT, cny("123.20"), 10)


def test_a_changed_mind_exchange_offers_only_other_variants_in_stock_at_the_same_price() -> None:
    offers = offers_now(shirt_order(), request(condition=ItemCondition.UNOPENED))
    assert offers[0].type is Type.EXCHANGE
    assert (offers[0].params["sku"], offers[0].params["alternatives"]) == ("TEE-L", "")


@pytest.mark.parametrize(
    "stock",
    [
        pytest.param({"TEE-M": tee("TEE-M", 5), "TEE-S": tee("TEE-S", 0)}, id="sold-out"),
        pytest.param({"TEE-M": tee("TEE-M", 5), "TEE-XL": tee("TEE-XL", 9, "120.00")}, id="dearer"),
        pytest.param({"TEE-M": tee("TEE-M", 5), "TEE-XS": tee("TEE-XS", 9, "99.99")}, id="cheaper"),
        pytest.param({"TEE-L": tee("TEE-L", 2)}, id="ordered-sku-unknown"),
        pytest.param({}, id="no-stock-facts"),
    ],
)
def test_no_exchange_without_an_equal_price_variant_in_stock(stock: dict[str, StockFacts]) -> None:
    offers = offers_now(shirt_order(), request(condition=ItemCondition.UNOPENED), stock=stock)
    assert Type.EXCHANGE not in [offer.type for offer in offers]


def test_an_exchange_needs_enough_units_for_the_whole_line() -> None:
    offers = offers_now(shirt_order(quantity=3), request(condition=ItemCondition.UNOPENED))
    assert Type.EXCHANGE not in [offer.type for offer in offers]  # TEE-L has only 2


def test_no_exchange_for_several_lines_at_once() -> None:
    two = order(items=(item(1, sku="TEE-M"), item(2, sku="TEE-L")))
    offers = offers_now(two, request(Reason.WRONG_ITEM))
    assert [offer.type for offer in offers] == [Type.STORE_CREDIT]


def test_stock_can_come_from_a_lookup() -> None:
    class Warehouse:
        def find(self, sku: str) -> StockFacts | None:
            return STOCK.get(sku)

        def in_group(self, group: str) -> Iterable[StockFacts]:
            return [tee("TEE-L", 1)] if group == "TEE" else []

    offers = offers_now(shirt_order(), request(Reason.DEFECTIVE), stock=Warehouse())
    assert offers[0].params["sku"] == "TEE-L"


def test_keeping_an_item_not_as_described_earns_15_percent() -> None:
    offers = offers_now(shirt_order(), request(Reason.NOT_AS_DESCRIBED), stock={})
    assert summary(offers) == [("partial_refund", "15.00"), ("store_credit", "123.20")]
    assert offers[0].percent == 15
    assert dict(offers[0].params) == {"of": "selected_items", "keep": "item"}


def test_an_item_still_on_its_way_is_not_kept_as_it_is() -> None:
    """Not as described, in transit: no "keep the item"; a price match keeps the order."""
    in_transit = order(status=OrderStatus.SHIPPED)
    offers = offers_now(in_transit, request(Reason.NOT_AS_DESCRIBED), stock={})
    assert "partial_refund" not in [kind for kind, _ in summary(offers)]
    match = offers_now(in_transit, request(Reason.FOUND_CHEAPER), stock={})
    assert match[0].type is OfferType.PARTIAL_REFUND
    assert match[0].params["keep"] == "order"


def test_found_cheaper_gets_a_10_percent_price_match() -> None:
    offers = offers_now(shirt_order(), request(Reason.FOUND_CHEAPER, ItemCondition.UNOPENED))
    assert summary(offers) == [("partial_refund", "10.00"), ("store_credit", "110.00")]


def test_a_partial_refund_never_exceeds_the_refund() -> None:
    def generous(data: dict[str, Any]) -> None:
        match = next(c for c in data["offers"]["candidates"] if c["id"] == "price_match")
        match |= {"percent": 100, "of": "order_total"}

    in_transit = order(status=OrderStatus.SHIPPED)  # refund 100.00, shipping 12.00 kept
    offers = offers_now(
        in_transit, request(Reason.FOUND_CHEAPER), stock={}, policy=policy_variant(generous)
    )
    assert summary(offers)[0] == ("partial_refund", "100.00")


def test_nothing_to_give_back_means_no_money_offers() -> None:
    unpaid = order(status=OrderStatus.PENDING_PAYMENT, paid=False)
    assert offers_now(unpaid, request(Reason.FOUND_CHEAPER), stock={}) == ()


VOUCHER = ("compensation_voucher", "11.20")
EXPRESS = ("expedited_shipping", "0.00")
CREDIT = ("store_credit", "123.20")


@pytest.mark.parametrize(
    ("status", "promised", "offers"),
    [
        # Shipped and really late: a voucher (10 % of 112.00) to keep it, or store credit.
        (OrderStatus.SHIPPED, TODAY_IN_SHOP - DAY, [VOUCHER, CREDIT]),
        # Shipped, promised date not passed: not late yet, no voucher; shipping is kept.
        (OrderStatus.SHIPPED, TODAY_IN_SHOP, [("store_credit", "110.00")]),
        # Not shipped and late: voucher and express shipping; store credit is the 3rd, cut.
        (OrderStatus.PAID, TODAY_IN_SHOP - DAY, [VOUCHER, EXPRESS]),
        # Not shipped, not late yet: express shipping rather than a voucher.
        (OrderStatus.PROCESSING, TODAY_IN_SHOP, [EXPRESS, CREDIT]),
    ],
)  # fmt: skip
def test_late_delivery_offers(
    status: OrderStatus, promised: date, offers: list[tuple[str, str]]
) -> None:
    late = order(status=status, promised=promised)
    assert summary(offers_now(late, request(Reason.LATE_DELIVERY), stock={})) == offers


def test_a_last_minute_booking_gets_a_voucher_instead_of_a_refund() -> None:
    (voucher,) = offers_now(booking(DAY - SECOND), request(Reason.BOOKING_CHANGED))
    assert (voucher.type, voucher.value, voucher.percent) == (
        Type.COMPENSATION_VOUCHER,
        cny("60.00"),
        20,
    )


def test_a_fault_reported_too_late_gets_no_offer() -> None:
    """The caller offers an agent instead."""
    too_late = shirt_order(delivered_ago=31 * DAY)
    assert offers_now(too_late, request(Reason.DEFECTIVE)) == ()


def test_no_offers_while_the_condition_is_still_unknown() -> None:
    assert offers_now(shirt_order(), request(Reason.CHANGED_MIND)) == ()


@pytest.mark.parametrize(
    ("accepted_ago", "offered"),
    [(89 * DAY, False), (90 * DAY, False), (90 * DAY + SECOND, True), (400 * DAY, True)],
)
def test_a_partial_refund_at_most_once_in_90_days(accepted_ago: timedelta, offered: bool) -> None:
    history = OfferHistory(((Type.PARTIAL_REFUND, NOW - accepted_ago),))
    asked = request(Reason.FOUND_CHEAPER, ItemCondition.UNOPENED)
    offers = offers_now(shirt_order(), asked, stock={}, history=history)
    assert (Type.PARTIAL_REFUND in [offer.type for offer in offers]) is offered


def test_the_guard_is_per_offer_type() -> None:
    history = OfferHistory(((Type.COMPENSATION_VOUCHER, NOW - DAY), (Type.EXCHANGE, NOW - DAY)))
    asked = request(Reason.FOUND_CHEAPER, ItemCondition.UNOPENED)
    offers = offers_now(shirt_order(), asked, history=history)
    assert [offer.type for offer in offers] == [Type.PARTIAL_REFUND, Type.STORE_CREDIT]


def test_a_store_credit_bonus_at_most_once_in_90_days() -> None:
    history = OfferHistory(((Type.STORE_CREDIT, NOW - 10 * DAY),))
    offers = offers_now(
        order(status=OrderStatus.PAID), request(Reason.LATE_DELIVERY), stock={}, history=history
    )
    assert [offer.type for offer in offers] == [Type.EXPEDITED_SHIPPING]


def test_at_most_two_offers_and_one_of_each_type() -> None:
    def two_price_matches(data: dict[str, Any]) -> None:
        candidates = data["offers"]["candidates"]
        candidates.insert(0, {**candidates[2], "id": "big_price_match", "percent": 20})

    asked = request(Reason.FOUND_CHEAPER, ItemCondition.UNOPENED)
    offers = offers_now(shirt_order(), asked, policy=policy_variant(two_price_matches))
    assert summary(offers) == [("partial_refund", "20.00"), ("store_credit", "110.00")]


def test_max_shown_zero_turns_offers_off() -> None:
    def none_shown(data: dict[str, Any]) -> None:
        data["offers"]["max_shown"] = 0

    asked = request(Reason.WRONG_ITEM)
    assert offers_now(shirt_order(), asked, policy=policy_variant(none_shown)) == ()


def test_offer_json() -> None:
    (voucher,) = offers_now(booking(DAY - SECOND), request(Reason.BOOKING_CHANGED))
    assert voucher.to_json() == {
        "type": "compensation_voucher",
        "value": "60.00",
        "currency": "CNY",
        "percent": "20",
        "params": {"of": "order_total"},
        "expires_with_conversation": True,
    }
    express = OfferSpec(Type.EXPEDITED_SHIPPING, Money.zero("JPY"))
    assert express.to_json()["value"] == "0"
