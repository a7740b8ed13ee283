"""A Telegram message as the handoff services take it (no aiogram beyond this point)."""

from __future__ import annotations

from aiogram.types import Message

from bot.services.handoff.people import RelayMessage


def relay_message(message: Message) -> RelayMessage:
    text = message.text or message.caption
    return RelayMessage(
        chat_id=message.chat.id,
        message_id=message.message_id,
        kind=str(message.content_type),
        text=text,
        html=message.html_text if text else None,
        media_group_id=message.media_group_id,
    )
