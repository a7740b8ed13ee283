"""One unit of work per update, with the services built on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.clock import Clock
from bot.services.container import ServiceConfig, Services
from storage.uow import UnitOfWork


class UnitOfWorkMiddleware(BaseMiddleware):
    """Outer middleware on `dp.update`: handlers receive `uow` and `services`.

    The session connects lazily, so an update nobody handles costs no database
    round trip; whatever a handler did not commit is rolled back at the end.
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
        async with UnitOfWork(self._session_factory) as uow:
            data["uow"] = uow
            data["services"] = Services(uow, self._clock, self._config)
            return await handler(event, data)
