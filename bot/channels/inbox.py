"""The update inbox: nothing Telegram sends is lost, nothing is handled twice.

aiogram acknowledges updates before handling them (polling moves the offset with the
next getUpdates; a webhook in background mode answers at once), so a process that dies
loses the updates it was handling. Here each update is written to `update_inbox`
before Telegram is told it arrived, claimed by one worker for a lease that is renewed
while it works, and marked handled when its handler returned. Whatever was recorded
but not finished (a worker killed, the database or Redis down) is replayed by any
worker once its lease ran out, and by a restarted worker at once. `update_id` is the
primary key, so a redelivered update (a webhook timeout, an unconfirmed offset) is
recognised on any worker: the set of ids seen, not a watermark.

Handling is at least once in one case only: a worker that dies after a handler's
work committed but before the update was marked handled. The replay then meets the
database's own exactly-once guards (one cancellation, one refund per request).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Update

from bot.services.domain.clock import Clock, SystemClock
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

HANDLED, DROPPED, FAILED = "handled", "dropped", "failed"
RETRY_BACKOFF_MAX = timedelta(seconds=60)


@dataclass(slots=True)
class Delivery:
    """How one update's trip through the dispatcher went; read by the runner afterwards."""

    update_id: int
    attempts: int = 0
    completed: bool = False
    """The dispatcher returned normally (a handler ran, or no handler matched)."""
    marked: bool = False
    retry: bool = False
    """An outage stopped it; the inbox replays it later."""
    dropped: bool = False
    """The flood guard dropped it before the dispatcher saw it."""


@dataclass(slots=True)
class InboxMark:
    """An update handled, to mark in the inbox: in the update's last commit or, when it has
    nothing else to commit, in a group commit shortly after (storage.group_commit). The
    update stays in flight (its lease renewed) until the mark is committed."""

    inbox: UpdateInbox
    update_id: int
    at: datetime

    @classmethod
    async def write_all(cls, uow: UnitOfWork, items: Sequence[InboxMark]) -> None:
        await uow.inbox.mark_handled({item.update_id: item.at for item in items}, HANDLED)

    def settled(self) -> None:
        self.inbox.in_flight.discard(self.update_id)


_delivery: ContextVar[Delivery | None] = ContextVar("inbox_delivery", default=None)


def current_delivery() -> Delivery | None:
    """The inbox delivery of the update being handled (None outside the inbox: the shell)."""
    return _delivery.get()


def bind_delivery(delivery: Delivery) -> None:
    """Make `delivery` the current one for this task (the runner does it per update)."""
    _delivery.set(delivery)


def worker_name(configured: str | None, port: int, index: int | None = None) -> str:
    """WORKER_NAME, else host and port; workers sharing a port add their index.

    Stable across restarts on purpose: a restarted worker takes its own unfinished
    updates back at once instead of waiting for their leases to run out. Two live
    processes must never share a name.
    """
    name = configured or f"{socket.gethostname()}:{port}"
    return name if index is None else f"{name}/{index}"


def chat_of(update: Update) -> int | None:
    context = UserContextMiddleware.resolve_event_context(update)
    return context.chat.id if context.chat else (context.user.id if context.user else None)


class UpdateInbox:
    """The inbox as one process uses it: its name, its lease and its updates in flight."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        owner: str,
        *,
        lease: timedelta,
        retention: timedelta,
        clock: Clock | None = None,
    ) -> None:
        self._uow = uow
        self.owner = owner
        self.lease = lease
        self.retention = retention
        # Leases are wall-clock time, not the business clock tests freeze.
        self._clock = clock or SystemClock()
        self.in_flight: set[int] = set()

    async def record(self, updates: Sequence[Update]) -> list[Update]:
        """Write a batch in one statement; return the updates this worker must handle.

        Raises when the database is unavailable: the caller must then not acknowledge
        the batch (polling keeps its offset, the webhook answers 503).
        """
        now = self._clock.now()
        rows = [
            {
                "update_id": update.update_id,
                "chat_id": chat_of(update),
                "payload": update.model_dump(mode="json", exclude_none=True, by_alias=True),
            }
            for update in updates
        ]
        async with self._uow() as uow, uow.transaction():
            claimed = set(await uow.inbox.record(rows, self.owner, now + self.lease, now))
        mine = []
        for update in updates:
            if update.update_id in claimed:
                claimed.discard(update.update_id)  # a batch naming an update twice
                mine.append(update)
        self.in_flight.update(update.update_id for update in mine)
        return mine

    async def claim_due(self, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
        """Unfinished updates whose lease ran out, as (payload, attempts so far)."""
        now = self._clock.now()
        async with self._uow() as uow, uow.transaction():
            claimed = await uow.inbox.claim_due(self.owner, now + self.lease, now, limit)
        self.in_flight.update(item.update_id for item in claimed)
        return [(item.payload, item.attempts) for item in claimed]

    async def take_back_own(self) -> None:
        """At start: this worker's unfinished updates from before a crash are due now."""
        async with self._uow() as uow, uow.transaction():
            await uow.inbox.expire_owner(self.owner, self._clock.now())

    async def mark(self, update_ids: Sequence[int], outcome: str) -> None:
        """One statement; the update is finished and never replayed."""
        async with self._uow() as uow, uow.transaction():
            await uow.inbox.mark_handled(dict.fromkeys(update_ids, self._clock.now()), outcome)
        self.in_flight.difference_update(update_ids)

    def handled(self, update_id: int) -> InboxMark:
        """The mark of an update handled, for its last commit or a group commit."""
        return InboxMark(self, update_id, self._clock.now())

    async def release(self, delivery: Delivery) -> None:
        """Hand an update back after an outage; it is replayed after a growing pause."""
        pause = min(timedelta(seconds=2 ** min(delivery.attempts + 1, 6)), RETRY_BACKOFF_MAX)
        self.in_flight.discard(delivery.update_id)
        async with self._uow() as uow, uow.transaction():
            await uow.inbox.release(delivery.update_id, self.owner, self._clock.now() + pause)

    def forget(self, update_id: int) -> None:
        """Stop renewing an update's lease (its outcome could not be written)."""
        self.in_flight.discard(update_id)

    async def renew(self) -> None:
        """Extend the leases of the updates still being handled here."""
        ids = sorted(self.in_flight)
        if ids:
            async with self._uow() as uow, uow.transaction():
                await uow.inbox.renew(self.owner, ids, self._clock.now() + self.lease)

    async def purge(self) -> None:
        """Forget updates older than the retention (Telegram redelivers for 24 h at most)."""
        cutoff = self._clock.now() - self.retention
        async with self._uow() as uow, uow.transaction():
            handled, unhandled = await uow.inbox.purge(cutoff)
        if unhandled:
            log.warning("inbox: gave up on %d updates never handled since %s", unhandled, cutoff)
        if handled:
            log.info("inbox: forgot %d handled updates received before %s", handled, cutoff)
