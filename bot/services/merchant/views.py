"""What the merchant may read back: a refund with its history, an order with its requests
and the alternatives its customer accepted (express shipping, an exchange, a voucher).

Read-only views for the merchant API (GET), built in one short transaction and
handed out as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.services.domain.money import Money
from bot.services.merchant.errors import UnknownOrder, UnknownRefund
from bot.services.merchant.request_origin import is_merchant_request
from storage.enums import (
    OfferType,
    OrderStatus,
    PaymentMethod,
    RefundStatus,
    RequestKind,
    RequestStatus,
)
from storage.models import CancellationRequest, Refund
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class RefundEventState:
    event_id: str | None  # the id its sender gave; None for the bot's own steps
    from_status: RefundStatus | None
    status: RefundStatus
    actor: str
    note: str | None
    amount: Money | None
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class RefundState:
    id: int
    order_number: str
    request_id: int | None
    offer_id: int | None
    amount: Money
    method: PaymentMethod
    status: RefundStatus
    expected_by: datetime | None
    created_at: datetime
    updated_at: datetime
    events: tuple[RefundEventState, ...]


@dataclass(frozen=True, slots=True)
class RequestState:
    id: int
    kind: RequestKind
    status: RequestStatus
    active: bool
    initiated_by: Literal["customer", "merchant"]
    reason: str  # the customer's reason code, or the merchant's reason
    refund_amount: Money | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ItemState:
    sku: str
    name: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True, slots=True)
class AcceptedOffer:
    """An alternative the customer took instead of a refund: what the shop now owes."""

    id: int
    type: OfferType
    value: Money
    params: dict[str, str]
    accepted_at: datetime | None
    voucher_code: str | None  # the voucher it issued, if any


@dataclass(frozen=True, slots=True)
class OrderState:
    number: str
    customer_id: str  # the merchant's own id
    status: OrderStatus
    payment_method: PaymentMethod
    total: Money
    shipping_fee: Money
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    items: tuple[ItemState, ...]
    requests: tuple[RequestState, ...]
    refunds: tuple[RefundState, ...]
    replacements: tuple[str, ...]  # orders opened to replace this one (exchanges)
    expedite_requested_at: datetime | None  # the customer took free express shipping
    accepted_offers: tuple[AcceptedOffer, ...]


class MerchantViews:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def refund(self, refund_id: int) -> RefundState:
        async with self._uow.transaction():
            refund = await self._uow.refunds.get(refund_id)
            if refund is None:
                raise UnknownRefund(refund_id)
            order = await self._uow.orders.get(refund.order_id)
            assert order is not None
            return _refund(refund, order.number)

    async def order(self, number: str) -> OrderState:
        async with self._uow.transaction():
            order = await self._uow.orders.by_number(number)
            if order is None:
                raise UnknownOrder(number)
            customer = await self._uow.customers.get(order.customer_id)
            assert customer is not None
            requests = await self._uow.cases.requests_for_order(order.id)
            refunds = await self._uow.refunds.for_order(order.id)
            replacements = await self._uow.orders.replacements_of(order.id)
            accepted = await self._uow.merchant_feeds.accepted_offers(order.id)
            currency = order.currency
            return OrderState(
                number=order.number,
                customer_id=customer.external_id,
                status=order.status,
                payment_method=order.payment_method,
                total=Money(order.total, currency),
                shipping_fee=Money(order.shipping_fee, currency),
                placed_at=order.placed_at,
                paid_at=order.paid_at,
                shipped_at=order.shipped_at,
                delivered_at=order.delivered_at,
                items=tuple(
                    ItemState(item.sku, item.name, item.quantity, Money(item.unit_price, currency))
                    for item in order.items
                ),
                requests=tuple(request_state(request) for request in requests),
                refunds=tuple(_refund(refund, order.number) for refund in refunds),
                replacements=tuple(sorted(replacement.number for replacement in replacements)),
                expedite_requested_at=order.expedite_requested_at,
                accepted_offers=tuple(
                    AcceptedOffer(
                        id=offer.id,
                        type=offer.type,
                        value=Money(offer.value, offer.currency),
                        params=dict(offer.params),
                        accepted_at=offer.answered_at,
                        voucher_code=code,
                    )
                    for offer, code in accepted
                ),
            )


def _refund(refund: Refund, order_number: str) -> RefundState:
    currency = refund.currency
    return RefundState(
        id=refund.id,
        order_number=order_number,
        request_id=refund.request_id,
        offer_id=refund.offer_id,
        amount=Money(refund.amount, currency),
        method=refund.method,
        status=refund.status,
        expected_by=refund.expected_by,
        created_at=refund.created_at,
        updated_at=refund.updated_at,
        events=tuple(
            RefundEventState(
                event_id=event.external_event_id,
                from_status=event.from_status,
                status=event.to_status,
                actor=event.actor,
                note=event.note,
                amount=None if event.amount is None else Money(event.amount, currency),
                occurred_at=event.occurred_at,
                recorded_at=event.recorded_at,
            )
            for event in refund.events
        ),
    )


def request_state(request: CancellationRequest) -> RequestState:
    """A request as the merchant reads it: who started it and why, in their vocabulary."""
    merchant = is_merchant_request(request)
    decision = request.decision or {}
    return RequestState(
        id=request.id,
        kind=request.kind,
        status=request.status,
        active=request.is_active,
        initiated_by="merchant" if merchant else "customer",
        reason=str(decision.get("merchant_reason")) if merchant else request.reason_code.value,
        refund_amount=(
            None
            if request.refund_amount is None
            else Money(request.refund_amount, request.currency)
        ),
        created_at=request.created_at,
        closed_at=request.closed_at,
    )
