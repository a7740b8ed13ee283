"""Telegram updates as a benchmark sends them."""

from __future__ import annotations

import datetime as dt
import itertools

from aiogram.types import CallbackQuery, Chat, Contact, Message, MessageEntity, Update, User

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


def _person(user_id: int, language_code: str) -> User:
    return User(id=user_id, is_bot=False, first_name="Bench", language_code=language_code)


def contact_update(user_id: int, phone: str, language_code: str = "en") -> Update:
    """The customer shares their own phone number (contact.user_id is the sender)."""
    update_id = next(_ids)
    return Update(
        update_id=update_id,
        message=Message(
            message_id=update_id,
            date=dt.datetime.now(dt.UTC),
            chat=Chat(id=user_id, type="private", first_name="Bench"),
            from_user=_person(user_id, language_code),
            contact=Contact(phone_number=phone, first_name="Bench", user_id=user_id),
        ),
    )


def callback_update(user_id: int, data: str, language_code: str = "en") -> Update:
    """A press of an inline button whose callback data is `data`."""
    update_id = next(_ids)
    return Update(
        update_id=update_id,
        callback_query=CallbackQuery(
            id=str(update_id),
            from_user=_person(user_id, language_code),
            chat_instance=str(user_id),
            message=Message(
                message_id=update_id,
                date=dt.datetime.now(dt.UTC),
                chat=Chat(id=user_id, type="private", first_name="Bench"),
                from_user=User(id=42, is_bot=True, first_name="Bench"),
                text="…",
            ),
            data=data,
        ),
    )
