"""Conversations and their transcripts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Table, bindparam, case, insert, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ConversationStatus, Direction
from storage.models import Conversation, TranscriptEntry

# Built once: every update's transcript is written with these.
# render_nulls: rows with and without a message id or payload share one statement (one
# round trip) instead of one batch per set of non-null keys.
_ADD_ENTRIES = insert(TranscriptEntry).execution_options(render_nulls=True)
_TRANSCRIPT = cast(Table, TranscriptEntry.__table__)
_LINES = _TRANSCRIPT.c
_CONVERSATIONS = Conversation.__table__.c
_ERASED = _CONVERSATIONS.telegram_user_id < 0  # renamed by bot.services.erasure


def _line(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=_LINES[name].type)


# One line per set of parameters (run as executemany: one round trip), blank when its
# conversation's account was erased. The conversation is locked for share on PostgreSQL.
_ADD_LINES = insert(_TRANSCRIPT).from_select(
    (
        "conversation_id",
        "direction",
        "kind",
        "text",
        "telegram_message_id",
        "payload",
        "created_at",
    ),
    select(
        _CONVERSATIONS.id,
        _line("direction"),
        _line("kind"),
        case((_ERASED, null()), else_=_line("text")),
        _line("telegram_message_id"),
        case((_ERASED, null()), else_=_line("payload")),
        _line("created_at"),
    )
    .where(_CONVERSATIONS.id == bindparam("conversation_id"))
    .with_for_update(read=True),
)


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, conversation_id: int) -> Conversation | None:
        return await self._session.get(Conversation, conversation_id)

    async def open_for_chat(self, chat_id: int) -> Conversation | None:
        return await self._session.scalar(
            select(Conversation)
            .where(Conversation.chat_id == chat_id, Conversation.status == ConversationStatus.OPEN)
            .order_by(Conversation.id.desc())
            .limit(1)
        )

    def add(self, conversation: Conversation) -> None:
        self._session.add(conversation)

    async def add_entries(self, entries: Iterable[dict[str, Any]]) -> None:
        """Insert transcript lines in one statement (they are never read back here)."""
        rows = list(entries)
        if rows:
            await self._session.execute(_ADD_ENTRIES, rows)

    async def add_lines(self, lines: Iterable[dict[str, Any]]) -> None:
        """Insert transcript lines in one round trip, written blank (no text, no payload)
        where the conversation's account was erased (renamed to a negative pseudonym,
        bot.services.erasure) since they were said: `cancelbot forget` does not wait for
        the updates in flight. Each line's conversation is locked for share on
        PostgreSQL: an erasure under way waits for the caller's commit, then blanks what
        it wrote too."""
        rows = list(lines)
        if rows:  # as the FSM upsert (storage.fsm): on the connection, not through the ORM
            connection = await self._session.connection()
            await connection.execute(_ADD_LINES, rows)

    async def attribute_open(self, telegram_user_id: int, customer_id: int) -> None:
        """The account's open conversations not yet attributed to a customer now are
        this one's (the account has just been linked to it)."""
        await self._session.execute(
            update(Conversation)
            .where(
                Conversation.telegram_user_id == telegram_user_id,
                Conversation.status == ConversationStatus.OPEN,
                Conversation.customer_id.is_(None),
            )
            .values(customer_id=customer_id)
            .execution_options(synchronize_session=False)
        )

    async def touch(self, conversation_id: int, at: datetime) -> None:
        await self._session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_activity_at=at)
        )

    async def last_incoming_payload(self, conversation_id: int) -> dict[str, Any] | None:
        """The payload of the customer's latest line in the conversation (None without one)."""
        return await self._session.scalar(
            select(TranscriptEntry.payload)
            .where(
                TranscriptEntry.conversation_id == conversation_id,
                TranscriptEntry.direction == Direction.IN,
            )
            .order_by(TranscriptEntry.id.desc())
            .limit(1)
        )

    async def transcript(self, conversation_id: int) -> Sequence[TranscriptEntry]:
        return (
            await self._session.scalars(
                select(TranscriptEntry)
                .where(TranscriptEntry.conversation_id == conversation_id)
                .order_by(TranscriptEntry.id)
            )
        ).all()

    async def latest_id_for_chat(self, chat_id: int) -> int | None:
        """The chat's most recent conversation, open or not (a notice belongs to it)."""
        return await self._session.scalar(
            select(Conversation.id)
            .where(Conversation.chat_id == chat_id)
            .order_by(Conversation.id.desc())
            .limit(1)
        )

    async def for_chat(self, chat_id: int) -> Sequence[Conversation]:
        return (
            await self._session.scalars(
                select(Conversation)
                .where(Conversation.chat_id == chat_id)
                .order_by(Conversation.id)
            )
        ).all()
