"""Plain read-only views of stored objects, handed to dialogs and templates.

Templates and handlers never touch ORM objects: a view cannot lazy-load in the
middle of rendering, and it carries only what may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.services.money import Money
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

    @classmethod
    def of(cls, item: OrderItem, currency: str, locale: str) -> ItemView:
        return cls(
            id=item.id,
            sku=item.sku,
            name=item.display_name(locale),
            category=item.category,
            quantity=item.quantity,
            unit_price=Money(item.unit_price, currency),
            returnable=item.returnable,
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
