"""What happens when a handler fails: log it, and tell the person in their language."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent, Update

from bot.middlewares import UpdateTrace
from bot.services.domain.errors import DomainError
from bot.services.domain.locales import locale_from_language_code
from bot.texts import Renderer

log = logging.getLogger(__name__)


async def apologise(event: ErrorEvent, bot: Bot, renderer: Renderer, trace: UpdateTrace) -> None:
    """Domain errors get their own sentence; anything else is logged with its traceback."""
    error = event.exception
    if isinstance(error, DomainError):
        template = error.template
    else:
        template = "errors/generic"
        log.error("update %s failed", event.update.update_id, exc_info=error)

    await say_sorry(bot, renderer, event.update, template, trace.locale)


async def say_sorry(
    bot: Bot, renderer: Renderer, update: Update, template: str, locale: str | None = None
) -> None:
    """Send `template` to the private chat the update came from, in its sender's language."""
    message = update.message or (update.callback_query.message if update.callback_query else None)
    sender = update.message.from_user if update.message else None
    if update.callback_query is not None:
        sender = update.callback_query.from_user
    if message is None or message.chat.type != ChatType.PRIVATE:
        return
    locale = locale or locale_from_language_code(
        sender.language_code if sender else None, renderer.default_locale
    )
    # The apology itself may fail (bot blocked, Telegram down): nothing more to do then.
    with suppress(TelegramAPIError):
        await bot.send_message(message.chat.id, renderer.render(locale, template))


def build_errors_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(apologise)
    return router
