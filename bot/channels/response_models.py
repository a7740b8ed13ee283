"""Keep aiogram's parsed-answer models alive between Bot API calls.

aiogram reads every answer through `Response[<the method's result type>]`, a pydantic
generic model that pydantic caches only weakly. Nothing else holds the class, so the
garbage collector frees it soon after each call and the next call builds it again: about
4 ms of schema work per `sendMessage` on this machine, more than the rest of a simple
update costs. Holding one reference per result type makes that a dictionary lookup.
"""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class KeepResponseModels(BaseRequestMiddleware):
    """Request middleware: one strong reference per result type, taken on its first call."""

    def __init__(self) -> None:
        self._kept: dict[Any, type[Response[Any]]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        returning = method.__returning__
        if returning not in self._kept:
            self._kept[returning] = Response[returning]  # type: ignore[valid-type]
        return cast(TelegramType, await make_request(bot, method))
