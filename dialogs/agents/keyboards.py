"""The case card's buttons, built when the notifier sends the card."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.handoff.card import Card
from bot.texts import Texts
from dialogs.agents.callbacks import AgentCallback


def card_keyboard(card: Card, t: Texts) -> InlineKeyboardMarkup | None:
    """Two buttons a row; none once the case is closed."""
    if not card.buttons:
        return None
    builder = InlineKeyboardBuilder()
    for button in card.buttons:
        builder.button(
            text=t("agent/plain/button", name=button.action.value),
            callback_data=AgentCallback(
                handoff_id=card.handoff_id, action=button.action, refund_id=button.refund_id
            ),
        )
    builder.adjust(2)
    return builder.as_markup()
