"""A Bot session that answers in memory, so a benchmark measures the bot, not the network.

It also keeps the newest inline keyboard each chat was shown, so a scripted customer
(bench/conversation.py) can press the buttons the bot really offered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, Message, User

BOT_USER = User(id=42, is_bot=True, first_name="Bench", username="bench_bot")


class MemorySession(BaseSession):
    """Returns a plausible result for every method and counts the calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.buttons: dict[int, list[str]] = {}
        """chat id → callback data of the newest inline keyboard sent or edited into it."""
        self._message_id = 0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        self.calls += 1
        markup = getattr(method, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            self.buttons[int(getattr(method, "chat_id", 0) or 0)] = [
                button.callback_data
                for row in markup.inline_keyboard
                for button in row
                if button.callback_data
            ]
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
