"""The verdict on the agents' group, written at start for every process to read."""

from __future__ import annotations

from bot.services.domain.clock import Clock
from storage.uow import UnitOfWork


class DeskService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(
        self, chat_id: int | None, *, title: str | None, locale: str, problem: str | None
    ) -> None:
        """Ready when there is a group and nothing is wrong with it; `problem` says what is."""
        async with self._uow.transaction():
            await self._uow.handoffs.save_desk(
                chat_id=chat_id,
                title=title,
                locale=locale,
                ready=chat_id is not None and problem is None,
                problem=problem,
                at=self._clock.now(),
            )
