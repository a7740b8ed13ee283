"""One unit of work per update, with the services built on it, committed once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.inbox import UpdateInbox, current_delivery
from bot.services.container import ServiceConfig, Services
from bot.services.domain.clock import Clock
from bot.services.outbox import OutboxSignal
from storage.group_commit import GroupCommit
from storage.uow import UpdateUnitOfWork

log = logging.getLogger(__name__)


class UpdateSignal(OutboxSignal):
    """The notifier's signal as a handler sees it: rung once the update's work, with the
    outbox rows it queued, is committed (before that the notifier would find nothing)."""

    def __init__(self, signal: OutboxSignal, uow: UpdateUnitOfWork) -> None:
        self._signal = signal
        self._uow = uow

    def kick(self) -> None:
        self._uow.after_commit(self._signal.kick)

    async def wait(self) -> None:
        await self._signal.wait()


class UnitOfWorkMiddleware(BaseMiddleware):
    """Outer middleware on `dp.update`, before the FSM: handlers receive `uow` and `services`.

    The session connects lazily, so an update nobody handles costs no database round
    trip; `UpdateCommitMiddleware` commits, inside the chat's lock; whatever is left
    uncommitted (the handler raised) is rolled back here.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: ServiceConfig,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._config = config

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with UpdateUnitOfWork(self._session_factory) as uow:
            data["uow"] = uow
            data["services"] = Services(uow, self._clock, self._config)
            signal: OutboxSignal | None = data.get("outbox_signal")
            if signal is not None:
                data["outbox_signal"] = UpdateSignal(signal, uow)
            try:
                return await handler(event, data)
            finally:
                uow.run_after_commit()  # a late kick costs nothing: the notifier also polls


class UpdateCommitMiddleware(BaseMiddleware):
    """Innermost outer middleware, inside the chat's lock: ends the update's transaction
    once its handler returned, with the FSM, the transcript and, serving Telegram, the
    update inbox's mark (`inbox`), so a replay after a crash never repeats committed work.

    When the update has nothing else to commit at its end (its work, if any, was committed
    before it answered), the transcript and the mark go to the group commit (`group`,
    storage.group_commit) instead, to be written with other updates' in one transaction
    shortly after. An update that raised is left to the runner (replayed after an outage,
    marked failed otherwise)."""

    def __init__(self, inbox: UpdateInbox | None = None, group: GroupCommit | None = None) -> None:
        self._inbox = inbox
        self._group = group

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        result = await handler(event, data)
        uow: UpdateUnitOfWork = data["uow"]
        delivery = current_delivery() if self._inbox is not None else None
        if delivery is not None and isinstance(event, Update):
            delivery.completed = True
            assert self._inbox is not None
            uow.stage_deferrable(self._inbox.handled(event.update_id))
        if self._group is not None and not await uow.has_work():
            self._group.defer(uow.take_deferrable())  # the mark ends the update's flight
        else:
            await uow.commit_all()
        if delivery is not None:
            delivery.marked = True
        return result
