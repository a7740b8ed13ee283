"""A button press answered too late is not an error.

Telegram accepts one answer to a callback query, within about 15 seconds. An update
replayed from the inbox (its worker died, the database was down) or a handler that
waited long for its chat comes too late to answer; the press itself is still handled.
"""

from __future__ import annotations

import logging
from typing import cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

_TOO_LATE = "query is too old"


class LateCallbackAnswers(BaseRequestMiddleware):
    """Request middleware: an expired or already answered callback query is logged, not raised."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        try:
            return cast(TelegramType, await make_request(bot, method))
        except TelegramBadRequest as error:
            if not isinstance(method, AnswerCallbackQuery) or _TOO_LATE not in error.message:
                raise
            log.info(
                "callback query %s answered too late; the press was handled",
                method.callback_query_id,
            )
            return cast(TelegramType, True)
