"""Ways into a cancellation: /cancel_order, the menu button, or saying so in words."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.services.container import Services
from bot.services.conversation.intents import Said
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.callbacks import MenuAction, MenuCallback
from dialogs.cancellation.flow import begin
from dialogs.filters import HAS_TEXT, CancelIntent


async def cancel_command(
    message: Message, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    await begin(message, state, services, identity, t, text=_after_command(message.text))


async def cancel_button(
    callback: CallbackQuery, state: FSMContext, services: Services, identity: Identity, t: Texts
) -> None:
    if callback.message is not None:
        await begin(callback.message, state, services, identity, t)


async def cancel_in_words(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    target: str | None,
    said: Said | None,
) -> None:
    """ "I want to cancel my order", "cancel 10O2345", "退掉我买的耳机", "不喜欢"."""
    await begin(message, state, services, identity, t, text=target, said=said)


def _after_command(text: str | None) -> str | None:
    """`/cancel_order SO-1002345` names the order right away."""
    parts = (text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else None


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cancel_command, Command("cancel_order"))
    router.callback_query.register(
        cancel_button, MenuCallback.filter(F.action == MenuAction.CANCEL)
    )
    router.message.register(cancel_in_words, StateFilter(None), HAS_TEXT, CancelIntent())
    return router
