"""The cancellation conversation: order, items, reason, condition, photo, policy, offers,
refund method, confirmation. One module per step; `flow` decides what comes next."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import Message

from bot.services.container import Services
from bot.services.conversation.transcript import TranscriptBuffer
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.cancellation import details, entry, order, outcome, person
from dialogs.cancellation.outcome import buttons_expected
from dialogs.filters import NO_TEXT, CurrentCase
from dialogs.misunderstood import not_understood_again
from dialogs.states import CancelFlow


def build_router() -> Router:
    """Asking for a person works at every step, so it comes first; then the ways in; then
    the steps; last, what a step does not expect (text where buttons are, a sticker)."""
    router = Router(name="cancellation")
    router.include_routers(
        person.build_router(),
        entry.build_router(),
        order.build_router(),
        details.build_router(),
        outcome.build_router(),
        _unexpected(),
    )
    return router


def _unexpected() -> Router:
    router = Router(name="cancellation.unexpected")
    for step in (
        CancelFlow.order,
        CancelFlow.reason,
        CancelFlow.reason_text,
        CancelFlow.photo_text,
    ):
        router.message.register(text_expected, StateFilter(step), NO_TEXT, CurrentCase())
    for step in (
        CancelFlow.items,
        CancelFlow.condition,
        CancelFlow.decision,
        CancelFlow.method,
        CancelFlow.confirm,
    ):
        router.message.register(buttons_expected, StateFilter(step), CurrentCase())
    return router


async def text_expected(
    message: Message,
    services: Services,
    identity: Identity,
    transcript: TranscriptBuffer,
    t: Texts,
    case_id: int,
) -> None:
    """A sticker, photo or voice note where words were asked for."""
    await message.answer(t("fallback/text_expected"))
    await not_understood_again(message, services, identity, transcript, t, case_id)
