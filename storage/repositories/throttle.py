"""Counted attempts, kept in the database so limits hold across restarts and processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TelegramUser, ThrottleEvent


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

    async def lock_account(self, telegram_user_id: int) -> None:
        """Hold the account's row (PostgreSQL) so its attempts are counted one at a time.

        Counting and then recording is atomic only while no other transaction can count
        for the same subject in between; on SQLite every writer already holds the
        database's write lock (see storage.db).
        """
        await self._session.execute(
            select(TelegramUser.id).where(TelegramUser.id == telegram_user_id).with_for_update()
        )
