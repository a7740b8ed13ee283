"""Keyboards of the cancellation flow: labels from templates, ids in callback data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.cancellation.alternatives import VariantChoice
from bot.services.cancellation.cases import OrderPage as Page
from bot.services.cancellation.cases import Selection
from bot.services.cancellation.review import OfferView
from bot.services.conversation.views import OrderView, tell_apart
from bot.services.policy import RefundOption
from bot.texts import Texts
from dialogs.callbacks import (
    AnswerOffer,
    AnswerPerson,
    AnswerSummary,
    ChangeItems,
    ConfirmGuess,
    ItemsDone,
    NoPhoto,
    OrderPage,
    PickCondition,
    PickMethod,
    PickOrder,
    PickReason,
    PickVariant,
    SkipPhoto,
    StepItem,
    SummaryAction,
)
from storage.enums import ItemCondition, ReasonCode

REASONS = (
    ReasonCode.CHANGED_MIND,
    ReasonCode.MISTAKE,
    ReasonCode.FOUND_CHEAPER,
    ReasonCode.LATE_DELIVERY,
    ReasonCode.WRONG_ITEM,
    ReasonCode.WRONG_SIZE,
    ReasonCode.DEFECTIVE,
    ReasonCode.NOT_AS_DESCRIBED,
    ReasonCode.BOOKING_CHANGED,
    ReasonCode.OTHER,
)


def orders(
    t: Texts, case_id: int, views: Iterable[OrderView], page: Page | None = None
) -> InlineKeyboardMarkup:
    """One button per order; arrows when there are more pages."""
    builder = InlineKeyboardBuilder()
    for order in tell_apart(list(views)):
        label = (order.number, order.placed_at, order.headline, order.total)
        builder.button(
            text=t.button("order", *label, order.distinction, order.show_time),
            callback_data=PickOrder(case_id=case_id, order_id=order.id),
        )
    builder.adjust(1)
    if page is not None and page.pages > 1:
        arrows = InlineKeyboardBuilder()
        if page.page > 0:
            arrows.button(
                text=t.button("previous"),
                callback_data=OrderPage(case_id=case_id, page=page.page - 1),
            )
        if page.page < page.pages - 1:
            arrows.button(
                text=t.button("next"), callback_data=OrderPage(case_id=case_id, page=page.page + 1)
            )
        builder.attach(arrows)
    return builder.as_markup()


def guess(t: Texts, case_id: int, order_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t.button("yes_that_one"),
        callback_data=ConfirmGuess(case_id=case_id, order_id=order_id, yes=True),
    )
    builder.button(
        text=t.button("show_my_orders"),
        callback_data=ConfirmGuess(case_id=case_id, order_id=order_id, yes=False),
    )
    builder.adjust(1)
    return builder.as_markup()


def items(t: Texts, case_id: int, selection: Selection) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in selection.order.items:
        builder.button(
            text=t.button("item", item.name, selection.quantities[item.id], item.quantity),
            callback_data=StepItem(case_id=case_id, item_id=item.id),
        )
    builder.adjust(1)
    if selection.any:
        done = InlineKeyboardBuilder()
        done.button(text=t.button("items_done"), callback_data=ItemsDone(case_id=case_id))
        builder.attach(done)
    return builder.as_markup()


def reasons(t: Texts, case_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in REASONS:
        builder.button(
            text=t.button("reason", code.value),
            callback_data=PickReason(case_id=case_id, code=code),
        )
    builder.adjust(1)
    return builder.as_markup()


def conditions(t: Texts, case_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for condition in ItemCondition:
        builder.button(
            text=t.button("condition", condition.value),
            callback_data=PickCondition(case_id=case_id, condition=condition),
        )
    builder.adjust(1)
    return builder.as_markup()


def photo(t: Texts, case_id: int, *, required: bool) -> InlineKeyboardMarkup:
    """Never a dead end: an optional photo can be skipped; without a required one the
    customer describes the problem in words, or asks for a person."""
    builder = InlineKeyboardBuilder()
    if not required:
        builder.button(text=t.button("skip_photo"), callback_data=SkipPhoto(case_id=case_id))
        return builder.as_markup()
    builder.button(text=t.button("no_photo"), callback_data=NoPhoto(case_id=case_id))
    builder.button(text=t.button("person"), callback_data=AnswerPerson(case_id=case_id, yes=True))
    builder.adjust(1)
    return builder.as_markup()


def decision(
    t: Texts, case_id: int, shown: Sequence[OfferView], *, eligible: bool, change_items: bool
) -> InlineKeyboardMarkup | None:
    """Each alternative with its value and a plain way out (a refusal: a person); with
    `change_items`, a way back to the items. None when there is nothing to press."""
    if eligible and not shown and not change_items:
        return None
    builder = InlineKeyboardBuilder()
    for offer in shown:
        builder.button(
            text=t.button("offer", offer.type.value, offer.value, offer.params, not eligible),
            callback_data=AnswerOffer(case_id=case_id, offer_id=offer.id),
        )
    if eligible and shown:
        builder.button(
            text=t.button("no_thanks_cancel"),
            callback_data=AnswerOffer(case_id=case_id, offer_id=0),
        )
    elif not eligible:
        builder.button(
            text=t.button("person"), callback_data=AnswerPerson(case_id=case_id, yes=True)
        )
    if change_items:
        builder.button(text=t.button("change_items"), callback_data=ChangeItems(case_id=case_id))
    builder.adjust(1)
    return builder.as_markup()


def variants(
    t: Texts, case_id: int, offer_id: int, choices: Iterable[VariantChoice]
) -> InlineKeyboardMarkup:
    """One button per variant in stock, its values in the reader's language."""
    builder = InlineKeyboardBuilder()
    for choice in choices:
        builder.button(
            text=t.button("variant_choice", choice.attributes),
            callback_data=PickVariant(case_id=case_id, offer_id=offer_id, choice=choice.index),
        )
    builder.adjust(2)
    return builder.as_markup()


def methods(t: Texts, case_id: int, options: Iterable[RefundOption]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for option in options:
        builder.button(
            text=t.button("method", option.method.value, option.amount),
            callback_data=PickMethod(case_id=case_id, method=option.method),
        )
    builder.adjust(1)
    return builder.as_markup()


def summary(t: Texts, case_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t.button("confirm"),
        callback_data=AnswerSummary(case_id=case_id, action=SummaryAction.CONFIRM),
    )
    builder.button(
        text=t.button("back"),
        callback_data=AnswerSummary(case_id=case_id, action=SummaryAction.BACK),
    )
    builder.adjust(2)
    return builder.as_markup()


def person(t: Texts, case_id: int, *, stuck: bool = False) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t.button("yes_person"),
        callback_data=AnswerPerson(case_id=case_id, yes=True, stuck=stuck),
    )
    builder.button(
        text=t.button("no_person"),
        callback_data=AnswerPerson(case_id=case_id, yes=False, stuck=stuck),
    )
    builder.adjust(2)
    return builder.as_markup()
