"""The transcript: every message in and out of a conversation, for agents and disputes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.services.clock import Clock
from storage.enums import Direction
from storage.uow import UnitOfWork


@dataclass(slots=True)
class TranscriptLine:
    direction: Direction
    kind: str
    text: str | None = None
    telegram_message_id: int | None = None
    payload: dict[str, Any] | None = None
    at: datetime | None = None


@dataclass(slots=True)
class TranscriptBuffer:
    """Lines gathered while one update is handled, written together at its end."""

    lines: list[TranscriptLine] = field(default_factory=list)

    def add(self, line: TranscriptLine) -> None:
        self.lines.append(line)


class TranscriptService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(self, conversation_id: int, lines: list[TranscriptLine]) -> None:
        if not lines:
            return
        now = self._clock.now()
        async with self._uow.transaction():
            await self._add(conversation_id, lines, now)

    async def stage(self, conversation_id: int, lines: list[TranscriptLine]) -> None:
        """Write the lines in the caller's transaction (an update's own, as it commits)."""
        if lines:
            await self._add(conversation_id, lines, self._clock.now())

    async def _add(self, conversation_id: int, lines: list[TranscriptLine], now: datetime) -> None:
        await self._uow.conversations.add_entries(
            {
                "conversation_id": conversation_id,
                "direction": line.direction,
                "kind": line.kind,
                "text": line.text,
                "telegram_message_id": line.telegram_message_id,
                "payload": line.payload,
                "created_at": line.at or now,
            }
            for line in lines
        )
        await self._uow.conversations.touch(conversation_id, now)
