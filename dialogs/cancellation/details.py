"""Steps 2–4: which items (and back to them from the decision), why, in what condition,
and a photo when the policy wants one."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.services.cancellation.reasons import ReasonClassifier
from bot.services.cancellation.review import Step
from bot.services.cancellation.variants import reason_for_wish
from bot.services.container import Services
from bot.services.conversation.transcript import TranscriptBuffer
from bot.services.linking.identity import Identity
from bot.texts import Texts
from dialogs.callbacks import (
    ChangeItems,
    ItemsDone,
    NoPhoto,
    PickCondition,
    PickReason,
    SkipPhoto,
    StepItem,
)
from dialogs.cancellation import keyboards
from dialogs.cancellation.flow import show
from dialogs.filters import HAS_PHOTO, HAS_TEXT, CurrentCase
from dialogs.misunderstood import not_understood_again
from dialogs.states import CancelFlow
from storage.enums import ReasonCode


async def item_stepped(
    callback: CallbackQuery,
    callback_data: StepItem,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    """Each tap adds one more of the item, back to none after all: the keyboard is edited."""
    selection = await services.steps.step_item(identity, case_id, callback_data.item_id)
    if isinstance(callback.message, Message):  # an old one may be an InaccessibleMessage
        await callback.message.edit_reply_markup(
            reply_markup=keyboards.items(t, case_id, selection)
        )


async def items_done(
    callback: CallbackQuery,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    review = await services.steps.items_done(identity, case_id)
    if callback.message is not None:
        await show(callback.message, state, services, identity, t, case_id, review)


async def items_reopened(
    callback: CallbackQuery,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    """ "Change the items" on the decision: the earlier choice, ticked, to change."""
    review = await services.steps.reopen_items(identity, case_id)
    if isinstance(callback.message, Message):  # its offers lapsed: take their buttons away
        await callback.message.edit_reply_markup(reply_markup=None)
    if callback.message is not None:
        await show(callback.message, state, services, identity, t, case_id, review)


async def reason_picked(
    callback: CallbackQuery,
    callback_data: PickReason,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    if callback_data.code is ReasonCode.OTHER:  # their own words, next
        review = await services.steps.other_reason(identity, case_id)
    else:
        review = await services.steps.reason(identity, case_id, callback_data.code)
    if callback.message is not None:
        await show(callback.message, state, services, identity, t, case_id, review)


async def reason_typed(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    reasons: ReasonClassifier,
    transcript: TranscriptBuffer,
    t: Texts,
    case_id: int,
) -> None:
    """Free text mapped to a reason; the customer's own words are kept with it."""
    text = message.text or ""
    code = reasons.classify(text).code or reason_for_wish(text)
    if code is None:
        await message.answer(t("cancel/reason_unclear"), reply_markup=keyboards.reasons(t, case_id))
        await not_understood_again(message, services, identity, transcript, t, case_id)
        return
    review = await services.steps.reason(identity, case_id, code, text)
    await show(message, state, services, identity, t, case_id, review)


async def other_reason_described(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    reasons: ReasonClassifier,
    t: Texts,
    case_id: int,
) -> None:
    """After "Other": their words, and the closest reason if the words name one."""
    text = message.text or ""
    code = reasons.classify(text).code or ReasonCode.OTHER
    review = await services.steps.reason(identity, case_id, code, text)
    await show(message, state, services, identity, t, case_id, review)


async def condition_picked(
    callback: CallbackQuery,
    callback_data: PickCondition,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    review = await services.steps.condition(identity, case_id, callback_data.condition)
    if callback.message is not None:
        await show(callback.message, state, services, identity, t, case_id, review)


async def photo_sent(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    """Keep the largest size's file_id: agents see the photo later."""
    assert message.photo
    review = await services.steps.photo(identity, case_id, message.photo[-1].file_id)
    await message.answer(t("cancel/photo_received"))
    await show(message, state, services, identity, t, case_id, review)


async def photo_skipped(
    callback: CallbackQuery,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    review = await services.steps.photo(identity, case_id, None)
    if callback.message is not None:
        await show(callback.message, state, services, identity, t, case_id, review)


async def no_photo(
    callback: CallbackQuery,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    """ "No photo: describe it": their words instead, and a person checks the claim."""
    review = await services.steps.no_photo(identity, case_id)
    if callback.message is not None:
        await show(callback.message, state, services, identity, t, case_id, review)


async def described_without_photo(
    message: Message,
    state: FSMContext,
    services: Services,
    identity: Identity,
    t: Texts,
    case_id: int,
) -> None:
    review = await services.steps.describe_without_photo(identity, case_id, message.text or "")
    await show(message, state, services, identity, t, case_id, review)


async def photo_expected(
    message: Message,
    services: Services,
    identity: Identity,
    transcript: TranscriptBuffer,
    t: Texts,
    case_id: int,
) -> None:
    """Words, a sticker or a file where a photo was asked for: the ways on without one
    again under the answer, not only on the question far above."""
    review = await services.steps.peek(identity, case_id)
    markup = None
    if review.step is Step.PHOTO:
        markup = keyboards.photo(t, case_id, required=review.photo_required)
    await message.answer(t("cancel/photo_expected"), reply_markup=markup)
    await not_understood_again(message, services, identity, transcript, t, case_id)


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(item_stepped, StepItem.filter(), CurrentCase())
    router.callback_query.register(items_done, ItemsDone.filter(), CurrentCase())
    router.callback_query.register(items_reopened, ChangeItems.filter(), CurrentCase())
    router.callback_query.register(reason_picked, PickReason.filter(), CurrentCase())
    router.message.register(reason_typed, StateFilter(CancelFlow.reason), HAS_TEXT, CurrentCase())
    router.message.register(
        other_reason_described, StateFilter(CancelFlow.reason_text), HAS_TEXT, CurrentCase()
    )
    router.callback_query.register(condition_picked, PickCondition.filter(), CurrentCase())
    router.message.register(
        photo_sent, StateFilter(CancelFlow.photo, CancelFlow.photo_text), HAS_PHOTO, CurrentCase()
    )
    router.callback_query.register(photo_skipped, SkipPhoto.filter(), CurrentCase())
    router.callback_query.register(no_photo, NoPhoto.filter(), CurrentCase())
    router.message.register(
        described_without_photo, StateFilter(CancelFlow.photo_text), HAS_TEXT, CurrentCase()
    )
    router.message.register(photo_expected, StateFilter(CancelFlow.photo), CurrentCase())
    return router
