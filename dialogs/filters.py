"""Filters shared by the flows."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.services.cancellation.reasons import CancelPhrases
from bot.services.conversation.intents import Intents, MessageReader, Topic
from bot.services.domain.locales import LOCALES
from bot.texts import Renderer


class ButtonText(Filter):
    """A reply-keyboard button was pressed: its label arrives as text, in any locale.

    The label is compared in every locale because the keyboard on the person's
    screen may predate a /language change.
    """

    def __init__(self, button: str) -> None:
        self.button = button

    async def __call__(self, message: Message, renderer: Renderer) -> bool:
        if message.text is None:
            return False
        return any(message.text == renderer.button(locale, self.button) for locale in LOCALES)


class Intent(Filter):
    """The whole message means `intent` (see bot/data/intents.toml), in any language."""

    def __init__(self, intent: str) -> None:
        self.intent = intent

    async def __call__(self, message: Message, intents: Intents) -> bool:
        return intents.matches(self.intent, message.text)


class CurrentCase(Filter):
    """The update belongs to the case this chat is working on now.

    Passes `case_id` to the handler. A button carrying another case's id (an old
    message, or tampered data) fails here and reaches the stale-button handler.
    """

    async def __call__(
        self, event: TelegramObject, state: FSMContext, callback_data: CallbackData | None = None
    ) -> bool | dict[str, Any]:
        case_id = await state.get_value("case_id")
        if not isinstance(case_id, int):
            return False
        if callback_data is not None and getattr(callback_data, "case_id", None) != case_id:
            return False
        return {"case_id": case_id}


class WantsPerson(Filter):
    """ "agent", "human", "人工": the customer asks for a person, in any words we know."""

    async def __call__(self, message: Message, cancel_phrases: CancelPhrases) -> bool:
        return message.text is not None and cancel_phrases.wants_human(message.text)


class CancelIntent(Filter):
    """Free text that starts a cancellation ("refund", "我要退货", "不喜欢", "return the
    t-shirt, wrong size"); passes the order it names, if any, as `target`, and the reason
    it gives, if any, as `said`. A question about a refund under way is not one."""

    async def __call__(self, message: Message, reader: MessageReader) -> bool | dict[str, Any]:
        if message.text is None:
            return False
        reading = reader.read(message.text)
        if reading.topic is not Topic.CANCEL:
            return False
        return {"target": reading.target, "said": reading.said}


class Reads(Filter):
    """Free text that means one of `topics` (bot/services/conversation/intents.py);
    passes `reading`."""

    def __init__(self, *topics: Topic) -> None:
        self.topics = frozenset(topics)

    async def __call__(self, message: Message, reader: MessageReader) -> bool | dict[str, Any]:
        if message.text is None:
            return False
        reading = reader.read(message.text)
        return {"reading": reading} if reading.topic in self.topics else False


# aiogram 3.31 runs every synchronous filter (an `F` rule, a bare `State`) through
# `asyncio.to_thread`: one thread hop per filter per update reaching it, 22 for one
# unknown text. The hot routers use these async filters and `StateFilter` instead.


class Has(Filter):
    """The message has `field` (text, contact, photo…), or with `present=False` lacks it:
    `F.text` and `~F.text`, without a thread hop."""

    def __init__(self, field: str, *, present: bool = True) -> None:
        self.field = field
        self.present = present

    async def __call__(self, message: Message) -> bool:
        return bool(getattr(message, self.field, None)) is self.present


class PrivateChat(Filter):
    """A message in, or a button under a message in, a private chat."""

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, CallbackQuery):
            message = event.message
            return message is not None and message.chat.type == ChatType.PRIVATE
        return isinstance(event, Message) and event.chat.type == ChatType.PRIVATE


class InChat(Filter):
    """A message in, or a button under a message in, the chat `chat_id`."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, CallbackQuery):
            return event.message is not None and event.message.chat.id == self.chat_id
        return isinstance(event, Message) and event.chat.id == self.chat_id


HAS_TEXT = Has("text")
NO_TEXT = Has("text", present=False)
HAS_CONTACT = Has("contact")
HAS_PHOTO = Has("photo")
