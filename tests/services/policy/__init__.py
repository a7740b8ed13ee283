"""Builders shared by the policy tests: facts at a fixed moment and policy variants.

Every order is in CNY unless said otherwise; `NOW` is Monday 2026-11-23 10:00 UTC,
18:00 in the default policy's time zone (Asia/Shanghai).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.services.domain.money import Money
from bot.services.policy import (
    DEFAULT_POLICY_FILE,
    CustomerFacts,
    Decision,
    ItemFacts,
    OrderFacts,
    Policy,
    RequestFacts,
    decide,
    load_policy,
    parse_policy,
)
from storage.enums import (
    CustomerTier,
    ItemCategory,
    ItemCondition,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TODAY_IN_SHOP = date(2026, 11, 23)
DEFAULT_POLICY = load_policy()


def cny(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def item(
    item_id: int = 1,
    *,
    sku: str | None = None,
    price: str = "100.00",
    quantity: int = 1,
    category: ItemCategory = ItemCategory.ELECTRONICS,
    returnable: bool = True,
    activated: bool = False,
    currency: str = "CNY",
) -> ItemFacts:
    return ItemFacts(
        item_id=item_id,
        sku=sku or f"SKU-{item_id}",
        name=f"Item {item_id}",
        category=category,
        ordered_quantity=quantity,
        unit_price=Money(Decimal(price), currency),
        returnable=returnable,
        activated=activated,
    )


def order(
    *,
    status: OrderStatus = OrderStatus.DELIVERED,
    items: tuple[ItemFacts, ...] | None = None,
    shipping: str = "12.00",
    payment: PaymentMethod = PaymentMethod.CARD,
    currency: str = "CNY",
    paid: bool = True,
    delivered_ago: timedelta | None = timedelta(days=2),
    service_in: timedelta | None = None,
    promised: date | None = None,
) -> OrderFacts:
    """An order whose timeline follows its status; delivery times only once delivered."""
    placed = NOW - timedelta(days=40)
    shipped = status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    delivered_at = None
    if status is OrderStatus.DELIVERED and delivered_ago is not None:
        delivered_at = NOW - delivered_ago
    return OrderFacts(
        number="SO-1000001",
        status=status,
        currency=currency,
        payment_method=payment,
        shipping_fee=Money(Decimal(shipping), currency),
        placed_at=placed,
        paid_at=placed + timedelta(minutes=5) if paid else None,
        shipped_at=placed + timedelta(days=1) if shipped else None,
        delivered_at=delivered_at,
        service_at=None if service_in is None else NOW + service_in,
        promised_delivery_date=promised,
        items=items if items is not None else (item(currency=currency),),
    )


def booking(service_in: timedelta | None, price: str = "300.00") -> OrderFacts:
    """A paid booking of one service, no shipping fee."""
    return order(
        status=OrderStatus.PAID,
        items=(item(category=ItemCategory.BOOKING, price=price, returnable=False),),
        shipping="0.00",
        service_in=service_in,
    )


def request(
    reason: ReasonCode = ReasonCode.CHANGED_MIND,
    condition: ItemCondition | None = None,
    selection: Mapping[int, int] | None = None,
    *,
    photo: bool = False,
) -> RequestFacts:
    return RequestFacts(reason, condition, selection, has_photo=photo)


def customer(tier: CustomerTier = CustomerTier.REGULAR, *previous_ago: timedelta) -> CustomerFacts:
    return CustomerFacts(tier, tuple(NOW - ago for ago in previous_ago))


def decide_now(
    facts: OrderFacts,
    asked: RequestFacts,
    who: CustomerFacts | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Decision:
    return decide(facts, asked, who or customer(), NOW, policy)


def default_policy_data() -> dict[str, Any]:
    """The shipped file as parsed TOML, a fresh copy to change for one test."""
    with DEFAULT_POLICY_FILE.open("rb") as file:
        return tomllib.load(file)


def policy_variant(change: Callable[[dict[str, Any]], None]) -> Policy:
    """The default policy after `change` edits (a copy of) its parsed TOML."""
    data = default_policy_data()
    change(data)
    return parse_policy(data, "variant.toml")
