"""Vouchers a customer holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Voucher


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
