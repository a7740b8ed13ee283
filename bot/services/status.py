"""What `/status` shows: the customer's orders, open cancellations and refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.clock import Clock
from bot.services.identity import Identity
from bot.services.money import Money
from bot.services.views import OrderView
from storage.enums import PaymentMethod, RefundStatus, RequestStatus
from storage.uow import UnitOfWork

RECENT_ORDERS = 10


@dataclass(frozen=True, slots=True)
class RefundView:
    id: int
    order_number: str
    amount: Money
    method: PaymentMethod
    status: RefundStatus
    updated_at: datetime
    expected_by: datetime | None


@dataclass(frozen=True, slots=True)
class RequestView:
    id: int
    order_number: str
    status: RequestStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StatusOverview:
    orders: tuple[OrderView, ...]
    requests: tuple[RequestView, ...]
    refunds: tuple[RefundView, ...]


class StatusService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def overview(self, identity: Identity) -> StatusOverview:
        async with self._uow.transaction():
            orders = await self._uow.orders.visible_to(
                identity.user_id, identity.customer_id, self._clock.now()
            )
            numbers = {order.id: order.number for order in orders}
            requests = await self._uow.refunds.active_requests_for_orders(list(numbers))
            refunds = await self._uow.refunds.for_orders(list(numbers))
        return StatusOverview(
            orders=tuple(OrderView.of(order, identity.locale) for order in orders[:RECENT_ORDERS]),
            requests=tuple(
                RequestView(r.id, numbers[r.order_id], r.status, r.created_at) for r in requests
            ),
            refunds=tuple(
                RefundView(
                    id=refund.id,
                    order_number=numbers[refund.order_id],
                    amount=Money(refund.amount, refund.currency),
                    method=refund.method,
                    status=refund.status,
                    updated_at=refund.updated_at,
                    expected_by=refund.expected_by,
                )
                for refund in refunds
            ),
        )
