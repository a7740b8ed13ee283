"""Keyboards of the cancellation flow: labels from templates, ids in callback data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

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


Button = tuple[str, CallbackData]


def _markup(*rows: Sequence[Button]) -> InlineKeyboardMarkup:
    """The rows as given, empty ones left out. Built directly: aiogram's builder copies
    the whole keyboard for every button it adds, a tenth of a millisecond a button on
    every step of a cancellation."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data.pack()) for text, data in row]
            for row in rows
            if row
        ]
    )


def _column(buttons: Iterable[Button]) -> list[list[Button]]:
    """One button per row."""
    return [[button] for button in buttons]


def _pairs(buttons: Sequence[Button]) -> list[Sequence[Button]]:
    """Two buttons per row."""
    return [buttons[index : index + 2] for index in range(0, len(buttons), 2)]


def orders(
    t: Texts, case_id: int, views: Iterable[OrderView], page: Page | None = None
) -> InlineKeyboardMarkup:
    """One button per order; arrows when there are more pages."""
    buttons = [
        (
            t.button(
                "order",
                order.number,
                order.placed_at,
                order.headline,
                order.total,
                order.distinction,
                order.show_time,
            ),
            PickOrder(case_id=case_id, order_id=order.id),
        )
        for order in tell_apart(list(views))
    ]
    arrows: list[Button] = []
    if page is not None and page.pages > 1:
        if page.page > 0:
            arrows.append((t.button("previous"), OrderPage(case_id=case_id, page=page.page - 1)))
        if page.page < page.pages - 1:
            arrows.append((t.button("next"), OrderPage(case_id=case_id, page=page.page + 1)))
    return _markup(*_column(buttons), arrows)


def guess(t: Texts, case_id: int, order_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [(t.button("yes_that_one"), ConfirmGuess(case_id=case_id, order_id=order_id, yes=True))],
        [
            (
                t.button("show_my_orders"),
                ConfirmGuess(case_id=case_id, order_id=order_id, yes=False),
            )
        ],
    )


def items(t: Texts, case_id: int, selection: Selection) -> InlineKeyboardMarkup:
    buttons = [
        (
            t.button("item", item.name, selection.quantities[item.id], item.quantity),
            StepItem(case_id=case_id, item_id=item.id),
        )
        for item in selection.order.items
    ]
    done: list[Button] = (
        [(t.button("items_done"), ItemsDone(case_id=case_id))] if selection.any else []
    )
    return _markup(*_column(buttons), done)


def reasons(t: Texts, case_id: int) -> InlineKeyboardMarkup:
    return _markup(
        *_column(
            (t.button("reason", code.value), PickReason(case_id=case_id, code=code))
            for code in REASONS
        )
    )


def conditions(t: Texts, case_id: int) -> InlineKeyboardMarkup:
    return _markup(
        *_column(
            (
                t.button("condition", condition.value),
                PickCondition(case_id=case_id, condition=condition),
            )
            for condition in ItemCondition
        )
    )


def photo(t: Texts, case_id: int, *, required: bool) -> InlineKeyboardMarkup:
    """Never a dead end: an optional photo can be skipped; without a required one the
    customer describes the problem in words, or asks for a person."""
    if not required:
        return _markup([(t.button("skip_photo"), SkipPhoto(case_id=case_id))])
    return _markup(
        [(t.button("no_photo"), NoPhoto(case_id=case_id))],
        [(t.button("person"), AnswerPerson(case_id=case_id, yes=True))],
    )


def decision(
    t: Texts, case_id: int, shown: Sequence[OfferView], *, eligible: bool, change_items: bool
) -> InlineKeyboardMarkup | None:
    """Each alternative with its value and a plain way out (a refusal: a person); with
    `change_items`, a way back to the items. None when there is nothing to press."""
    if eligible and not shown and not change_items:
        return None
    buttons: list[Button] = [
        (
            t.button("offer", offer.type.value, offer.value, offer.params, not eligible),
            AnswerOffer(case_id=case_id, offer_id=offer.id),
        )
        for offer in shown
    ]
    if eligible and shown:
        buttons.append((t.button("no_thanks_cancel"), AnswerOffer(case_id=case_id, offer_id=0)))
    elif not eligible:
        buttons.append((t.button("person"), AnswerPerson(case_id=case_id, yes=True)))
    if change_items:
        buttons.append((t.button("change_items"), ChangeItems(case_id=case_id)))
    return _markup(*_column(buttons))


def variants(
    t: Texts, case_id: int, offer_id: int, choices: Iterable[VariantChoice]
) -> InlineKeyboardMarkup:
    """One button per variant in stock, its values in the reader's language."""
    buttons = [
        (
            t.button("variant_choice", choice.attributes),
            PickVariant(case_id=case_id, offer_id=offer_id, choice=choice.index),
        )
        for choice in choices
    ]
    return _markup(*_pairs(buttons))


def methods(t: Texts, case_id: int, options: Iterable[RefundOption]) -> InlineKeyboardMarkup:
    return _markup(
        *_column(
            (
                t.button("method", option.method.value, option.amount),
                PickMethod(case_id=case_id, method=option.method),
            )
            for option in options
        )
    )


def summary(t: Texts, case_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            (t.button("confirm"), AnswerSummary(case_id=case_id, action=SummaryAction.CONFIRM)),
            (t.button("back"), AnswerSummary(case_id=case_id, action=SummaryAction.BACK)),
        ]
    )


def person(t: Texts, case_id: int, *, stuck: bool = False) -> InlineKeyboardMarkup:
    return _markup(
        [
            (t.button("yes_person"), AnswerPerson(case_id=case_id, yes=True, stuck=stuck)),
            (t.button("no_person"), AnswerPerson(case_id=case_id, yes=False, stuck=stuck)),
        ]
    )
