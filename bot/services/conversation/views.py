"""Plain read-only views of stored objects, handed to dialogs and templates.

Templates and handlers never touch ORM objects: a view cannot lazy-load in the
middle of rendering, and it carries only what may be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.services.cancellation.matching import default_vocabulary
from bot.services.domain.money import Money
from storage.enums import CustomerTier, ItemCategory, OrderStatus, PaymentMethod
from storage.models import Customer, Order, OrderItem


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    external_id: str
    name: str
    tier: CustomerTier
    locale: str | None

    @classmethod
    def of(cls, customer: Customer) -> CustomerView:
        return cls(customer.id, customer.external_id, customer.name, customer.tier, customer.locale)


@dataclass(frozen=True, slots=True)
class ItemView:
    id: int
    sku: str
    name: str
    category: ItemCategory
    quantity: int
    unit_price: Money
    returnable: bool
    # (name, value) of each attribute, the value in the reader's language: ("color", "蓝色")
    attributes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, item: OrderItem, currency: str, locale: str) -> ItemView:
        vocabulary = default_vocabulary()
        return cls(
            id=item.id,
            sku=item.sku,
            name=item.display_name(locale),
            category=item.category,
            quantity=item.quantity,
            unit_price=Money(item.unit_price, currency),
            returnable=item.returnable,
            attributes=tuple(
                (name, vocabulary.attribute_in(value, locale))
                for name, value in sorted(item.attributes.items())
            ),
        )

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    number: str
    status: OrderStatus
    placed_at: datetime
    delivered_at: datetime | None
    service_at: datetime | None
    promised_delivery_date: date | None
    payment_method: PaymentMethod
    shipping_fee: Money
    total: Money
    items: tuple[ItemView, ...]
    # Set by `tell_apart` when another order in the same list looks the same: the
    # attribute values that differ ("blue", "L"), or, when none do, `show_time`.
    distinction: tuple[str, ...] = ()
    show_time: bool = False

    @classmethod
    def of(cls, order: Order, locale: str) -> OrderView:
        return cls(
            id=order.id,
            number=order.number,
            status=order.status,
            placed_at=order.placed_at,
            delivered_at=order.delivered_at,
            service_at=order.service_at,
            promised_delivery_date=order.promised_delivery_date,
            payment_method=order.payment_method,
            shipping_fee=Money(order.shipping_fee, order.currency),
            total=Money(order.total, order.currency),
            items=tuple(ItemView.of(item, order.currency, locale) for item in order.items),
        )

    @property
    def headline(self) -> str:
        """The first item's name, with "+N" when there are more."""
        first = self.items[0].name if self.items else ""
        return f"{first} +{len(self.items) - 1}" if len(self.items) > 1 else first


def tell_apart(orders: Sequence[OrderView]) -> tuple[OrderView, ...]:
    """The orders, those that look alike (the same headline) with what tells them apart:
    the attribute values that differ between them (colour, size), else the time of day
    they were placed, shown with the date.

    Two pairs of "Bluetooth Headphones" become "Bluetooth Headphones (blue)" and
    "(black)"; two T-shirts of one colour, "(M)" and "(L)".
    """
    alike: dict[str, list[OrderView]] = {}
    for order in orders:
        alike.setdefault(order.headline, []).append(order)
    told: dict[int, OrderView] = {}
    for group in alike.values():
        if len(group) < 2:
            continue
        kinds = [dict(_attributes(order)) for order in group]
        differing = sorted(
            name for name in set().union(*kinds) if len({kind.get(name) for kind in kinds}) > 1
        )
        for order, kind in zip(group, kinds, strict=True):
            values = tuple(kind[name] for name in differing if name in kind)
            told[order.id] = replace(order, distinction=values, show_time=not values)
    return tuple(told.get(order.id, order) for order in orders)


def _attributes(order: OrderView) -> list[tuple[str, str]]:
    """The attributes of the order's items; an attribute seen twice keeps its first value."""
    seen: dict[str, str] = {}
    for item in order.items:
        for name, value in item.attributes:
            seen.setdefault(name, value)
    return list(seen.items())
