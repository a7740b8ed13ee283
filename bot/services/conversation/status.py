"""What `/status` shows: the customer's orders, open cancellations and refunds, and a
refund's timeline.

Everything starts from the orders the reader may see (`OrderRepository.visible_to` /
`visible_one`), so a refund of someone else's order is never shown, not even its
existence: its timeline gets the same answer as an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.cancellation.exchanges import EXCHANGE_RULE
from bot.services.conversation.views import OrderView
from bot.services.domain.clock import Clock
from bot.services.domain.money import Money
from bot.services.linking.identity import Identity
from bot.services.policy import Policy
from bot.services.refunds.service import ActorKind, actor_kind, awaits_goods
from bot.services.refunds.states import FINAL, NOTE_SHOWN, ON_ITS_WAY
from storage.enums import PaymentMethod, RefundStatus, RequestStatus
from storage.models import CancellationRequest, Refund, RefundEvent
from storage.uow import UnitOfWork

RECENT_ORDERS = 10
RECENT_REFUNDS = 10
# A finished refund stays on the list this long, so "where is my refund?" is answered
# with "refunded on …" rather than with silence.
FINISHED_REFUNDS_SHOWN = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class RefundView:
    id: int
    order_number: str
    amount: Money
    method: PaymentMethod
    status: RefundStatus
    updated_at: datetime
    expected_by: datetime | None
    """The latest expected arrival, only while the money is on its way."""
    expected_from: datetime | None
    """The earliest expected arrival, when the method's window has one (`[arrival]` min)."""
    awaiting_return: bool = False
    """Approved, but paid only once the goods are back: nothing is on its way yet."""


@dataclass(frozen=True, slots=True)
class ExchangeView:
    """An exchange under way: the variant ships as `new_order`, the original comes back."""

    new_order: str
    variant: str  # "blue / L"
    was: str  # the values of the item sent back


@dataclass(frozen=True, slots=True)
class RequestView:
    id: int
    order_number: str
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    refund_amount: Money | None
    exchange: ExchangeView | None = None  # a return that is an exchange, not a refund


@dataclass(frozen=True, slots=True)
class StatusOverview:
    orders: tuple[OrderView, ...]
    requests: tuple[RequestView, ...]
    refunds: tuple[RefundView, ...]


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One step of a refund as its customer may see it: no actor id, no internal note."""

    at: datetime
    status: RefundStatus
    actor: ActorKind
    note: str | None
    amount: Money | None

    @classmethod
    def of(cls, event: RefundEvent, currency: str) -> TimelineEvent:
        return cls(
            at=event.occurred_at,
            status=event.to_status,
            actor=actor_kind(event.actor),
            note=event.note if event.to_status in NOTE_SHOWN else None,
            amount=None if event.amount is None else Money(event.amount, currency),
        )


@dataclass(frozen=True, slots=True)
class Timeline:
    refund: RefundView
    events: tuple[TimelineEvent, ...]


class StatusService:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: Policy) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def overview(self, identity: Identity) -> StatusOverview:
        now = self._clock.now()
        async with self._uow.transaction():
            orders = await self._uow.orders.visible_to(identity.user_id, identity.customer_id, now)
            numbers = {order.id: order.number for order in orders}
            requests = await self._uow.refunds.active_requests_for_orders(list(numbers))
            refunds = await self._uow.refunds.for_orders(list(numbers))
        waiting_for_goods = {request.id for request in requests if awaits_goods(request)}
        shown = [
            refund
            for refund in refunds
            if refund.status not in FINAL or now - refund.updated_at <= FINISHED_REFUNDS_SHOWN
        ]
        return StatusOverview(
            orders=tuple(OrderView.of(order, identity.locale) for order in orders[:RECENT_ORDERS]),
            requests=tuple(_request_view(r, numbers[r.order_id]) for r in requests),
            refunds=tuple(
                self._refund_view(
                    refund, numbers[refund.order_id], refund.request_id in waiting_for_goods
                )
                for refund in shown[:RECENT_REFUNDS]
            ),
        )

    async def timeline(self, identity: Identity, refund_id: int) -> Timeline | None:
        """The refund's events in order, or None when it is not the reader's or not at all."""
        now = self._clock.now()
        async with self._uow.transaction():
            refund = await self._uow.refunds.get(refund_id)
            order = (
                None
                if refund is None
                else await self._uow.orders.visible_one(
                    refund.order_id, identity.user_id, identity.customer_id, now
                )
            )
            request = (
                None
                if refund is None or refund.request_id is None
                else await self._uow.cases.get_request(refund.request_id)
            )
        if refund is None or order is None:
            return None
        return Timeline(
            refund=self._refund_view(refund, order.number, awaits_goods(request)),
            events=tuple(TimelineEvent.of(event, refund.currency) for event in refund.events),
        )

    def _refund_view(self, refund: Refund, order_number: str, awaits_goods: bool) -> RefundView:
        """`awaits_goods`: the refund's request wants the goods back before paying."""
        awaiting = awaits_goods and refund.status is RefundStatus.APPROVED
        expected_from, expected_by = (None, None) if awaiting else self._expected(refund)
        return RefundView(
            id=refund.id,
            order_number=order_number,
            amount=Money(refund.amount, refund.currency),
            method=refund.method,
            status=refund.status,
            updated_at=refund.updated_at,
            expected_by=expected_by,
            expected_from=expected_from,
            awaiting_return=awaiting,
        )

    def _expected(self, refund: Refund) -> tuple[datetime | None, datetime | None]:
        """(earliest, latest) arrival of money on its way; nothing once it stopped moving.

        `expected_by` was set when the current status began, as that moment plus the
        method's `[arrival]` max; the earliest is the same moment plus its min.
        """
        if refund.status not in ON_ITS_WAY or refund.expected_by is None:
            return None, None
        if refund.method is PaymentMethod.CASH_ON_DELIVERY or not refund.events:
            return None, refund.expected_by
        arrival = self._policy.arrival.for_method(refund.method)
        earliest = arrival.expected_between(refund.events[-1].occurred_at)[0]
        if arrival.min == 0 or earliest >= refund.expected_by:
            return None, refund.expected_by  # "by …" says it all
        return earliest, refund.expected_by


def _request_view(request: CancellationRequest, order_number: str) -> RequestView:
    amount = request.refund_amount
    exchange = (request.decision or {}).get("exchange") if request.rule == EXCHANGE_RULE else None
    return RequestView(
        id=request.id,
        order_number=order_number,
        status=request.status,
        created_at=request.created_at,
        updated_at=request.updated_at,
        refund_amount=None if amount is None else Money(amount, request.currency),
        exchange=(
            ExchangeView(exchange["new_order"], exchange["variant"], exchange.get("was", ""))
            if isinstance(exchange, dict)
            else None
        ),
    )
