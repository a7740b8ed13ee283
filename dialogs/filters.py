"""Filters shared by the flows."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Message

from bot.services.intents import Intents
from bot.services.locales import LOCALES
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
