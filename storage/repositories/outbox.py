"""The outbox: messages owed to customers, staged in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import OutboxStatus
from storage.models import OutboxMessage


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, message: OutboxMessage) -> None:
        self._session.add(message)

    async def by_dedupe_key(self, key: str) -> OutboxMessage | None:
        return await self._session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == key)
        )

    async def pending(self, limit: int = 100) -> Sequence[OutboxMessage]:
        return (
            await self._session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
        ).all()
