"""The plain facts the policy engine and the offers decide on.

They are frozen copies, so a decision can never lazy-load from the database or read
the clock halfway through; the caller gathers them once, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol

from bot.services.cancellation.variants import Wish
from bot.services.domain.money import Money
from storage.enums import (
    CustomerTier,
    ItemCategory,
    ItemCondition,
    OfferType,
    OrderStatus,
    PaymentMethod,
    ReasonCode,
)
from storage.models import Order


def _require_aware(*moments: datetime | None) -> None:
    """Naive datetimes would compare wrongly (or raise) against the aware UTC `now`."""
    if any(moment is not None and moment.utcoffset() is None for moment in moments):
        raise ValueError("policy facts need aware datetimes")


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemFacts:
    item_id: int
    sku: str
    name: str
    category: ItemCategory
    ordered_quantity: int
    unit_price: Money
    returnable: bool = True
    activated: bool = False

    def __post_init__(self) -> None:
        if self.ordered_quantity < 1:
            raise ValueError(f"item {self.item_id}: ordered_quantity must be ≥ 1")
        if self.unit_price.amount < 0:
            raise ValueError(f"item {self.item_id}: unit_price must not be negative")


class GivenKind(StrEnum):
    """What the customer already got for an order they kept (an accepted offer, an agent)."""

    REFUND = "refund"  # a partial refund, paid or on its way: deducted
    VOUCHER_SPENT = "voucher_spent"  # a compensation voucher already spent: deducted
    VOUCHER_UNUSED = "voucher_unused"  # a compensation voucher not spent: taken back


@dataclass(frozen=True, slots=True)
class Given:
    """One thing given for the order while it was kept; a later cancellation takes it back
    or deducts it, so refund and compensation never stack. `reference`: a voucher's code."""

    kind: GivenKind
    value: Money
    reference: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFacts:
    number: str
    status: OrderStatus
    currency: str
    payment_method: PaymentMethod
    shipping_fee: Money
    placed_at: datetime
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    service_at: datetime | None = None
    promised_delivery_date: date | None = None
    items: tuple[ItemFacts, ...]
    given: tuple[Given, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(
            self.placed_at, self.paid_at, self.shipped_at, self.delivered_at, self.service_at
        )
        if not self.items:
            raise ValueError(f"order {self.number} has no items")
        prices = [
            self.shipping_fee,
            *(item.unit_price for item in self.items),
            *(given.value for given in self.given),
        ]
        if any(price.currency != self.currency for price in prices):
            raise ValueError(f"order {self.number}: every amount must be in {self.currency}")
        if self.shipping_fee.amount < 0:
            raise ValueError(f"order {self.number}: shipping_fee must not be negative")
        if len({item.item_id for item in self.items}) != len(self.items):
            raise ValueError(f"order {self.number}: item ids repeat")

    @property
    def is_paid(self) -> bool:
        """Cash-on-delivery orders are unpaid until delivery; nothing can go back before."""
        return self.paid_at is not None

    @property
    def total(self) -> Money:
        """What the customer pays for the whole order: items plus shipping."""
        items = (item.unit_price * item.ordered_quantity for item in self.items)
        return sum(items, self.shipping_fee)

    @classmethod
    def of(cls, order: Order) -> OrderFacts:
        """Copy an ORM order (items loaded) into facts, in the order's currency."""
        currency = order.currency
        return cls(
            number=order.number,
            status=order.status,
            currency=currency,
            payment_method=order.payment_method,
            shipping_fee=Money(order.shipping_fee, currency),
            placed_at=order.placed_at,
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            service_at=order.service_at,
            promised_delivery_date=order.promised_delivery_date,
            items=tuple(
                ItemFacts(
                    item_id=item.id,
                    sku=item.sku,
                    name=item.name,
                    category=item.category,
                    ordered_quantity=item.quantity,
                    unit_price=Money(item.unit_price, currency),
                    returnable=item.returnable,
                    activated=item.activated,
                )
                for item in order.items
            ),
        )


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the customer asked for; `selection` maps item id → quantity, None means everything.

    `no_photo`: asked for a photo, the customer said they have none and described the
    problem in words instead; a rule that requires a photo then needs an agent's approval.
    """

    reason: ReasonCode
    condition: ItemCondition | None = None
    selection: Mapping[int, int] | None = None
    has_photo: bool = False
    wish: Wish = field(default_factory=Wish)  # the size or colour their words ask for
    no_photo: bool = False

    def __post_init__(self) -> None:
        # Codes read back from the database arrive as plain strings; the engine compares
        # enum members, so normalise here once (an unknown code raises ValueError).
        object.__setattr__(self, "reason", ReasonCode(self.reason))
        if self.condition is not None:
            object.__setattr__(self, "condition", ItemCondition(self.condition))
        if self.selection is not None:
            object.__setattr__(self, "selection", MappingProxyType(dict(self.selection)))


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """The customer's tier and when they asked before; the engine counts the window itself."""

    tier: CustomerTier = CustomerTier.REGULAR
    previous_request_times: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(*self.previous_request_times)


@dataclass(frozen=True, slots=True)
class StockFacts:
    """One sellable variant; `group` ties the sizes and colours of one product together."""

    sku: str
    group: str
    attributes: Mapping[str, str]
    unit_price: Money
    available: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


class StockLookup(Protocol):
    """Stock as the offers need it, for callers that query lazily rather than pass a table."""

    def find(self, sku: str) -> StockFacts | None: ...

    def in_group(self, group: str) -> Iterable[StockFacts]: ...


@dataclass(frozen=True, slots=True)
class StockTable:
    """A `StockLookup` over a plain mapping of sku → stock facts."""

    by_sku: Mapping[str, StockFacts]

    def find(self, sku: str) -> StockFacts | None:
        return self.by_sku.get(sku)

    def in_group(self, group: str) -> Iterable[StockFacts]:
        return [stock for stock in self.by_sku.values() if stock.group == group]


@dataclass(frozen=True, slots=True)
class OfferHistory:
    """Offers this customer accepted before, for the once-per-period abuse guard."""

    accepted: tuple[tuple[OfferType, datetime], ...] = ()

    def __post_init__(self) -> None:
        _require_aware(*(at for _, at in self.accepted))

    def accepted_since(self, offer_type: OfferType, since: datetime) -> bool:
        return any(kind == offer_type and at >= since for kind, at in self.accepted)
