"""Counted attempts, kept in the database so limits hold across restarts and processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ThrottleEvent


class ThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count_since(self, subject: str, action: str, since: datetime) -> int:
        query = select(func.count()).where(
            ThrottleEvent.subject == subject,
            ThrottleEvent.action == action,
            ThrottleEvent.created_at > since,
        )
        return await self._session.scalar(query) or 0

    async def oldest_since(self, subject: str, action: str, since: datetime) -> datetime | None:
        query = select(func.min(ThrottleEvent.created_at)).where(
            ThrottleEvent.subject == subject,
            ThrottleEvent.action == action,
            ThrottleEvent.created_at > since,
        )
        return await self._session.scalar(query)

    def add(self, subject: str, action: str, at: datetime) -> None:
        self._session.add(ThrottleEvent(subject=subject, action=action, created_at=at))

    async def clear(self, subject: str, action: str) -> None:
        await self._session.execute(
            delete(ThrottleEvent).where(
                ThrottleEvent.subject == subject, ThrottleEvent.action == action
            )
        )
