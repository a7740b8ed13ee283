"""The update inbox: Telegram updates recorded before they are acknowledged.

Every write is one statement, so it can share a transaction with other work. Claims
are leases: `claimed_by` owns a row until `claimed_until`; an unhandled row whose
lease ran out is free for any worker to take (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
SQLite serialises writers anyway).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import conflict_insert
from storage.models import InboxUpdate

_TABLE = InboxUpdate.__table__


@dataclass(frozen=True, slots=True)
class ClaimedUpdate:
    update_id: int
    payload: dict[str, Any]
    attempts: int


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self, rows: Sequence[Mapping[str, Any]], owner: str, until: datetime, now: datetime
    ) -> list[int]:
        """Insert the updates claimed by `owner`; return the ids this call claimed.

        A row already there is claimed only when it is unhandled and its lease ran out
        (its worker died); one handled, or in another worker's hands, is a duplicate.
        """
        unique = {row["update_id"]: row for row in rows}  # one statement may touch a row once
        if not unique:
            return []
        values = [
            {
                "update_id": row["update_id"],
                "chat_id": row.get("chat_id"),
                "payload": row["payload"],
                "received_at": now,
                "claimed_by": owner,
                "claimed_until": until,
                "attempts": 0,
            }
            for row in unique.values()
        ]
        statement = conflict_insert(self._dialect, InboxUpdate).values(values)
        claim = statement.on_conflict_do_update(
            index_elements=[InboxUpdate.update_id],
            set_={
                "claimed_by": statement.excluded.claimed_by,
                "claimed_until": statement.excluded.claimed_until,
            },
            where=_TABLE.c.handled_at.is_(None) & (_TABLE.c.claimed_until < now),
        ).returning(InboxUpdate.update_id)
        return sorted((await self._session.scalars(claim)).all())

    async def claim_due(
        self, owner: str, until: datetime, now: datetime, limit: int
    ) -> list[ClaimedUpdate]:
        """Take up to `limit` unhandled updates whose lease ran out, oldest first."""
        due = (
            select(InboxUpdate.update_id)
            .where(InboxUpdate.handled_at.is_(None), InboxUpdate.claimed_until < now)
            .order_by(InboxUpdate.update_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(due), InboxUpdate.handled_at.is_(None))
            .values(claimed_by=owner, claimed_until=until)
            .returning(InboxUpdate.update_id, InboxUpdate.payload, InboxUpdate.attempts)
            .execution_options(synchronize_session=False)
        )
        rows = (await self._session.execute(statement)).all()
        claimed = (ClaimedUpdate(row[0], row[1], row[2]) for row in rows)
        return sorted(claimed, key=lambda item: item.update_id)

    async def expire_owner(self, owner: str, now: datetime) -> None:
        """End `owner`'s leases: a restarted worker's unfinished updates are due at once."""
        await self._session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.claimed_by == owner, InboxUpdate.handled_at.is_(None))
            .values(claimed_until=now - timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )

    async def mark_handled(self, handled_at: Mapping[int, datetime], outcome: str) -> None:
        """The updates are finished (handled, dropped as a flood, or failed for good), each
        at its own time: a group commit marks updates that finished at different moments,
        and a chat's updates must stay in the order they were handled."""
        if not handled_at:
            return
        times = set(handled_at.values())
        when: Any = (
            times.pop()
            if len(times) == 1
            else case(
                {
                    update_id: literal(at, _TABLE.c.handled_at.type)
                    for update_id, at in handled_at.items()
                },
                value=InboxUpdate.update_id,
            )
        )
        await self._session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(handled_at), InboxUpdate.handled_at.is_(None))
            .values(handled_at=when, outcome=outcome, claimed_until=None)
            .execution_options(synchronize_session=False)
        )

    async def release(self, update_id: int, owner: str, retry_at: datetime) -> None:
        """Hand an unfinished update back, to be replayed from `retry_at` on."""
        await self._session.execute(
            update(InboxUpdate)
            .where(
                InboxUpdate.update_id == update_id,
                InboxUpdate.claimed_by == owner,
                InboxUpdate.handled_at.is_(None),
            )
            .values(claimed_until=retry_at, attempts=InboxUpdate.attempts + 1)
            .execution_options(synchronize_session=False)
        )

    async def renew(self, owner: str, update_ids: Collection[int], until: datetime) -> None:
        """Extend the leases of the updates this worker is still handling."""
        if update_ids:
            await self._session.execute(
                update(InboxUpdate)
                .where(
                    InboxUpdate.update_id.in_(update_ids),
                    InboxUpdate.claimed_by == owner,
                    InboxUpdate.handled_at.is_(None),
                )
                .values(claimed_until=until)
                .execution_options(synchronize_session=False)
            )

    async def purge(self, received_before: datetime) -> tuple[int, int]:
        """Forget updates received before the cut-off: (handled, never handled) counts."""
        unhandled = await self._session.scalar(
            select(func.count()).where(
                InboxUpdate.received_at < received_before, InboxUpdate.handled_at.is_(None)
            )
        )
        result = await self._session.execute(
            delete(InboxUpdate)
            .where(InboxUpdate.received_at < received_before)
            .execution_options(synchronize_session=False)
        )
        deleted = int(getattr(result, "rowcount", 0) or 0)
        return deleted - (unhandled or 0), unhandled or 0

    async def forget_chats(self, chat_ids: Collection[int]) -> int:
        """Delete what the inbox holds from these chats (erasure)."""
        if not chat_ids:
            return 0
        result = await self._session.execute(
            delete(InboxUpdate)
            .where(InboxUpdate.chat_id.in_(chat_ids))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def forget_threads(self, group_chat_id: int, thread_ids: Collection[int]) -> int:
        """Delete what the inbox holds from these forum topics of a group (erasure): the
        agents' messages there may name the customer. Read in Python, as the thread is in
        the JSON payload; the inbox keeps only a few days of a group's updates."""
        if not thread_ids:
            return 0
        rows = await self._session.execute(
            select(InboxUpdate.update_id, InboxUpdate.payload).where(
                InboxUpdate.chat_id == group_chat_id
            )
        )
        doomed = [update_id for update_id, payload in rows if _thread(payload) in thread_ids]
        if not doomed:
            return 0
        result = await self._session.execute(
            delete(InboxUpdate)
            .where(InboxUpdate.update_id.in_(doomed))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def get(self, update_id: int) -> InboxUpdate | None:
        return await self._session.get(InboxUpdate, update_id)

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name


def _thread(payload: dict[str, Any]) -> int | None:
    """The forum topic an update's message was in, if any."""
    for key in ("message", "edited_message", "callback_query"):
        message = payload.get(key)
        if isinstance(message, dict) and key == "callback_query":
            message = message.get("message")
        if isinstance(message, dict):
            thread = message.get("message_thread_id")
            return thread if isinstance(thread, int) else None
    return None
