"""The merchant's outbox: webhook events staged with their cause, claimed by senders.

Services stage an event with a builder that runs when the unit of work commits, after
a flush, so its payload can carry ids the database has only just given (a new refund's,
a new request's) and still be written in the same transaction as the change. When the
webhook is off (no MERCHANT_WEBHOOK_URL) staging does nothing: nothing is queued.

Senders claim due events with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on
SQLite every write transaction is BEGIN IMMEDIATE, so claims are serialised) and record
each outcome with an update that succeeds only while the lease is still theirs. Only the
oldest pending event of an ordering key (a customer) is claimable, so one customer's
events arrive in the order they happened, and a stuck one holds back only that customer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.enums import WebhookStatus
from storage.models import WebhookEvent

BuildEvent = Callable[[], Awaitable[WebhookEvent]]
"""Makes the event's row at commit time, once the flush has given every new row its id."""

_PENDING = WebhookEvent.status == WebhookStatus.PENDING


class WebhookRepository:
    def __init__(self, session: AsyncSession, *, enabled: bool) -> None:
        self._session = session
        self.enabled = enabled
        self._staged: list[BuildEvent] = []

    # -- the services' side ---------------------------------------------------------------

    def stage(self, build: BuildEvent) -> None:
        """Queue an event to be written when this transaction commits; nothing when off."""
        if self.enabled:
            self._staged.append(build)

    async def write_staged(self) -> None:
        """Called by the unit of work just before it commits."""
        while self._staged:
            await self._session.flush()
            staged, self._staged = self._staged, []
            for build in staged:
                self._session.add(await build())

    def discard_staged(self) -> None:
        """The transaction was rolled back: its events never happened."""
        self._staged.clear()

    # -- reading ------------------------------------------------------------------------------

    async def by_dedupe_key(self, key: str) -> WebhookEvent | None:
        return await self._session.scalar(
            select(WebhookEvent).where(WebhookEvent.dedupe_key == key)
        )

    async def count_pending(self) -> int:
        return await self._session.scalar(select(func.count()).where(_PENDING)) or 0

    async def failed(self, limit: int = 100) -> Sequence[WebhookEvent]:
        """Events given up on, newest first, for operators."""
        return (
            await self._session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.status == WebhookStatus.FAILED)
                .order_by(WebhookEvent.id.desc())
                .limit(limit)
            )
        ).all()

    async def failed_among(self, event_ids: Collection[str]) -> Sequence[WebhookEvent]:
        return (
            await self._session.scalars(
                select(WebhookEvent).where(
                    WebhookEvent.status == WebhookStatus.FAILED,
                    WebhookEvent.event_id.in_(event_ids),
                )
            )
        ).all()

    async def requeue_failed(self, event_ids: Collection[str] | None, *, now: datetime) -> int:
        """Failed events (those named, or every one) back in the queue, due now, with their
        attempts counted afresh; the last error stays until the next attempt replaces it."""
        statement = update(WebhookEvent).where(WebhookEvent.status == WebhookStatus.FAILED)
        if event_ids is not None:
            statement = statement.where(WebhookEvent.event_id.in_(event_ids))
        result = await self._session.execute(
            statement.values(
                status=WebhookStatus.PENDING,
                attempts=0,
                available_at=now,
                lease_owner=None,
                lease_until=None,
            ).execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], result).rowcount

    # -- the sender's side ------------------------------------------------------------------

    async def claim(
        self, *, owner: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[WebhookEvent]:
        """Lease up to `limit` due events, each the oldest pending one of its ordering key."""
        older = aliased(WebhookEvent)
        has_older_pending = exists().where(
            older.ordering_key == WebhookEvent.ordering_key,
            older.status == WebhookStatus.PENDING,
            older.id < WebhookEvent.id,
        )
        rows = list(
            (
                await self._session.scalars(
                    select(WebhookEvent)
                    .where(
                        _PENDING,
                        WebhookEvent.available_at <= now,
                        or_(WebhookEvent.lease_until.is_(None), WebhookEvent.lease_until < now),
                        ~has_older_pending,
                    )
                    .order_by(WebhookEvent.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        for row in rows:
            row.lease_owner, row.lease_until = owner, lease_until
        await self._session.flush()
        return rows

    async def mark_delivered(self, event_id: int, owner: str, *, at: datetime) -> bool:
        return await self._finish(
            event_id,
            owner,
            status=WebhookStatus.DELIVERED,
            delivered_at=at,
            attempts=WebhookEvent.attempts + 1,
            last_error=None,
        )

    async def reschedule(
        self, event_id: int, owner: str, *, available_at: datetime, error: str
    ) -> bool:
        """A failed attempt: back to the queue until `available_at`, lease handed back."""
        return await self._finish(
            event_id,
            owner,
            lease_owner=None,
            available_at=available_at,
            attempts=WebhookEvent.attempts + 1,
            last_error=error,
        )

    async def give_up(self, event_id: int, owner: str, *, error: str) -> bool:
        """The last attempt failed too: `failed` for good, with the reason for operators."""
        return await self._finish(
            event_id,
            owner,
            status=WebhookStatus.FAILED,
            attempts=WebhookEvent.attempts + 1,
            last_error=error,
        )

    async def _finish(self, event_id: int, owner: str, **values: Any) -> bool:
        statement = (
            update(WebhookEvent)
            .where(WebhookEvent.id == event_id, WebhookEvent.lease_owner == owner, _PENDING)
            .values(lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        result = await self._session.execute(statement)
        return cast(CursorResult[Any], result).rowcount == 1
