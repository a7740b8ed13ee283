"""Inline keyboards of outbox messages, built by the notifier from each row's `keyboard` JSON.

A service that queues a message with buttons stores a spec `{"kind": …, …}` holding
everything the buttons need, since the notifier renders without the database. Each
kind has one factory here; `bot.wiring.build_notifier` passes `KEYBOARDS` on.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.conversation.surveys import KEYBOARD_KIND as SURVEY
from bot.services.conversation.surveys import STARS
from bot.services.domain.money import Money
from bot.services.merchant.cancellation import KEYBOARD_KIND as MERCHANT_OFFERS
from bot.texts import Texts
from dialogs.callbacks import AnswerOffer, RateSurvey

KeyboardFactory = Callable[[dict[str, Any], Texts], InlineKeyboardMarkup | None]


def merchant_offers(spec: dict[str, Any], t: Texts) -> InlineKeyboardMarkup | None:
    """One button per offer of a merchant's cancellation (`MerchantCancellations`)."""
    offers = spec.get("offers") or []
    if not offers:
        return None
    builder = InlineKeyboardBuilder()
    for offer in offers:
        value = Money(Decimal(offer["value"]), offer["currency"])
        builder.button(
            text=t.button("merchant_offer", offer["type"], value, offer.get("params", {})),
            callback_data=AnswerOffer(case_id=int(spec["case_id"]), offer_id=int(offer["id"])),
        )
    builder.adjust(1)
    return builder.as_markup()


def survey_stars(spec: dict[str, Any], t: Texts) -> InlineKeyboardMarkup:
    """⭐ to ⭐⭐⭐⭐⭐ for the survey `SurveyService.ask` queued, one per row so none is cut."""
    builder = InlineKeyboardBuilder()
    for stars in STARS:
        builder.button(
            text=t.button("stars", stars),
            callback_data=RateSurvey(survey_id=int(spec["survey_id"]), stars=stars),
        )
    builder.adjust(1)
    return builder.as_markup()


KEYBOARDS: dict[str, KeyboardFactory] = {MERCHANT_OFFERS: merchant_offers, SURVEY: survey_stars}
