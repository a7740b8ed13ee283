"""Steps 5–7: the offers, how to be paid back, and the confirmation that executes it."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.cancellation.alternatives import Accepted
from bot.services.cancellation.service import Outcome
from bot.services.cancellation.steps import OfferAnswer
from bot.services.container import Services
from bot.services.conversation.intents import MessageReader, Topic
from bot.services.conversation.transcript import TranscriptBuffer
from bot.services.linking.identity import Identity
from bot.services.outbox import OutboxSignal
from bot.texts import Texts
from dialogs.callbacks import AnswerOffer, AnswerSummary, PickMethod, PickVariant, SummaryAction
from dialogs.cancellation import screens
from dialogs.cancellation.flow import advance, show
from dialogs.filters import CurrentCase
from dialogs.misunderstood import not_understood_again


async def offer_answered(
    callback: CallbackQuery,
    callback_data: AnswerOffer,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
    case_id: int,
) -> None:
    if callback.message is None:
        return
    if callback_data.offer_id == 0:  # "No thanks": on to the refund
        review = await services.steps.decline_offers(identity, case_id)
        await show(callback.message, state, services, identity, t, case_id, review)
        return
    answer = await services.steps.answer_offer(identity, case_id, callback_data.offer_id)
    if answer.outcome.result is Accepted.CHOOSE_VARIANT:  # an exchange: which variant?
        await screens.variants(
            callback.message, t, case_id, callback_data.offer_id, answer.outcome.choices
        )
        return
    await _settle(
        callback, callback_answer, state, services, identity, outbox_signal, t, case_id, answer
    )


async def variant_picked(
    callback: CallbackQuery,
    callback_data: PickVariant,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
    case_id: int,
) -> None:
    """The variant an exchange sends, picked from the list of those in stock."""
    answer = await services.steps.answer_offer(
        identity, case_id, callback_data.offer_id, callback_data.choice
    )
    if callback.message is not None and answer.outcome.result is Accepted.CHOOSE_VARIANT:
        # The list changed since it was shown (a variant sold out): here it is again.
        choices = answer.outcome.choices
        await screens.variants(callback.message, t, case_id, callback_data.offer_id, choices)
        return
    await _settle(
        callback, callback_answer, state, services, identity, outbox_signal, t, case_id, answer
    )


async def _settle(
    callback: CallbackQuery,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
    case_id: int,
    answer: OfferAnswer,
) -> None:
    """Saved (the receipt is in the outbox), store credit chosen, or what is offered now."""
    if callback.message is None:
        return
    if answer.outcome.result is Accepted.UNAVAILABLE:  # "here is what I can offer now"
        callback_answer.text, callback_answer.show_alert = t("plain/offer_unavailable"), True
    if answer.next is not None:
        await show(callback.message, state, services, identity, t, case_id, answer.next)
    else:
        if isinstance(callback.message, Message):  # not an InaccessibleMessage
            await callback.message.edit_reply_markup(reply_markup=None)
        await state.clear()
        outbox_signal.kick()


async def method_picked(
    callback: CallbackQuery,
    callback_data: PickMethod,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    review = await services.steps.method(identity, case_id, callback_data.method)
    if callback.message is not None:
        await show(callback.message, state, services, identity, t, case_id, review)


async def summary_answered(
    callback: CallbackQuery,
    callback_data: AnswerSummary,
    state: FSMContext,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
    case_id: int,
) -> None:
    message = callback.message
    if message is None:
        return
    if callback_data.action is SummaryAction.BACK:  # back to the offers, not the summary
        review = await services.steps.back_to_offers(identity, case_id)
        await show(message, state, services, identity, t, case_id, review)
        return
    confirmation = await services.cancellation.confirm(identity, case_id)
    if confirmation.outcome in (Outcome.DONE, Outcome.ALREADY_DONE):
        await state.clear()
        if isinstance(message, Message):
            await message.edit_reply_markup(reply_markup=None)
        if confirmation.outcome is Outcome.DONE:
            outbox_signal.kick()  # the receipt is in the outbox: send it now
        else:
            await message.answer(t("cancel/already_confirmed", order=confirmation.order))
    elif confirmation.outcome is Outcome.IN_PROGRESS:
        await state.clear()
        await message.answer(t("cancel/order_in_progress", order=confirmation.order, status=None))
    elif confirmation.outcome is Outcome.CHANGED:
        await message.answer(t("cancel/terms_changed"))
        await advance(message, state, services, identity, t, case_id)
    else:
        await advance(message, state, services, identity, t, case_id)


async def buttons_expected(
    message: Message,
    services: Services,
    identity: Identity,
    reader: MessageReader,
    transcript: TranscriptBuffer,
    t: Texts,
    case_id: int,
) -> None:
    """Text where a button was asked for; twice in a row and a person is offered. Thanks,
    "ok" or goodbye were understood: a friendly answer, not counted as a misunderstanding."""
    topic = reader.read(message.text).topic if message.text else None
    if topic in _COURTESIES:
        await message.answer(t("cancel/use_buttons", courtesy=topic))
        return
    await message.answer(t("cancel/use_buttons"))
    await not_understood_again(message, services, identity, transcript, t, case_id)


_COURTESIES = frozenset({Topic.THANKS, Topic.ACK, Topic.GOODBYE})


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(offer_answered, AnswerOffer.filter(), CurrentCase())
    router.callback_query.register(variant_picked, PickVariant.filter(), CurrentCase())
    router.callback_query.register(method_picked, PickMethod.filter(), CurrentCase())
    router.callback_query.register(summary_answered, AnswerSummary.filter(), CurrentCase())
    return router
