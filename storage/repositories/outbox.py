"""The outbox: messages owed to customers, staged in the caller's transaction.

Services only `add` rows. The notifier claims them (`claim`), and records each
outcome with an update that succeeds only while its lease is still its own, so a
notifier whose lease ran out can never overwrite the work of the one that took over.
A settled row (sent, failed, unreachable) keeps `lease_owner`: the notifier that
settled it. See bot.channels.notifier for the rules these queries implement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.enums import OutboxStatus
from storage.models import OutboxMessage

COALESCED_INTO = "coalesced into "
"""`last_error` of a row superseded by a newer one: "coalesced into <id of the newer row>"."""

_PENDING = OutboxMessage.status == OutboxStatus.PENDING
_group_chat = OutboxMessage.chat_id < 0


@dataclass
class Claim:
    """Rows leased to one notifier, in sending order (chat by chat, oldest first)."""

    rows: list[OutboxMessage] = field(default_factory=list)
    coalesced: int = 0


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
                select(OutboxMessage).where(_PENDING).order_by(OutboxMessage.id).limit(limit)
            )
        ).all()

    async def count_pending(self) -> int:
        count = await self._session.scalar(select(func.count()).where(_PENDING))
        return count or 0

    async def undelivered(self, limit: int = 100) -> Sequence[OutboxMessage]:
        """Messages given up on (failed or unreachable), newest first, for operators."""
        return (
            await self._session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.UNREACHABLE)))
                .order_by(OutboxMessage.id.desc())
                .limit(limit)
            )
        ).all()

    # -- the notifier's side ------------------------------------------------------------------

    async def claim(
        self,
        *,
        owner: str,
        now: datetime,
        lease_until: datetime,
        max_rows: int,
        max_per_chat: int,
        groups: bool | None = None,
    ) -> Claim:
        """Lease up to `max_rows` due rows to `owner`, whole chats at a time.

        A chat is claimable when its oldest pending row is due and unleased; those head
        rows are locked with SKIP LOCKED, so concurrent notifiers take different chats.
        Then every pending row of the chosen chats is locked and walked in id order:
        rows superseded by a newer one with the same coalesce key are marked coalesced,
        and the rest are leased until the first that is not due yet (order within a
        chat is kept), at most `max_per_chat` a chat. `groups` claims only group chats
        (True) or only people's (False): the notifier sends the two separately.
        """
        heads = await self._due_heads(now, max_rows, groups)
        if not heads:
            return Claim()
        queues = await self._pending_of_chats([head.chat_id for head in heads])
        claim = Claim()
        for head in heads:
            room = min(max_per_chat, max_rows - len(claim.rows))
            if room <= 0:
                break
            taken, superseded = _walk(queues[head.chat_id], now, room)
            claim.rows += taken
            for row, newer in superseded:
                row.status, row.last_error = OutboxStatus.SENT, f"{COALESCED_INTO}{newer}"
                row.lease_owner, row.lease_until = owner, None
            claim.coalesced += len(superseded)
        for row in claim.rows:
            row.lease_owner, row.lease_until = owner, lease_until
        await self._session.flush()
        return claim

    async def mark_sent(
        self, message_id: int, owner: str, *, at: datetime, telegram_message_id: int | None
    ) -> bool:
        """`telegram_message_id` None: done, with nothing sent (e.g. a name already right)."""
        return await self._finish(
            message_id,
            owner,
            lease_owner=owner,
            status=OutboxStatus.SENT,
            sent_at=at,
            telegram_message_id=telegram_message_id,
            last_error=None,
        )

    async def reschedule(
        self,
        message_id: int,
        owner: str,
        *,
        available_at: datetime,
        error: str,
        count_attempt: bool,
    ) -> bool:
        """Back to the queue until `available_at`; a 429 is not counted as an attempt."""
        attempts = OutboxMessage.attempts + (1 if count_attempt else 0)
        return await self._finish(
            message_id,
            owner,
            lease_owner=None,
            available_at=available_at,
            last_error=error,
            attempts=attempts,
        )

    async def give_up(
        self, message_id: int, owner: str, *, status: OutboxStatus, error: str
    ) -> bool:
        """Failed or unreachable for good, with the reason kept for operators."""
        return await self._finish(
            message_id,
            owner,
            lease_owner=owner,
            status=status,
            last_error=error,
            attempts=OutboxMessage.attempts + 1,
        )

    async def release(self, message_ids: Sequence[int], owner: str) -> int:
        """Hand back rows this owner leased but did not try, so anyone may claim them now."""
        if not message_ids:
            return 0
        return await self._update(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids), OutboxMessage.lease_owner == owner, _PENDING)
            .values(lease_owner=None, lease_until=None)
        )

    async def _due_heads(
        self, now: datetime, limit: int, groups: bool | None
    ) -> Sequence[OutboxMessage]:
        """`groups`: True only group chats (negative ids), False only people, None both."""
        older = aliased(OutboxMessage)
        has_older_pending = exists().where(
            older.chat_id == OutboxMessage.chat_id,
            older.status == OutboxStatus.PENDING,
            older.id < OutboxMessage.id,
        )
        return (
            await self._session.scalars(
                select(OutboxMessage)
                .where(
                    _PENDING,
                    OutboxMessage.available_at <= now,
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    ~has_older_pending,
                    *([] if groups is None else [_group_chat if groups else ~_group_chat]),
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def _pending_of_chats(self, chat_ids: list[int]) -> dict[int, list[OutboxMessage]]:
        # No SKIP LOCKED, so a chat's queue has no gaps. The heads are ours; another
        # notifier locks rows of these chats only for a short mark (of a row whose lease
        # expired under it), which this waits for.
        rows = await self._session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id.in_(chat_ids), _PENDING)
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
        queues: dict[int, list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            queues[row.chat_id].append(row)
        return queues

    async def _finish(self, message_id: int, owner: str, **values: Any) -> bool:
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner, _PENDING)
            .values(lease_until=None, **values)
        )
        return await self._update(statement) == 1

    async def _update(self, statement: Update) -> int:
        result = await self._session.execute(statement.execution_options(synchronize_session=False))
        return cast(CursorResult[Any], result).rowcount


def _walk(
    queue: list[OutboxMessage], now: datetime, room: int
) -> tuple[list[OutboxMessage], list[tuple[OutboxMessage, int]]]:
    """One chat's pending rows in id order -> (rows to send, (superseded row, newer id)).

    The walk stops at the first row that is not due or is leased (order is kept),
    and once `room` rows are taken.
    """
    newest = {row.coalesce_key: row.id for row in queue if row.coalesce_key is not None}
    taken: list[OutboxMessage] = []
    superseded: list[tuple[OutboxMessage, int]] = []
    for row in queue:
        leased = row.lease_until is not None and row.lease_until >= now
        if row.available_at > now or leased or len(taken) == room:
            break
        newer = newest.get(row.coalesce_key) if row.coalesce_key is not None else None
        if newer is not None and newer != row.id:
            superseded.append((row, newer))
        else:
            taken.append(row)
    return taken, superseded
