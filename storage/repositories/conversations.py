"""Conversations and their transcripts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ConversationStatus
from storage.models import Conversation, TranscriptEntry


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

    def add_entries(self, entries: Iterable[TranscriptEntry]) -> None:
        self._session.add_all(list(entries))

    async def transcript(self, conversation_id: int) -> Sequence[TranscriptEntry]:
        return (
            await self._session.scalars(
                select(TranscriptEntry)
                .where(TranscriptEntry.conversation_id == conversation_id)
                .order_by(TranscriptEntry.id)
            )
        ).all()

    async def for_chat(self, chat_id: int) -> Sequence[Conversation]:
        return (
            await self._session.scalars(
                select(Conversation)
                .where(Conversation.chat_id == chat_id)
                .order_by(Conversation.id)
            )
        ).all()
