"""Where the per-process metrics are counted: around each update and each Bot API call."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject

from bot.middlewares import UpdateTrace
from bot.telemetry.metrics import Telemetry

# Most specific first: an entity too large is a network error in aiogram's hierarchy.
_CODES: tuple[tuple[type[Exception], str], ...] = (
    (TelegramRetryAfter, "429"),
    (TelegramMigrateToChat, "400"),
    (TelegramBadRequest, "400"),
    (TelegramUnauthorizedError, "401"),
    (TelegramForbiddenError, "403"),
    (TelegramNotFound, "404"),
    (TelegramConflictError, "409"),
    (TelegramEntityTooLarge, "413"),
    (TelegramServerError, "5xx"),
    (TelegramNetworkError, "network"),
    (ClientDecodeError, "decode"),
)


def error_code(error: Exception) -> str:
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return "other"


class UpdateMetrics(BaseMiddleware):
    """Outer middleware on `dp.update`, inside the update log: counts each update by the
    handler the log line names and how it ended, and times it."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            trace = data.get("trace")
            name = trace.handler if isinstance(trace, UpdateTrace) and trace.handler else "-"
            self._telemetry.update_handled(name, outcome, time.perf_counter() - started)


class TelegramApiMetrics(BaseRequestMiddleware):
    """Request middleware on the bot session: API errors by code, and polling's heartbeat."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        try:
            result = cast(TelegramType, await make_request(bot, method))
        except (TelegramAPIError, ClientDecodeError) as error:
            self._telemetry.telegram_error(method.__api_method__, error_code(error))
            raise
        if isinstance(method, GetUpdates):
            self._telemetry.polled()
        return result
