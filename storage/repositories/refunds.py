"""Cancellation requests and refunds as the customer follows them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import (
    CompoundSelect,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import RefundStatus, VoucherKind
from storage.models import (
    CancellationRequest,
    Offer,
    Refund,
    RefundEscalation,
    RefundEvent,
    Voucher,
)


@dataclass(frozen=True, slots=True)
class StageLimit:
    """When a refund in `status` is overdue: its clock reads earlier than `cutoff`.

    The clock is when its current status began (the latest event's `occurred_at`) or,
    with `from_expected_by`, its expected arrival when it has one. With
    `awaiting_goods` True or False limits it to refunds whose request does, or does not,
    wait for the goods to come back (`bot.services.refunds.awaits_goods`): the payment
    and the customer's parcel are late at different times. None: either.
    """

    status: RefundStatus
    cutoff: datetime
    from_expected_by: bool = False
    awaiting_goods: bool | None = None


class StuckStage(NamedTuple):
    refund_id: int
    event_id: int
    """The event that began the refund's current status."""


class KeptWith(NamedTuple):
    """One thing given for an order the customer kept: a refund outside any cancellation
    (`code` None) or a compensation voucher (`code`, and whether it was `spent`)."""

    amount: Decimal
    currency: str
    code: str | None
    spent: bool


# Refunds that will pay nothing: they were never given.
_NEVER_PAID = (RefundStatus.REJECTED, RefundStatus.CANCELLED)


def kept_with_union() -> CompoundSelect[int, int, Decimal, str, str | None, bool]:
    """What an order was kept with, for `:order_id`: (part, row, amount, currency, code,
    spent), refunds as part 0 and vouchers as part 1; read with the policy's other facts
    (`PolicyFactsRepository`)."""
    refunds = select(
        literal(0).label("part"),
        Refund.id.label("row"),
        Refund.amount,
        Refund.currency,
        null().label("code"),
        false().label("spent"),
    ).where(
        Refund.order_id == bindparam("order_id"),
        Refund.request_id.is_(None),
        Refund.deducted_by_request_id.is_(None),
        Refund.status.not_in(_NEVER_PAID),
    )
    vouchers = (
        select(
            literal(1).label("part"),
            Voucher.id.label("row"),
            Voucher.amount,
            Voucher.currency,
            Voucher.code,
            Voucher.redeemed_at.is_not(None).label("spent"),
        )
        .join(Offer, Offer.id == Voucher.offer_id)
        .where(
            Offer.order_id == bindparam("order_id"),
            Voucher.kind == VoucherKind.COMPENSATION,
            Voucher.taken_back_at.is_(None),
        )
    )
    return union_all(refunds, vouchers)


class RefundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, refund: Refund) -> None:
        self._session.add(refund)

    async def get(self, refund_id: int) -> Refund | None:
        return await self._session.get(Refund, refund_id)

    async def get_for_update(self, refund_id: int) -> Refund | None:
        """Lock the refund row (PostgreSQL), so two events for one refund apply in turn."""
        return await self._session.scalar(
            select(Refund).where(Refund.id == refund_id).with_for_update()
        )

    async def event_by_external_id(self, event_id: str) -> RefundEvent | None:
        """The event a caller (the merchant's system, the CLI) recorded under `event_id`."""
        return await self._session.scalar(
            select(RefundEvent).where(RefundEvent.external_event_id == event_id)
        )

    async def given_for_update(self, order_id: int) -> Sequence[Refund]:
        """The refunds an order was kept with (`kept_with_union`), locked (PostgreSQL) while a
        cancellation deducts them."""
        return (
            await self._session.scalars(
                select(Refund)
                .where(
                    Refund.order_id == order_id,
                    Refund.request_id.is_(None),
                    Refund.deducted_by_request_id.is_(None),
                    Refund.status.not_in(_NEVER_PAID),
                )
                .order_by(Refund.id)
                .with_for_update()
            )
        ).all()

    async def for_order(self, order_id: int) -> Sequence[Refund]:
        """The order's refunds, oldest first, with their events."""
        return (
            await self._session.scalars(
                select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
            )
        ).all()

    async def for_request(self, request_id: int) -> Refund | None:
        return await self._session.scalar(select(Refund).where(Refund.request_id == request_id))

    async def for_request_for_update(self, request_id: int) -> Refund | None:
        """The request's refund, locked (PostgreSQL) against an event moving it meanwhile."""
        return await self._session.scalar(
            select(Refund).where(Refund.request_id == request_id).with_for_update()
        )

    async def for_orders(self, order_ids: Sequence[int]) -> Sequence[Refund]:
        if not order_ids:
            return []
        return (
            await self._session.scalars(
                select(Refund).where(Refund.order_id.in_(order_ids)).order_by(Refund.id.desc())
            )
        ).all()

    async def active_requests_for_orders(
        self, order_ids: Sequence[int]
    ) -> Sequence[CancellationRequest]:
        if not order_ids:
            return []
        return (
            await self._session.scalars(
                select(CancellationRequest)
                .where(
                    CancellationRequest.order_id.in_(order_ids),
                    CancellationRequest.is_active.is_(True),
                )
                .order_by(CancellationRequest.id.desc())
            )
        ).all()

    async def stuck(
        self,
        limits: Sequence[StageLimit],
        *,
        after_id: int = 0,
        limit: int = 100,
        include_escalated: bool = False,
    ) -> list[StuckStage]:
        """Refunds past one of `limits` in their current status and not escalated for it
        (or escalated too, for a count of all stuck refunds), by id, from `after_id` on:
        one query, whatever the number of refunds."""
        if not limits:
            return []
        current = (
            select(func.max(RefundEvent.id))
            .where(RefundEvent.refund_id == Refund.id)
            .correlate(Refund)
            .scalar_subquery()
        )
        began = RefundEvent.occurred_at
        awaiting_goods = exists().where(
            CancellationRequest.id == Refund.request_id,
            CancellationRequest.decision["return_required"].as_boolean() == true(),
        )
        overdue = [
            and_(
                Refund.status == stage.status,
                (func.coalesce(Refund.expected_by, began) if stage.from_expected_by else began)
                < stage.cutoff,
                true()
                if stage.awaiting_goods is None
                else awaiting_goods
                if stage.awaiting_goods
                else ~awaiting_goods,
            )
            for stage in limits
        ]
        escalated = exists().where(RefundEscalation.event_id == RefundEvent.id)
        rows = await self._session.execute(
            select(Refund.id, RefundEvent.id)
            .join(RefundEvent, RefundEvent.id == current)
            .where(Refund.id > after_id, or_(*overdue), true() if include_escalated else ~escalated)
            .order_by(Refund.id)
            .limit(limit)
        )
        return [StuckStage(refund_id, event_id) for refund_id, event_id in rows]

    async def escalation_for(self, event_id: int) -> RefundEscalation | None:
        return await self._session.scalar(
            select(RefundEscalation).where(RefundEscalation.event_id == event_id)
        )

    def add_escalation(self, escalation: RefundEscalation) -> None:
        self._session.add(escalation)
