"""A Bot session that answers in memory, so a benchmark measures the bot, not the network."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message, User

BOT_USER = User(id=42, is_bot=True, first_name="Bench", username="bench_bot")


class MemorySession(BaseSession):
    """Returns a plausible result for every method and counts the calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self._message_id = 0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        self.calls += 1
        returning: Any = method.__returning__
        if returning is Message:
            self._message_id += 1
            chat_id = int(getattr(method, "chat_id", 0) or 0)
            return Message(  # type: ignore[return-value]
                message_id=self._message_id,
                date=dt.datetime.now(dt.UTC),
                chat=Chat(id=chat_id, type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
            )
        if returning is User:
            return BOT_USER  # type: ignore[return-value]
        return True  # type: ignore[return-value]

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError
        yield b""  # pragma: no cover

    async def close(self) -> None:
        return None
