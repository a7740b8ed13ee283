"""Cancellation requests and refunds as the customer follows them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CancellationRequest, Refund


class RefundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, refund: Refund) -> None:
        self._session.add(refund)

    async def get(self, refund_id: int) -> Refund | None:
        return await self._session.get(Refund, refund_id)

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
