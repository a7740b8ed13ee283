"""Who is writing and in which language: injects `identity` and `t` into customer handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Chat, Message, TelegramObject, User

from bot.middlewares.update_log import UpdateTrace
from bot.services.container import Services
from bot.services.linking.identity import Sender
from bot.texts import Renderer


class IdentityMiddleware(BaseMiddleware):
    """Outer middleware of the private-chat router: private chats only (the router's own
    filter runs after it), resolved before the filters so they can read it."""

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or chat is None or chat.type != ChatType.PRIVATE:
            return await handler(event, data)
        services: Services = data["services"]
        identity = await services.identity.resolve(
            Sender(
                user_id=user.id,
                chat_id=chat.id,
                first_name=user.first_name,
                username=user.username,
                language_code=user.language_code,
                text=event.text if isinstance(event, Message) else None,
            )
        )
        data["identity"] = identity
        data["t"] = self._renderer.for_locale(identity.locale)
        trace: UpdateTrace | None = data.get("trace")
        if trace is not None:
            trace.locale = identity.locale
        return await handler(event, data)
