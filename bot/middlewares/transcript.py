"""Every message in and out of a customer chat goes into the conversation's transcript.

Incoming messages are seen here; outgoing ones are seen by `OutgoingTranscript`,
a request middleware on the bot session, which adds them to the buffer of the
update being handled (a ContextVar, so concurrent updates never mix). Both are
written with the update's last commit (storage.uow.UpdateUnitOfWork), or, when it has
nothing else to commit at its end, by the group commit shortly after, with other
updates' lines (storage.group_commit, which states the loss window); if the handler
raised, its work is rolled back and the lines are written on their own.

Before each request to Telegram, the update's work so far is committed: the bot says
only what is already true, and on SQLite no write lock is held while Telegram answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, cast

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject

from bot.services.container import Services
from bot.services.conversation.transcript import TranscriptBuffer, TranscriptLine, TranscriptLines
from bot.services.domain.phones import mask_phone
from bot.services.linking.identity import Identity
from storage.enums import Direction
from storage.uow import UpdateUnitOfWork, current_update

log = logging.getLogger(__name__)
_current: ContextVar[TranscriptBuffer | None] = ContextVar("transcript_buffer", default=None)

_OUTGOING_KINDS: dict[type[TelegramMethod[Any]], str] = {
    SendMessage: "text",
    SendPhoto: "photo",
    EditMessageText: "edit",
    EditMessageReplyMarkup: "edit_buttons",
    CopyMessage: "copy",
    AnswerCallbackQuery: "alert",
}


class TranscriptMiddleware(BaseMiddleware):
    """Inner middleware of the private-chat router, after IdentityMiddleware."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        identity: Identity | None = data.get("identity")
        if identity is None:
            return await handler(event, data)
        buffer = TranscriptBuffer()
        incoming = incoming_line(event)
        if incoming is not None:
            buffer.add(incoming)
        token = _current.set(buffer)
        services: Services = data["services"]
        data["transcript"] = buffer  # a handler marks a message it did not understand
        try:
            result = await handler(event, data)
        except BaseException:
            _current.reset(token)
            await _save_alone(services, identity.conversation_id, buffer)
            raise
        _current.reset(token)
        uow = services.uow
        if isinstance(uow, UpdateUnitOfWork):
            if buffer.lines:
                uow.stage_deferrable(
                    TranscriptLines(
                        identity.conversation_id,
                        buffer.lines,
                        services.clock.now(),
                        identity.active_at,
                    )
                )
        else:
            await _save_alone(services, identity.conversation_id, buffer)
        return result


class OutgoingTranscript(BaseRequestMiddleware):
    """Request middleware on the bot session: notes what the bot sent during an update."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        uow = current_update()
        if uow is not None:
            await uow.commit()  # what the bot is about to say must already be true
        # aiogram annotates this as Response[...], but the session hands back the result itself.
        result = cast(TelegramType, await make_request(bot, method))  # raises on an API error
        buffer = _current.get()
        kind = _OUTGOING_KINDS.get(type(method))
        if buffer is not None and kind is not None:
            line = outgoing_line(kind, method, result)
            if line is not None:
                buffer.add(line)
        return result


async def _save_alone(services: Services, conversation_id: int, buffer: TranscriptBuffer) -> None:
    """Write the update's lines after its handler failed; a failure here is logged, never
    hides the handler's own error."""
    uow = services.uow
    try:
        await uow.rollback()  # drop whatever the handler left uncommitted
        await services.transcript.record(conversation_id, buffer.lines)
        await uow.commit()
    except Exception:
        log.exception("could not save %d transcript lines", len(buffer.lines))


def incoming_line(event: TelegramObject) -> TranscriptLine | None:
    if isinstance(event, CallbackQuery):
        return TranscriptLine(Direction.IN, "button", text=event.data)
    if not isinstance(event, Message):
        return None
    if event.contact is not None:
        own = event.contact.user_id == (event.from_user.id if event.from_user else None)
        return TranscriptLine(
            Direction.IN,
            "contact",
            text=mask_phone(event.contact.phone_number),
            telegram_message_id=event.message_id,
            payload={"own": own},
        )
    if event.photo:
        return TranscriptLine(
            Direction.IN,
            "photo",
            text=event.caption,
            telegram_message_id=event.message_id,
            payload={"file_id": event.photo[-1].file_id},
        )
    if event.text is not None:
        kind = "command" if event.text.startswith("/") else "text"
        return TranscriptLine(
            Direction.IN, kind, text=event.text, telegram_message_id=event.message_id
        )
    return TranscriptLine(Direction.IN, event.content_type, telegram_message_id=event.message_id)


def outgoing_line(kind: str, method: TelegramMethod[Any], result: Any) -> TranscriptLine | None:
    text = getattr(method, "text", None) or getattr(method, "caption", None)
    if isinstance(method, AnswerCallbackQuery) and not method.text:
        return None
    message_id = result.message_id if isinstance(result, Message) else None
    markup = getattr(method, "reply_markup", None)
    payload = None
    if isinstance(markup, InlineKeyboardMarkup):
        payload = {"buttons": [b.text for row in markup.inline_keyboard for b in row]}
    return TranscriptLine(
        Direction.OUT, kind, text=text, telegram_message_id=message_id, payload=payload
    )
