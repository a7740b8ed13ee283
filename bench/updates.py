"""Telegram updates as a benchmark sends them."""

from __future__ import annotations

import datetime as dt
import itertools

from aiogram.types import Chat, Message, MessageEntity, Update, User

_ids = itertools.count(1)


def text_update(user_id: int, text: str, language_code: str = "en") -> Update:
    update_id = next(_ids)
    entities = None
    if text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    return Update(
        update_id=update_id,
        message=Message(
            message_id=update_id,
            date=dt.datetime.now(dt.UTC),
            chat=Chat(id=user_id, type="private", first_name="Bench"),
            from_user=User(
                id=user_id, is_bot=False, first_name="Bench", language_code=language_code
            ),
            text=text,
            entities=entities,
        ),
    )
