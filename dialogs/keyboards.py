"""Keyboard builders: labels from templates, callback data from `dialogs.callbacks`.

Keyboards that never change for a locale (the main menu, the language and resume
choices, the contact request) are built once per renderer and locale: building one
copies its pydantic buttons, ~700 copies for the main menu on every /help. Telegram
objects are never changed after they are sent, so sharing one is safe.
"""

from collections.abc import Callable, Sequence
from typing import TypeVar
from weakref import WeakKeyDictionary

from aiogram.types import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.conversation.status import RefundView
from bot.services.domain.locales import LOCALES
from bot.texts import Renderer, Texts
from dialogs.callbacks import (
    LanguageCallback,
    MenuAction,
    MenuCallback,
    RefundTimeline,
    ResumeAction,
    ResumeCallback,
)

REMOVE_KEYBOARD = ReplyKeyboardRemove()

Markup = TypeVar("Markup", InlineKeyboardMarkup, ReplyKeyboardMarkup)
_built: WeakKeyDictionary[Renderer, dict[tuple[str, str], object]] = WeakKeyDictionary()


def _once(t: Texts, name: str, build: Callable[[Texts], Markup]) -> Markup:
    """`build(t)`, built on first use for this renderer and locale, then shared."""
    per_renderer = _built.setdefault(t.renderer, {})
    key = (name, t.locale)
    markup = per_renderer.get(key)
    if markup is None:
        markup = per_renderer[key] = build(t)
    return markup  # type: ignore[return-value]


def link_keyboard(t: Texts) -> ReplyKeyboardMarkup:
    """Telegram shares the number of this account only, and only when the person taps."""
    return _once(t, "link", _link_keyboard)


def _link_keyboard(t: Texts) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t.button("share_contact"), request_contact=True)],
            [KeyboardButton(text=t.button("guest"))],
        ],
        resize_keyboard=True,
    )


def main_menu(t: Texts) -> InlineKeyboardMarkup:
    return _once(t, "main_menu", _main_menu)


def _main_menu(t: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t.button("cancel_order"), callback_data=MenuCallback(action=MenuAction.CANCEL)
    )
    builder.button(text=t.button("status"), callback_data=MenuCallback(action=MenuAction.STATUS))
    builder.button(text=t.button("person"), callback_data=MenuCallback(action=MenuAction.PERSON))
    builder.button(
        text=t.button("language"), callback_data=MenuCallback(action=MenuAction.LANGUAGE)
    )
    builder.button(text=t.button("help"), callback_data=MenuCallback(action=MenuAction.HELP))
    builder.adjust(1, 2, 2)
    return builder.as_markup()


def language_keyboard(t: Texts) -> InlineKeyboardMarkup:
    return _once(t, "language", _language_keyboard)


def _language_keyboard(t: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for locale in LOCALES:
        builder.button(
            text=t.button(f"locale_{locale}"), callback_data=LanguageCallback(locale=locale)
        )
    return builder.as_markup()


def resume_keyboard(t: Texts) -> InlineKeyboardMarkup:
    return _once(t, "resume", _resume_keyboard)


def _resume_keyboard(t: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t.button("resume"), callback_data=ResumeCallback(action=ResumeAction.RESUME)
    )
    builder.button(
        text=t.button("restart"), callback_data=ResumeCallback(action=ResumeAction.RESTART)
    )
    return builder.as_markup()


def status_keyboard(refunds: Sequence[RefundView], t: Texts) -> InlineKeyboardMarkup:
    """A timeline button per refund listed, then the main menu."""
    builder = InlineKeyboardBuilder()
    for refund in refunds:
        builder.button(
            text=t.button("refund_timeline", refund.order_number, refund.amount),
            callback_data=RefundTimeline(refund_id=refund.id),
        )
    builder.adjust(1)
    builder.attach(InlineKeyboardBuilder.from_markup(main_menu(t)))
    return builder.as_markup()


def back_to_status(t: Texts) -> InlineKeyboardMarkup:
    return _once(t, "back_to_status", _back_to_status)


def _back_to_status(t: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t.button("status"), callback_data=MenuCallback(action=MenuAction.STATUS))
    return builder.as_markup()
