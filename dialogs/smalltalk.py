"""Everyday words outside any flow: a question about a refund in a sentence, a greeting,
thanks, goodbye, "ok". Each gets a real answer rather than "I did not understand".

Cancellations asked for in words go to the cancellation's own entry (dialogs.filters.
CancelIntent); this router, tried just before the fallback, takes what is left that
`MessageReader` still understands.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import Message

from bot.services.container import Services
from bot.services.conversation.intents import Reading, Topic
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.filters import HAS_TEXT, Reads
from dialogs.keyboards import link_keyboard, main_menu
from dialogs.screens import greet
from dialogs.status import show_status

_REPLIES = {
    Topic.THANKS: "smalltalk/thanks",
    Topic.GOODBYE: "smalltalk/goodbye",
    Topic.ACK: "smalltalk/ack",
}


async def status_asked(message: Message, services: Services, identity: Identity, t: Texts) -> None:
    """ "Hi, when will I get my refund?": the same answer as /status."""
    await show_status(message, services, identity, t)


async def greeted(message: Message, identity: Identity, t: Texts) -> None:
    """ "hi", "你好，在吗？": the welcome, with what the bot can do."""
    await greet(message, identity, t)


async def small_talk(message: Message, reading: Reading, identity: Identity, t: Texts) -> None:
    """Thanks, goodbye, "ok": a short friendly answer and the way on."""
    markup = main_menu(t) if identity.linked else link_keyboard(t)
    await message.answer(t(_REPLIES[reading.topic]), reply_markup=markup)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(StateFilter(None), HAS_TEXT)
    router.message.register(status_asked, Reads(Topic.STATUS))
    router.message.register(greeted, Reads(Topic.GREETING))
    router.message.register(small_talk, Reads(*_REPLIES))
    return router
