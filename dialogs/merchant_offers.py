"""Presses on the offers a merchant's cancellation sent (see `dialogs.outbox_keyboards`).

They carry `AnswerOffer` like the cancellation dialog's offers, but arrive outside any
dialog: the chat's FSM holds no case, or another one. So this router comes after the
cancellation flow (which takes presses for the chat's current case) and before the
fallback; the service checks that the case holds a merchant's offers made to the
presser, and anything else gets the same answer as any stale button.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.container import Services
from bot.services.linking.identity import Identity
from bot.services.merchant.offers import Taken
from bot.services.outbox import OutboxSignal
from bot.texts import Texts
from dialogs.callbacks import AnswerOffer


async def offer_pressed(
    callback: CallbackQuery,
    callback_data: AnswerOffer,
    callback_answer: CallbackAnswer,
    services: Services,
    identity: Identity,
    outbox_signal: OutboxSignal,
    t: Texts,
) -> None:
    offers = services.merchant_offers
    taken = await offers.accept(identity, callback_data.case_id, callback_data.offer_id)
    if taken.result is Taken.NOT_FOUND:
        callback_answer.text, callback_answer.show_alert = t("plain/stale_button"), True
    elif taken.result is Taken.UNAVAILABLE:
        # The other offers may still stand (only a sold-out exchange lapsed): buttons stay.
        callback_answer.text = t("plain/merchant_offer_unavailable")
        callback_answer.show_alert = True
    elif taken.result is Taken.ACCEPTED:
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=None)
        outbox_signal.kick()  # the receipt is in the outbox: send it now
    # Taken.ALREADY: a double tap; the first press answered it.


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(offer_pressed, AnswerOffer.filter(F.offer_id > 0))
    return router
