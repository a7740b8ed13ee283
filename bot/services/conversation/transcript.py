"""The transcript: every message in and out of a conversation, for agents and disputes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.services.domain.clock import Clock
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


MISUNDERSTOOD = "misunderstood"
# An update's transcript moves the conversation's last activity on only this stale: the
# conversation closes after a quiet day (bot.services.linking.identity), so a minute's
# precision costs nothing and saves an UPDATE on nearly every update.
TOUCH_EVERY = timedelta(minutes=1)
"""Payload key of an incoming line the bot could not make sense of."""


@dataclass(slots=True)
class TranscriptBuffer:
    """Lines gathered while one update is handled, written together at its end."""

    lines: list[TranscriptLine] = field(default_factory=list)

    def add(self, line: TranscriptLine) -> None:
        self.lines.append(line)

    def mark_misunderstood(self) -> None:
        """The message (or press) this update brought was not understood: say so on its line,
        so the next one can tell whether it is the second in a row."""
        for line in self.lines:
            if line.direction is Direction.IN:
                line.payload = {**(line.payload or {}), MISUNDERSTOOD: True}
                return


class TranscriptService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def misunderstood_before(self, conversation_id: int) -> bool:
        """Whether the customer's previous message in this conversation was not understood
        either. Anything understood in between (a word, a press, a command) breaks the row,
        at any step of any flow and outside them, with no counter to reset."""
        async with self._uow.transaction():
            payload = await self._uow.conversations.last_incoming_payload(conversation_id)
        return bool(payload and payload.get(MISUNDERSTOOD))

    async def record(self, conversation_id: int, lines: list[TranscriptLine]) -> None:
        if not lines:
            return
        now = self._clock.now()
        async with self._uow.transaction():
            await self._add(conversation_id, lines, now)

    async def stage(
        self, conversation_id: int, lines: list[TranscriptLine], active_at: datetime | None
    ) -> None:
        """Write the lines in the caller's transaction (an update's own, as it commits).
        `active_at`: the conversation's last activity as the update loaded it; it is moved
        on only when older than TOUCH_EVERY (a round trip saved on most updates)."""
        if not lines:
            return
        now = self._clock.now()
        touch = active_at is None or now - active_at >= TOUCH_EVERY
        await self._add(conversation_id, lines, now, touch=touch)

    async def _add(
        self,
        conversation_id: int,
        lines: list[TranscriptLine],
        now: datetime,
        *,
        touch: bool = True,
    ) -> None:
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
        if touch:
            await self._uow.conversations.touch(conversation_id, now)
