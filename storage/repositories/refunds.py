"""Cancellation requests and refunds as the customer follows them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CancellationRequest, Refund, RefundEvent


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
