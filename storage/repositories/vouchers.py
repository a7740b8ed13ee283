"""Vouchers a customer holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import VoucherKind
from storage.models import Offer, Voucher


class VoucherRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, voucher: Voucher) -> None:
        self._session.add(voucher)

    async def for_customer(self, customer_id: int) -> Sequence[Voucher]:
        return (
            await self._session.scalars(
                select(Voucher).where(Voucher.customer_id == customer_id).order_by(Voucher.id)
            )
        ).all()

    async def compensating_order(self, order_id: int, *, lock: bool = False) -> Sequence[Voucher]:
        """Compensation vouchers of offers accepted on the order, not yet taken back; locked
        (PostgreSQL) while a cancellation takes them back, so none is spent meanwhile."""
        query = (
            select(Voucher)
            .join(Offer, Offer.id == Voucher.offer_id)
            .where(
                Offer.order_id == order_id,
                Voucher.kind == VoucherKind.COMPENSATION,
                Voucher.taken_back_at.is_(None),
            )
            .order_by(Voucher.id)
        )
        if lock:
            query = query.with_for_update(of=Voucher)
        return (await self._session.scalars(query)).all()
