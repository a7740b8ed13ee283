"""The transcript: every message in and out of a conversation, for agents and disputes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

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


@dataclass(slots=True)
class TranscriptLines:
    """One update's lines, written at its last commit or, when nothing else is left to
    commit, by the group commit shortly after (storage.group_commit) with other updates'.

    `at`: when the update ended, the lines' time. `active_at`: the conversation's last
    activity as the update loaded it; it is moved on only when older than TOUCH_EVERY."""

    conversation_id: int
    lines: list[TranscriptLine]
    at: datetime
    active_at: datetime | None

    @classmethod
    async def write_all(cls, uow: UnitOfWork, items: Sequence[TranscriptLines]) -> None:
        """All the lines in one round trip; a customer erased since they spoke (`cancelbot
        forget` does not wait for the updates in flight) has their words written blank,
        as the erasure left the rest of the transcript (`ConversationRepository.add_lines`)."""
        await uow.conversations.add_lines(
            _entry(item.conversation_id, line, item.at) for item in items for line in item.lines
        )
        stale: dict[int, datetime] = {}
        for item in items:
            if item.lines and (item.active_at is None or item.at - item.active_at >= TOUCH_EVERY):
                stale[item.conversation_id] = max(item.at, stale.get(item.conversation_id, item.at))
        for conversation_id, at in stale.items():
            await uow.conversations.touch(conversation_id, at)

    def settled(self) -> None:
        pass

    def last_incoming(self) -> TranscriptLine | None:
        return next((line for line in reversed(self.lines) if line.direction is Direction.IN), None)


class PendingWrites(Protocol):
    """Writes handed to the group commit and not committed yet (storage.group_commit)."""

    def pending(self) -> Sequence[object]: ...


def _entry(conversation_id: int, line: TranscriptLine, now: datetime) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "direction": line.direction,
        "kind": line.kind,
        "text": line.text,
        "telegram_message_id": line.telegram_message_id,
        "payload": line.payload,
        "created_at": line.at or now,
    }


class TranscriptService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, deferred: PendingWrites | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._deferred = deferred

    async def misunderstood_before(self, conversation_id: int) -> bool:
        """Whether the customer's previous message in this conversation was not understood
        either. Anything understood in between (a word, a press, a command) breaks the row,
        at any step of any flow and outside them, with no counter to reset. The previous
        message may still wait for the group commit: this process's are looked at first."""
        line = self._pending_incoming(conversation_id)
        if line is not None:
            payload = line.payload
        else:
            async with self._uow.transaction(reads_first=True):
                payload = await self._uow.conversations.last_incoming_payload(conversation_id)
        return bool(payload and payload.get(MISUNDERSTOOD))

    def _pending_incoming(self, conversation_id: int) -> TranscriptLine | None:
        if self._deferred is None:
            return None
        for item in reversed(self._deferred.pending()):
            if isinstance(item, TranscriptLines) and item.conversation_id == conversation_id:
                line = item.last_incoming()
                if line is not None:
                    return line
        return None

    async def record(self, conversation_id: int, lines: list[TranscriptLine]) -> None:
        """Write the lines in a transaction of their own (an update that failed)."""
        if not lines:
            return
        async with self._uow.transaction():
            written = TranscriptLines(conversation_id, lines, self._clock.now(), None)
            await TranscriptLines.write_all(self._uow, [written])
