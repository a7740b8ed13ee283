"""One log line per update: id, chat, handler, outcome and milliseconds."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.types import Chat, TelegramObject, Update, User

log = logging.getLogger("bot.updates")


@dataclass(slots=True)
class UpdateTrace:
    """Filled in while an update travels inward, read on its way out (and by error handlers)."""

    handler: str | None = None
    locale: str | None = None


class UpdateLogMiddleware(BaseMiddleware):
    """Outer middleware on `dp.update`: times the update and logs how it ended."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        trace = data["trace"] = UpdateTrace()
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            if log.isEnabledFor(logging.INFO):
                chat: Chat | None = data.get("event_chat")
                user: User | None = data.get("event_from_user")
                log.info(
                    "update=%s type=%s chat=%s user=%s handler=%s outcome=%s ms=%.1f",
                    event.update_id if isinstance(event, Update) else "-",
                    event.event_type if isinstance(event, Update) else type(event).__name__,
                    chat.id if chat else "-",
                    user.id if user else "-",
                    trace.handler or "-",
                    outcome,
                    (time.perf_counter() - started) * 1000,
                )


class HandlerTraceMiddleware(BaseMiddleware):
    """Inner middleware: notes which handler was chosen, for the update's log line."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chosen: HandlerObject | None = data.get("handler")
        trace: UpdateTrace | None = data.get("trace")
        if chosen is not None and trace is not None:
            callback = chosen.callback
            trace.handler = f"{callback.__module__}.{callback.__qualname__}"
        return await handler(event, data)
