"""Step 1: which order. Buttons, pages, a typed number with typos, or a product's name."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.services.cancellation.cases import Found
from bot.services.container import Services
from bot.services.conversation.transcript import TranscriptBuffer
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.callbacks import ConfirmGuess, OrderPage, PickOrder
from dialogs.cancellation import screens
from dialogs.cancellation.flow import choose, identify
from dialogs.filters import HAS_TEXT, CurrentCase
from dialogs.misunderstood import not_understood_again
from dialogs.states import CancelFlow


async def order_picked(
    callback: CallbackQuery,
    callback_data: PickOrder,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    if callback.message is not None:
        await choose(
            callback.message, state, services, identity, t, case_id, callback_data.order_id
        )


async def page_turned(
    callback: CallbackQuery,
    callback_data: OrderPage,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    if callback.message is not None:
        await screens.order_list(
            callback.message, state, services, identity, t, case_id, page=callback_data.page
        )


async def guess_answered(
    callback: CallbackQuery,
    callback_data: ConfirmGuess,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    if callback.message is None:
        return
    if callback_data.yes:
        await choose(
            callback.message, state, services, identity, t, case_id, callback_data.order_id
        )
    else:
        await screens.order_list(callback.message, state, services, identity, t, case_id)


async def order_typed(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    transcript: TranscriptBuffer,
    t: Texts,
    case_id: int,
) -> None:
    found = await identify(message, state, services, identity, t, case_id, message.text or "")
    if found is Found.NONE:  # the words named no order of theirs: not understood
        await not_understood_again(message, services, identity, transcript, t, case_id)


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(order_picked, PickOrder.filter(), CurrentCase())
    router.callback_query.register(page_turned, OrderPage.filter(), CurrentCase())
    router.callback_query.register(guess_answered, ConfirmGuess.filter(), CurrentCase())
    router.message.register(order_typed, StateFilter(CancelFlow.order), HAS_TEXT, CurrentCase())
    return router
