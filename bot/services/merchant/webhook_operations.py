"""For operators: the events the merchant's webhook gave up on, and sending them again.

An event is `failed` once its last attempt failed (the endpoint was down for longer than
the retries last, or refused it). After the merchant fixed their side, `retry` puts it
back in the queue with its attempts counted afresh, the same event id and payload, so the
merchant still deduplicates on the id. A retried event may arrive after newer events of
the same customer that went out meanwhile; each payload carries the time it happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.services.domain.clock import Clock
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class FailedEvent:
    event_id: str
    type: str
    created_at: datetime
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Requeued:
    count: int
    not_failed: tuple[str, ...]
    """Event ids asked for that are not failed events (unknown, pending or delivered)."""


class WebhookOperations:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def failed(self, limit: int = 100) -> list[FailedEvent]:
        """The newest failed events first."""
        async with self._uow.transaction(reads_first=True):
            rows = await self._uow.webhooks.failed(limit)
        return [
            FailedEvent(row.event_id, row.type, row.created_at, row.attempts, row.last_error)
            for row in rows
        ]

    async def retry(self, event_ids: Sequence[str] | None) -> Requeued:
        """Send the named failed events again (None: every failed event)."""
        async with self._uow.transaction():
            not_failed: tuple[str, ...] = ()
            if event_ids is not None:
                found = {row.event_id for row in await self._uow.webhooks.failed_among(event_ids)}
                not_failed = tuple(dict.fromkeys(i for i in event_ids if i not in found))
            count = await self._uow.webhooks.requeue_failed(event_ids, now=self._clock.now())
        return Requeued(count, not_failed)
