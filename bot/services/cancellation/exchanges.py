"""Exchanges: the one place where another variant takes an ordered item's place.

Whoever asks (the customer taking an offer, the customer taking an offer the shop made
when it cancelled, and any later caller: agents, the merchant API, the command line),
the variant is taken from stock and shipped here, in the caller's transaction:

- an order not yet shipped has the item swapped on the order itself: one order ships,
  with the new variant, and there is nothing to send back;
- otherwise the variant ships as a replacement order (`<number>-X1`, paid by the
  original payment), and the caller deals with the original (a return, a cancellation).

Stock is taken by `StockRepository.take`, whose check and decrement are one UPDATE, so
two customers cannot both take the last unit: the second gets None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.services.domain.money import Money
from bot.services.policy.offers import variant_values
from storage.enums import OrderStatus
from storage.models import Order, OrderItem, StockItem
from storage.uow import UnitOfWork

NOT_SHIPPED = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PROCESSING})
EXCHANGE_RULE = "exchange"
"""`CancellationRequest.rule` of the return of an exchanged item."""


class ExchangeKind(StrEnum):
    SWAPPED = "swapped"  # the order itself now holds the variant
    REPLACEMENT = "replacement"  # a new order ships the variant


@dataclass(frozen=True, slots=True)
class Exchange:
    kind: ExchangeKind
    order_number: str  # the order that ships the variant
    replaces: str  # the sku given up
    sku: str
    variant: str  # its values, "blue / L"
    was: str  # the values of the item given up, "black / M"
    quantity: int

    def receipt(self) -> dict[str, str]:
        """What the customer's receipt says (notify/offer_accepted and the shop's offers)."""
        if self.kind is ExchangeKind.SWAPPED:
            return {"swapped": self.order_number, "variant": self.variant, "was": self.was}
        return {"new_order": self.order_number, "variant": self.variant}

    def record(self) -> dict[str, str]:
        """Kept on the return's request, for /status and the merchant."""
        return {
            "new_order": self.order_number,
            "sku": self.sku,
            "variant": self.variant,
            "replaces": self.replaces,
            "was": self.was,
        }


def not_shipped(order: Order) -> bool:
    return order.status in NOT_SHIPPED and order.shipped_at is None


class Exchanges:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def exchange(
        self, order: Order, original: OrderItem, sku: str, quantity: int, now: datetime
    ) -> Exchange | None:
        """Swap before shipping, else ship a replacement; None (nothing changed) when the
        variant is not another one of the same price, or no longer in stock."""
        if not_shipped(order):
            return await self.swap(order, original, sku, quantity, now)
        return await self.replace(order, original, sku, quantity, now)

    async def swap(
        self, order: Order, original: OrderItem, sku: str, quantity: int, now: datetime
    ) -> Exchange | None:
        """The order ships the variant instead: its line changes, the old item goes back
        on the shelf, and there is nothing to return."""
        replaces = original.sku
        variant = await self._take(order, original, sku, quantity)
        if variant is None:
            return None
        was = variant_values(original.attributes)
        await self._uow.stock.release(original.sku, quantity)
        if quantity < original.quantity:
            original.quantity -= quantity
            order.items.append(_line(variant, original, quantity, len(order.items) + 1))
        else:
            original.sku, original.name = variant.sku, variant.name
            original.names, original.attributes = dict(variant.names), dict(variant.attributes)
        order.updated_at = now
        return self._done(ExchangeKind.SWAPPED, order.number, replaces, variant, was, quantity)

    async def replace(
        self, order: Order, original: OrderItem, sku: str, quantity: int, now: datetime
    ) -> Exchange | None:
        """A new order ships the variant, paid by the original payment; what becomes of
        the original (returned, already cancelled) is the caller's part."""
        replaces = original.sku
        variant = await self._take(order, original, sku, quantity)
        if variant is None:
            return None
        siblings = await self._uow.orders.replacements_of(order.id)
        replacement = Order(
            number=f"{order.number}-X{len(siblings) + 1}",
            customer_id=order.customer_id,
            status=OrderStatus.PROCESSING,
            currency=order.currency,
            payment_method=order.payment_method,
            shipping_fee=Money.zero(order.currency).amount,
            placed_at=now,
            paid_at=order.paid_at or now,
            replaces_order_id=order.id,
            items=[_line(variant, original, quantity, 1)],
        )
        self._uow.orders.add(replacement)
        was = variant_values(original.attributes)
        number = replacement.number
        return self._done(ExchangeKind.REPLACEMENT, number, replaces, variant, was, quantity)

    async def _take(
        self, order: Order, original: OrderItem, sku: str, quantity: int
    ) -> StockItem | None:
        """The variant, its units taken; None unless it is another variant of the same
        product (not one the order holds) at the price paid, with `quantity` units free."""
        variant = await self._uow.stock.get(sku)
        own = await self._uow.stock.get(original.sku)
        if (
            variant is None
            or own is None
            or variant.product_group != own.product_group
            or any(item.sku == sku for item in order.items)
            or (variant.unit_price, variant.currency) != (original.unit_price, order.currency)
            or not 1 <= quantity <= original.quantity
        ):
            return None
        if not await self._uow.stock.take(sku, quantity):
            return None
        return variant

    @staticmethod
    def _done(
        kind: ExchangeKind,
        number: str,
        replaces: str,
        variant: StockItem,
        was: str,
        quantity: int,
    ) -> Exchange:
        values = variant_values(variant.attributes)
        return Exchange(kind, number, replaces, variant.sku, values, was, quantity)


def _line(variant: StockItem, original: OrderItem, quantity: int, line_no: int) -> OrderItem:
    return OrderItem(
        line_no=line_no,
        sku=variant.sku,
        name=variant.name,
        names=dict(variant.names),
        attributes=dict(variant.attributes),
        category=original.category,
        quantity=quantity,
        unit_price=variant.unit_price,
        returnable=original.returnable,
    )
