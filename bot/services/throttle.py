"""Attempt limits kept in the database, so they hold across restarts and processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.clock import Clock
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Allowance:
    allowed: bool
    remaining: int
    retry_at: datetime | None


class Throttle:
    """Count failures per (subject, action) in a sliding window.

    A helper of other services: it runs inside their transaction and opens none.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def check(self, subject: str, action: str, limit: Limit) -> Allowance:
        now = self._clock.now()
        since = now - limit.window
        used = await self._uow.throttle.count_since(subject, action, since)
        if used < limit.attempts:
            return Allowance(allowed=True, remaining=limit.attempts - used, retry_at=None)
        oldest = await self._uow.throttle.oldest_since(subject, action, since)
        return Allowance(allowed=False, remaining=0, retry_at=(oldest or now) + limit.window)

    def record(self, subject: str, action: str) -> None:
        """Stage one counted attempt in the caller's transaction."""
        self._uow.throttle.add(subject, action, self._clock.now())

    async def reset(self, subject: str, action: str) -> None:
        await self._uow.throttle.clear(subject, action)
