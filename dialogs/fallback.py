"""Last resort: anything no step understood gets an answer, never silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.conversation.transcript import TranscriptBuffer
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.keyboards import link_keyboard, main_menu
from dialogs.misunderstood import not_understood_again


async def stale_button(callback: CallbackQuery, callback_answer: CallbackAnswer, t: Texts) -> None:
    """A button from an old message, or one whose data no longer parses."""
    callback_answer.text = t("plain/stale_button")
    callback_answer.show_alert = True


async def say_not_understood(message: Message, identity: Identity, t: Texts) -> None:
    markup = main_menu(t) if identity.linked else link_keyboard(t)
    await message.answer(t("fallback/not_understood"), reply_markup=markup)


async def not_understood(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    transcript: TranscriptBuffer,
    t: Texts,
) -> None:
    """What the bot can do; the second time in a row, a person too."""
    await say_not_understood(message, identity, t)
    case_id = await state.get_value("case_id")
    await not_understood_again(
        message, services, identity, transcript, t, case_id if isinstance(case_id, int) else 0
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(stale_button)
    router.message.register(not_understood)
    return router
